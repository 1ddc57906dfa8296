"""One-line, actionable descriptions of connection failures, for the CLI and the status bar."""

from __future__ import annotations

import socket
import ssl

import hiredis
import redis

from rps_tui.core.connection.settings import ConnectionSettings


def _root(exc: BaseException) -> BaseException:
    """redis-py wraps socket errors; the cause usually says more."""
    seen = 0
    while (exc.__cause__ or exc.__context__) is not None and seen < 5:
        inner = exc.__cause__ or exc.__context__
        if not isinstance(inner, OSError | redis.RedisError):
            break
        exc, seen = inner, seen + 1
    return exc


# what servers say to a client that has not logged in: NOAUTH to a command (hiredis keeps
# the code, redis-py strips it) and to HELLO, which redis-py sends first with RESP3
_NOT_LOGGED_IN = (
    "NOAUTH",
    "Authentication required",
    "must be called with the client already authenticated",
)


def _not_redis(exc: BaseException, text: str) -> bool:
    """A reply that is not RESP at all (an HTTP or SSH server answering): redis-py raises
    InvalidResponse, hiredis (the engine's own reader) ProtocolError; both say 'Protocol
    error, got "H" as reply type byte'."""
    not_resp = isinstance(exc, redis.InvalidResponse | hiredis.ProtocolError)
    return not_resp or text.startswith("Protocol error")


def describe_error(exc: BaseException, settings: ConnectionSettings) -> str:
    """'cannot connect to 127.0.0.1:6379/0: connection refused' and the like; never a password.

    The library's words are kept where they help; where they only describe the library
    (HELLO and RESP3, a reply type byte) the line says what the user can do instead."""
    where = settings.address
    root = _root(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if settings.password:
        text = text.replace(settings.password, "***")
    if isinstance(root, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
        reason = getattr(root, "verify_message", None) or "certificate verify failed"
        return (
            f"TLS certificate verification failed for {where}: {reason} (--cacert, or --insecure)"
        )
    if isinstance(root, ssl.SSLError):
        hint = (
            "" if settings.cert else " (does the server require a client certificate? --cert/--key)"
        )
        return f"TLS handshake with {where} failed: {text}{hint}"
    if _not_redis(exc, text) or _not_redis(root, text):
        return f"cannot talk to {where}: that port does not speak the Redis protocol"
    if not settings.password and any(marker in text for marker in _NOT_LOGGED_IN):
        return (
            f"cannot log in to {where}: the server requires a password (use -a or $REDISCLI_AUTH)"
        )
    if isinstance(exc, redis.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        hint = "" if settings.password else " (no password given: use -a or $REDISCLI_AUTH)"
        return f"authentication failed at {where}: {text}{hint}"
    if isinstance(root, ConnectionRefusedError) or "Connection refused" in text:
        return f"cannot connect to {where}: connection refused (is the server running?)"
    if isinstance(root, socket.gaierror) or "Name or service not known" in text:
        return f"cannot connect to {where}: unknown host"
    if isinstance(root, FileNotFoundError) or "No such file" in text:
        return f"cannot connect to {where}: no such socket file"
    if isinstance(exc, redis.TimeoutError | TimeoutError) or "Timeout" in text:
        return f"no answer from {where}: {text}"
    if isinstance(exc, redis.ResponseError):
        return f"{where} refused: {text}"
    return f"{where}: {text}"
