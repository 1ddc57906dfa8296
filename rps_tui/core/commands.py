"""The command connection: everything that is not the subscriber's read loop.

PUBLISH, PUBSUB NUMSUB/CHANNELS, PING for latency and INFO for the header run here, on a
separate connection, so a slow command never stalls the subscriber and a firehose never
delays a publish. The async client runs on the UI's event loop; `probe` is the synchronous
check the CLI makes before the screen opens.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import redis
import redis.asyncio as aredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.errors import describe_error
from rps_tui.core.settings import ConnectionSettings


class ConnectError(Exception):
    """Could not reach or log in to the server: the CLI prints it and exits with status 1."""


@dataclass(frozen=True, slots=True)
class ServerInfo:
    kind: str  # "Redis" | "Valkey"
    version: str
    mode: str  # standalone | cluster | sentinel

    @property
    def label(self) -> str:
        return f"{self.kind} {self.version}" + (
            "" if self.mode == "standalone" else f" {self.mode}"
        )


def parse_info(info: dict) -> ServerInfo:
    if "valkey_version" in info or info.get("server_name") == "valkey":
        kind, version = "Valkey", str(info.get("valkey_version") or info.get("redis_version"))
    else:
        kind, version = "Redis", str(info.get("redis_version", "?"))
    return ServerInfo(kind, version, str(info.get("redis_mode", "standalone")))


def probe(settings: ConnectionSettings, timeout: float = 5.0) -> ServerInfo:
    """Connect, authenticate and read INFO server, or raise ConnectError with one line."""
    # no retries: redis-py's default (3, with backoff) makes a refused password take 5 s
    client = redis.Redis(
        **settings.redis_kwargs(socket_timeout=timeout, retry=Retry(NoBackoff(), 0))
    )
    try:
        try:
            return parse_info(client.info("server"))
        except redis.ResponseError:  # an ACL without INFO: fine, if it answers at all
            client.ping()
            return ServerInfo("server", "(INFO refused)", "standalone")
    except (redis.RedisError, OSError) as exc:
        message = describe_error(exc, settings)
        if not settings.tls and ("reset by peer" in message or "closed by server" in message):
            message += " (is it a TLS port? use rediss:// or --tls)"  # hung up on plain text
        raise ConnectError(message) from None
    finally:
        client.close()


class Commands:
    """Async commands on their own connection; every method raises `CommandError` with one line."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.settings = settings
        self.client = aredis.Redis(  # no retries: a retried PUBLISH could deliver twice
            **settings.redis_kwargs(socket_timeout=5.0, retry=AsyncRetry(NoBackoff(), 0))
        )
        self._sync_client: redis.Redis | None = None

    async def _call(self, *args: str | bytes) -> object:
        try:
            return await self.client.execute_command(*args)
        except (redis.RedisError, OSError) as exc:
            raise CommandError(describe_error(exc, self.settings)) from None

    async def publish(self, channel: str, message: str) -> int:
        return int(await self._call("PUBLISH", channel, message))  # type: ignore[arg-type]

    async def ping_ms(self) -> float:
        """Round trip of a PING, timed in a thread on its own connection: timed on the UI's
        event loop it would include the loop's scheduling delay (~10 ms under Textual)."""
        return await asyncio.to_thread(self._ping_sync)

    def _ping_sync(self) -> float:
        if self._sync_client is None:
            self._sync_client = redis.Redis(**self.settings.redis_kwargs(socket_timeout=5.0))
        try:
            self._sync_client.ping()  # connects on first use: not part of the round trip
            start = time.perf_counter()
            self._sync_client.ping()
            return (time.perf_counter() - start) * 1000
        except (redis.RedisError, OSError) as exc:
            raise CommandError(describe_error(exc, self.settings)) from None

    async def numsub(self, channels: list[bytes]) -> dict[bytes, int]:
        if not channels:
            return {}
        flat = list(await self._call("PUBSUB", "NUMSUB", *channels))  # type: ignore[call-overload]
        return {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}

    async def active_channels(self, pattern: str = "*") -> list[bytes]:
        reply = await self._call("PUBSUB", "CHANNELS", pattern)
        return sorted(reply)  # type: ignore[arg-type]

    async def numpat(self) -> int:
        return int(await self._call("PUBSUB", "NUMPAT"))  # type: ignore[arg-type]

    async def info(self) -> ServerInfo:
        try:
            return parse_info(await self.client.info("server"))
        except (redis.RedisError, OSError) as exc:
            raise CommandError(describe_error(exc, self.settings)) from None

    async def subscriber_omem(self, client_id: object) -> int | None:
        """Bytes the server holds for our subscriber connection (`omem` in CLIENT LIST)."""
        if not isinstance(client_id, int):
            return None
        reply = await self._call("CLIENT", "LIST", "ID", str(client_id))
        for field in bytes(reply).split():  # type: ignore[arg-type]
            if field.startswith(b"omem="):
                return int(field[5:])
        return None

    async def pubsub_limit(self) -> tuple[int, int, int] | None:
        """(hard, soft, soft seconds) of client-output-buffer-limit pubsub; None if hidden
        (an ACL without CONFIG) or unlimited."""
        try:
            reply = await self._call("CONFIG", "GET", "client-output-buffer-limit")
        except CommandError:
            return None
        value = reply.get(b"client-output-buffer-limit") if isinstance(reply, dict) else None
        words = bytes(value or b"").decode().split()
        for i, word in enumerate(words[:-3]):
            if word == "pubsub":
                hard, soft, secs = (_bytes_value(w) for w in words[i + 1 : i + 4])
                return (hard, soft, secs) if hard or soft else None
        return None

    async def close(self) -> None:
        await self.client.aclose()
        if self._sync_client is not None:
            self._sync_client.close()


def _bytes_value(word: str) -> int:
    """CONFIG GET gives bytes, but be lenient with '32mb'-style values."""
    units = {"kb": 1000, "k": 1000, "mb": 10**6, "m": 10**6, "gb": 10**9, "g": 10**9}
    lower = word.lower()
    for suffix, factor in units.items():
        if lower.endswith(suffix) and lower[: -len(suffix)].isdigit():
            return int(lower[: -len(suffix)]) * factor
    return int(lower) if lower.isdigit() else 0


class CommandError(Exception):
    """A command failed; the message is one line for the UI."""
