"""`rps-tui serve`: the dashboard in a real browser (Debian's Chromium, headless, through
Playwright), against a real server; the token, the origin check, the passwords kept out
of the process list, and stopping every dashboard."""

from __future__ import annotations

import http.client
import signal
import socket
import time

import pytest
import redis

from rps_tui.cli.options import parse_args
from rps_tui.cli.serve import parse_serve, strip_password
from rps_tui.core.connection.settings import UsageError
from tests.support.browser import (
    Serve,
    browser,
    children,
    cmdline,
    open_page,
    screen_text,
    wait_for_text,
)
from tests.support.cli import one_line_error, run_cli
from tests.support.wait import wait_for

TOKEN = "serve-test-token-0123456789"
SECRET = "s3cret-pass-word"


def status(base: str, path: str, headers: dict[str, str] | None = None) -> int:
    """The HTTP status of GET `path` (no redirects followed, nothing upgraded)."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        return conn.getresponse().status
    finally:
        conn.close()


def upgrade(origin: str | None = None) -> dict[str, str]:
    """The headers of a browser's websocket handshake."""
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    if origin:
        headers["Origin"] = origin
    return headers


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


# --------------------------------------------------------------------------- command line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--bind", "no-such-host.invalid"], "--bind 'no-such-host.invalid' is not an address"),
        (["--token", "short"], "--token needs at least 16 characters"),
        (["--demo", "--record", "x.ndjson"], "--record does not go with serve"),
        (["--public-url", "ftp://example.com"], "--public-url 'ftp://example.com' is not"),
        (["--web-port", "0"], "port 0 is out of range (1-65535)"),
    ],
)
def test_serve_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    line = one_line_error(run_cli("serve", *args), 2)
    assert expected in line


@pytest.mark.parametrize(
    "args", [["--bogus"], ["--demo", "-p", "1"], ["--history", "0"], ["-u", "http://x"]]
)
def test_dashboard_option_errors_read_as_in_the_dashboard(args: list[str]) -> None:
    served = one_line_error(run_cli("serve", *args), 2)
    plain = one_line_error(run_cli(*args), 2)
    assert served.replace(" (see rps-tui serve --help)", "") == plain.replace(" (see --help)", "")


def test_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line_error(run_cli("serve", "--demo", "--web-port", str(port)), 2)
    assert line == f"rps-tui: cannot listen on 127.0.0.1:{port}: address already in use"


def test_the_dashboards_command_line_carries_no_password(monkeypatch) -> None:
    argv = [
        "-u", f"redis://bob:{SECRET}@127.0.0.1:6390/2", "-a", SECRET, "--no-auth-warning",
        "orders.*", "--channel=-odd", "--channel", "tail", "--history", "50",
    ]  # fmt: skip
    served = parse_serve(argv)
    assert not any(SECRET in part for part in served.argv)
    assert served.env == {"REDISCLI_AUTH": SECRET}
    assert "--url=redis://127.0.0.1:6390/2" in served.argv
    assert "--user=bob" in served.argv
    # the dashboard reads the same options from that command line and that environment
    monkeypatch.setenv("REDISCLI_AUTH", SECRET)
    child = parse_args(served.argv[3:])  # after python -m rps_tui
    assert child.settings == served.dashboard.settings
    assert child.subscriptions == served.dashboard.subscriptions
    assert child.history == 50


def test_sentinel_password_goes_by_the_environment_too() -> None:
    served = parse_serve(
        ["--sentinel", "[::1]:26379", "--master", "m", "--sentinel-pass", SECRET, "x"]
    )
    assert not any(SECRET in part for part in served.argv)
    assert "--sentinel=[::1]:26379" in served.argv
    assert served.env == {"REDISCLI_SENTINEL_AUTH": SECRET}


def test_strip_password_strips_every_credential() -> None:
    assert strip_password("redis://u:p%40ss@h:1/0") == "redis://h:1/0"
    assert strip_password("rediss://:p@h:1") == "rediss://h:1"
    assert strip_password("redis://bare-password@h:1") == "redis://h:1"  # as redis-py reads it
    assert strip_password("redis://h:1/0") == "redis://h:1/0"


def test_a_non_loopback_bind_generates_a_token() -> None:
    served = parse_serve(["--demo", "--bind", "0.0.0.0"])
    assert served.token_generated and len(served.token or "") >= 32
    assert served.url.endswith(f"/?token={served.token}")
    assert parse_serve(["--demo"]).token is None  # loopback: none unless asked
    # behind a proxy that serves others, too
    proxied = parse_serve(["--demo", "--public-url", "https://dash.example.com/rps/"])
    assert proxied.token_generated
    assert proxied.url == f"https://dash.example.com/rps/?token={proxied.token}"
    assert parse_serve(["--demo", "--public-url", "http://localhost:9000"]).token is None


# --------------------------------------------------------------------------- in the browser


def test_the_dashboard_in_a_browser_shows_and_publishes(server_factory) -> None:
    srv = server_factory("valkey", extra_args=["--requirepass", SECRET])
    client = redis.Redis(host="127.0.0.1", port=srv.port, password=SECRET)
    listener = client.pubsub()
    listener.subscribe("sv.news")
    url = f"redis://:{SECRET}@127.0.0.1:{srv.port}/0"
    try:
        with (
            Serve("-u", url, "--no-auth-warning", "sv.news", "--token", TOKEN) as served,
            browser() as chromium,
        ):
            page = open_page(chromium, f"{served.base}/?token={TOKEN}")
            wait_for_text(page, "channel sv.news", "● connected")
            dashboards = served.children()
            assert len(dashboards) == 1
            for pid in dashboards:  # the password is in no dashboard's command line
                line = cmdline(pid)
                assert line and not any(SECRET in part for part in line), line
            assert SECRET not in page.content()
            # a message published by someone else shows up
            client.publish("sv.news", "hello from redis-py")
            wait_for_text(page, "hello from redis-py")
            # a key in the page: the publish box (i), the message, Enter
            page.locator(".xterm-helper-textarea").focus()
            page.keyboard.press("i")  # the channel is the subscription's: to the message
            # typing only once the box has the focus: keys typed straight after `i` can come
            # out of order when the app is slow (RpsApp.on_key re-posts the early ones)
            wait_for_text(page, "PUBLISH/SPUBLISH")  # the box's keys in the footer
            page.keyboard.type("typed in chromium")
            page.keyboard.press("Enter")
            wait_for_text(page, "typed in chromium")
            got: list[bytes] = []  # and an independent subscriber received it
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and b"typed in chromium" not in got:
                message = listener.get_message(timeout=0.2)
                if message and message["type"] == "message":
                    got.append(message["data"])
            assert got == [b"hello from redis-py", b"typed in chromium"]
            # closing the tab stops its dashboard
            page.close()
            wait_for(lambda: not any(alive(p) for p in dashboards), 15)
        assert SECRET not in served.stderr
    finally:
        listener.close()
        client.close()


def test_a_wrong_token_gets_403_and_starts_nothing() -> None:
    with Serve("--demo", "--token", TOKEN) as served:
        base = served.base
        assert status(base, "/") == 403
        assert status(base, "/?token=wrong") == 403
        assert status(base, f"/?token={TOKEN}x") == 403
        assert status(base, "/ws", upgrade(base)) == 403
        assert status(base, "/ws/wrong", upgrade(base)) == 403
        # the right token, from a page of another origin (cross-site websocket hijacking)
        assert status(base, f"/ws/{TOKEN}", upgrade("http://evil.example")) == 403
        assert status(base, f"/?token={TOKEN}") == 200
        assert served.children() == []


def test_a_browser_with_a_wrong_token_sees_403_and_no_dashboard() -> None:
    with Serve("--demo", "--token", TOKEN) as served, browser() as chromium:
        page = open_page(chromium, f"{served.base}/?token=wrong")
        assert "403" in page.inner_text("body")
        page.wait_for_timeout(500)
        assert screen_text(page) == ""
        assert served.children() == []


def test_without_a_token_only_loopback_hosts_are_served() -> None:
    with Serve("--demo") as served:
        base = served.base
        assert status(base, "/") == 200
        assert status(base, "/", {"Host": f"localhost:{served.port}"}) == 200
        # DNS rebinding: a name that resolves to 127.0.0.1 is still not this machine's name
        assert status(base, "/", {"Host": f"rebind.example:{served.port}"}) == 403
        assert status(base, "/ws", upgrade("http://evil.example")) == 403
        assert served.children() == []


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_a_signal_stops_the_server_and_every_dashboard(sig: int, code: int) -> None:
    with Serve("--demo") as served, browser() as chromium:
        pages = [open_page(chromium, f"{served.base}/") for _ in range(2)]
        for page in pages:
            wait_for_text(page, "demo.orders.*", "● connected", timeout=20)
        assert len(served.children()) == 2
        everything = descendants(served.proc.pid)  # the dashboards and their demo servers
        assert served.signal(sig) == code
        assert "stopped (2 dashboards closed)" in served.stderr
        wait_for(lambda: not any(alive(p) for p in everything), 5)
    assert all(not alive(p) for p in everything)


def test_settings_the_dashboards_could_not_get_are_refused(tmp_path) -> None:
    # a profile's password wins over $REDISCLI_AUTH, so -a cannot reach the dashboards
    config = tmp_path / "config.toml"
    config.write_text('[profiles.p]\nurl = "redis://127.0.0.1:6390/0"\npassword = "theirs"\n')
    with pytest.raises(UsageError, match="would not get these connection settings"):
        parse_serve(["--config", str(config), "--profile", "p", "-a", SECRET, "x"])
    served = parse_serve(["--config", str(config), "--profile", "p", "x"])
    assert served.env == {"REDISCLI_AUTH": "theirs"}
    assert not any("theirs" in part for part in served.argv)


def test_a_dashboard_that_cannot_start_says_why_in_the_page(server_factory) -> None:
    srv = server_factory("valkey")
    with Serve("-u", srv.url, "sv.gone") as served, browser() as chromium:
        srv.stop()  # reachable when serve started, gone when the tab opens
        page = open_page(chromium, f"{served.base}/")
        wait_for_text(page, "rps-tui: cannot connect to", "connection refused")
        wait_for(lambda: served.children() == [], 10)


def test_q_in_the_page_ends_the_session_and_its_dashboard() -> None:
    with Serve("--demo") as served, browser() as chromium:
        page = open_page(chromium, f"{served.base}/")
        wait_for_text(page, "demo.orders.*", "● connected", timeout=20)
        dashboards = served.children()
        page.locator(".xterm-helper-textarea").focus()
        page.keyboard.press("q")
        page.get_by_text("Session ended.").wait_for(timeout=10_000)
        wait_for(lambda: not any(alive(p) for p in dashboards), 10)


def test_dashboards_die_with_a_killed_server() -> None:
    with Serve("--demo") as served, browser() as chromium:
        page = open_page(chromium, f"{served.base}/")
        wait_for_text(page, "demo.orders.*", "● connected", timeout=20)
        everything = descendants(served.proc.pid)
        served.proc.kill()  # no chance to stop them: the kernel tells them (PDEATHSIG)
        served.proc.wait(5)
        wait_for(lambda: not any(alive(p) for p in everything), 10)
