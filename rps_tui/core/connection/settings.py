"""Connection settings: redis-cli's options and URLs folded into one validated object.

Parsing happens once, before the screen opens, so every mistake becomes a one-line
usage error instead of a traceback from deep inside a connection attempt.
"""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_URL = "redis://127.0.0.1:6379/0"
SCHEMES = ("redis", "rediss", "unix")


class UsageError(ValueError):
    """A bad option or URL: the CLI prints the message and exits with status 2."""


@dataclass(frozen=True)
class ConnectionSettings:
    """Where and how to connect. The password is kept out of `address` and `repr`."""

    host: str = "127.0.0.1"
    port: int = 6379
    db: int = 0
    unix_path: str | None = None
    username: str | None = None
    password: str | None = None
    tls: bool = False
    cacert: str | None = None
    cert: str | None = None
    key: str | None = None
    insecure: bool = False
    # the deployment: one server (default), a cluster reached through this node, or the
    # master that these sentinels name
    cluster: bool = False
    sentinels: tuple[tuple[str, int], ...] = ()
    master: str | None = None
    sentinel_password: str | None = None  # sentinels' own `requirepass`, if any
    watch_sentinel: bool = False  # this server is a Sentinel, watched for its own events

    @property
    def mode(self) -> str:
        return "sentinel" if self.sentinels else "cluster" if self.cluster else "standalone"

    def __repr__(self) -> str:  # never leak the password into logs or tracebacks
        shown = "***" if self.password or self.sentinel_password else None
        return f"ConnectionSettings(address={self.address!r}, user={self.username!r}, pass={shown})"

    @property
    def address(self) -> str:
        """What the header shows: host:port/db or the socket path; no credentials."""
        tls = " (tls)" if self.tls else ""
        if self.sentinels:
            first_host, first_port = self.sentinels[0]
            more = f" +{len(self.sentinels) - 1}" if len(self.sentinels) > 1 else ""
            return f"sentinel {first_host}:{first_port}{more} master {self.master}/{self.db}{tls}"
        if self.cluster:
            return f"cluster via {self.node}{tls}"
        if self.unix_path:
            where = f"unix:{self.unix_path}"
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            where = f"{host}:{self.port}"
        return f"{where}/{self.db}" + (" (tls)" if self.tls else "")

    @property
    def node(self) -> str:
        """host:port (or the socket path) of this one connection: names a cluster node."""
        if self.unix_path:
            return self.unix_path
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def at(self, host: str, port: int) -> ConnectionSettings:
        """One node of this deployment: the same credentials and TLS, at host:port."""
        return replace(
            self, host=host, port=port, unix_path=None, cluster=False, sentinels=(), master=None
        )

    def redis_kwargs(self, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for `redis.Redis` / `redis.asyncio.Redis`."""
        kw: dict[str, Any] = {
            "db": self.db,
            "username": self.username,
            "password": self.password,
            "socket_connect_timeout": 5.0,
        }
        if self.unix_path:
            kw["unix_socket_path"] = self.unix_path
        else:
            kw["host"] = self.host
            kw["port"] = self.port
        if self.tls:
            kw.update(
                ssl=True,
                ssl_ca_certs=self.cacert,
                ssl_certfile=self.cert,
                ssl_keyfile=self.key,
                ssl_cert_reqs="none" if self.insecure else "required",
                ssl_check_hostname=not self.insecure,
            )
        kw.update(extra)
        return kw

    def with_overrides(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        db: int | None = None,
        username: str | None = None,
        password: str | None = None,
        tls: bool = False,
        cacert: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        insecure: bool = False,
    ) -> ConnectionSettings:
        """Apply command-line options on top of a URL, as redis-cli does (options win)."""
        s = self
        if host is not None:
            s = replace(s, host=host, unix_path=None)
        if port is not None:
            if not 0 < port < 65536:
                raise UsageError(f"port {port} is out of range (1-65535)")
            s = replace(s, port=port, unix_path=None)
        if db is not None:
            if db < 0:
                raise UsageError(f"database number {db} must not be negative")
            s = replace(s, db=db)
        if username is not None:
            s = replace(s, username=username)
        if password is not None:
            s = replace(s, password=password)
        if tls or cacert or cert or key:
            s = replace(s, tls=True)
        for name, value in (("cacert", cacert), ("cert", cert), ("key", key)):
            if value is not None:
                if not Path(value).is_file():
                    raise UsageError(f"--{name} {value}: no such file")
                s = replace(s, **{name: value})
        if (s.cert is None) != (s.key is None):
            raise UsageError("--cert and --key go together: give both or neither")
        _check_pem(cacert, s.cert if cert or key else None, s.key if cert or key else None)
        if insecure:
            s = replace(s, insecure=True)
        return s


def _check_pem(cacert: str | None, cert: str | None, key: str | None) -> None:
    """Load the files as the TLS handshake will, so a file that is no certificate is named
    as such now (it was reported as a failed handshake, with a client-certificate hint)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cacert is not None:
        try:
            context.load_verify_locations(cafile=cacert)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise UsageError(
                f"--cacert {cacert}: not a PEM certificate ({_ssl_reason(exc)})"
            ) from None
    if cert is not None and key is not None:
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise UsageError(
                f"--cert {cert} / --key {key}: not a certificate and its private key "
                f"({_ssl_reason(exc)})"
            ) from None


def _ssl_reason(exc: BaseException) -> str:
    """OpenSSL's reason in words: NO_CERTIFICATE_OR_CRL_FOUND -> 'no certificate or crl
    found'; its unhelpful 'PEM lib' (any unreadable PEM) -> 'unreadable PEM'."""
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
    text = re.sub(r"\s*\(_ssl\.c:\d+\)|\[SSL\]\s*", "", str(reason))
    text = text.replace("_", " ").strip().lower()
    return "unreadable PEM" if text in ("pem lib", "") else text


def parse_url(url: str) -> ConnectionSettings:
    """Parse redis://, rediss:// or unix:// into settings, with messages a person can act on."""
    text = url.strip()
    if "://" not in text:
        raise UsageError(f"malformed URL {_mask(text)!r}: expected redis://host:port/db")
    try:
        parts = urlsplit(text)
    except ValueError:  # "Invalid IPv6 URL": a '[' without its ']'
        raise UsageError(
            f"malformed URL {_mask(text)!r}: a '[' without its ']' (an IPv6 host is written "
            "redis://[::1]:6379/0)"
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UsageError(
            f"unsupported URL scheme {scheme!r} in {_mask(text)!r}: use redis://, rediss:// or unix://"
        )
    if scheme != "unix" and "@" in text.partition("://")[2] and "@" not in parts.netloc:
        # an unencoded '/', '?' or '#' in the password ended the host part early; parsing on
        # would show pieces of the password in later messages (as the port or the database)
        raise UsageError(
            f"malformed URL {_mask(text)!r}: percent-encode '/', '?', '#' and '@' in the user "
            "name or password (%2F, %3F, %23, %40)"
        )
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            f"malformed URL {_mask(text)!r}: the port is not a number 1-65535"
        ) from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if username is not None and password is None:
        # redis://secret@host is how redis-py reads a bare password
        username, password = None, username
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    db_text = query.get("db", "")
    if scheme == "unix":
        if not parts.path:
            raise UsageError(f"malformed URL {_mask(text)!r}: unix:// needs a socket path")
        settings = ConnectionSettings(unix_path=unquote(parts.path))
    else:
        path = parts.path.lstrip("/")
        db_text = path or db_text
        settings = ConnectionSettings(
            host=parts.hostname or "127.0.0.1", port=port or 6379, tls=scheme == "rediss"
        )
    db = 0
    if db_text:
        if not db_text.isdigit():
            raise UsageError(f"malformed URL {_mask(text)!r}: database {db_text!r} is not a number")
        db = int(db_text)
    return replace(settings, db=db, username=username or None, password=password)


def _mask(url: str) -> str:
    """The URL with any password replaced, for error messages.

    Works on the raw text, not on urlsplit's netloc: a password with an unencoded '/', '?'
    or '#' ends the netloc early, and a URL without a scheme has none. Everything up to the
    last '@' is credentials; only the user name before its first ':' is kept.
    """
    head, sep, rest = url.partition("://")
    if not sep:
        head, rest = "", url
    if "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, colon, _ = credentials.partition(":")
    return f"{head}{sep}{user + ':' if colon else ''}***@{host}"


def from_environment(url: str | None) -> ConnectionSettings:
    """The starting point: --url, else $REDIS_URL, else the default; $REDISCLI_AUTH fills a
    missing password (as in redis-cli)."""
    settings = parse_url(url or os.environ.get("REDIS_URL") or DEFAULT_URL)
    env_pass = os.environ.get("REDISCLI_AUTH")
    if settings.password is None and env_pass:
        settings = replace(settings, password=env_pass)
    return settings
