"""One-line, actionable descriptions of connection failures, for the CLI and the status bar."""

from __future__ import annotations

import socket
import ssl

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


def describe_error(exc: BaseException, settings: ConnectionSettings) -> str:
    """'cannot connect to 127.0.0.1:6379/0: connection refused' and the like; never a password."""
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
    if isinstance(exc, redis.AuthenticationError) or "WRONGPASS" in text or "NOAUTH" in text:
        return f"authentication failed at {where}: {text}"
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
