"""`rps-tui serve`: the dashboard in a browser, through textual-serve.

Each browser tab that opens the page gets a dashboard process of its own, started with the
options given here (`python -m rps_tui OPTIONS`, run by textual-serve's web driver), and
stopped when the tab closes or the server stops.

Safety:
- It listens on loopback unless --bind says otherwise. Any other address, or a
  --public-url whose host is not loopback (a proxy serves it to others), needs a token
  (--token, else one is generated and printed with the URL): the page and the websocket it
  opens are refused (HTTP 403) without it, before any dashboard process starts. Without a
  token, only requests whose Host is this machine's loopback (or --public-url's host) are
  served, so a web page cannot reach it through DNS rebinding.
- A websocket from a page of another origin is refused (403): a web page the user visits
  cannot open a dashboard through it (cross-site websocket hijacking).
- Passwords stay out of the page, the URL and the process list: the dashboards get them in
  their environment ($REDISCLI_AUTH, $REDISCLI_SENTINEL_AUTH), never on their command line.

textual-serve (and aiohttp) are imported only when the server starts, never by the
dashboard itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hmac
import ipaddress
import os
import re
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from rps_tui.cli.options import Options, dashboard_options
from rps_tui.cli.parsers import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    build_parser,
    ranged,
)
from rps_tui.core.connection.settings import UsageError

DESCRIPTION = """\
Serve the dashboard in a browser (textual-serve): every browser tab that opens the page
gets a dashboard of its own, with the options given here, stopped when the tab closes.
It takes the dashboard's options (connection, subscriptions, --demo ...); the web
server's own are --bind, --web-port, --token and --public-url (-h/--host and -p/--port
are the Redis server's, as in the dashboard).

It listens on 127.0.0.1 by default. Any other --bind address (or a --public-url that is
not loopback) needs a token that the page URL carries (?token=...): --token, or one
generated and printed with the URL. The token
says who may open a dashboard; it is not encryption: put a TLS proxy (or an ssh tunnel)
in front. A dashboard can publish, so whoever has the page can publish to the server.
Passwords reach the dashboards through their environment, never their command line.
Ctrl-C or SIGTERM stops the server and every dashboard."""

DEFAULT_BIND = "127.0.0.1"
DEFAULT_WEB_PORT = 8000
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.~]{16,}")
QUIT_WAIT = 5.0  # seconds a dashboard has to quit before it is terminated, then killed
SHUTDOWN_WAIT = 2.0  # seconds aiohttp waits for open requests when stopping

_web_port = ranged(int, "port ", lambda v: 0 < v < 65536, "is out of range (1-65535)", "a number")


@dataclass
class ServeOptions:
    dashboard: Options
    argv: list[str]  # the dashboards' command line: no password in it
    env: dict[str, str] = field(default_factory=dict)  # the passwords, for their environment
    bind: str = DEFAULT_BIND
    port: int = DEFAULT_WEB_PORT
    token: str | None = None
    token_generated: bool = False
    public_url: str | None = None

    @property
    def url(self) -> str:
        """Where to point a browser (with the token, if there is one)."""
        if self.public_url:
            base = self.public_url.rstrip("/")
        else:
            host = self.bind
            if host in ("0.0.0.0", "::", ""):
                host = socket.gethostname()
            elif ":" in host:
                host = f"[{host}]"
            base = f"http://{host}:{self.port}"
        return f"{base}/" + (f"?token={self.token}" if self.token else "")


def build_serve_parser() -> argparse.ArgumentParser:
    """The dashboard's parser, with the web server's options beside its own."""
    parser = build_parser()
    parser.prog = f"{PROG} serve"
    parser.description = DESCRIPTION
    web = parser.add_argument_group("web server")
    web.add_argument(
        "--bind",
        default=DEFAULT_BIND,
        metavar="ADDRESS",
        help=f"the address to listen on (default {DEFAULT_BIND}; any non-loopback "
        "address needs a token)",
    )
    web.add_argument(
        "--web-port",
        type=_web_port,
        default=DEFAULT_WEB_PORT,
        metavar="PORT",
        help=f"the port to listen on (default {DEFAULT_WEB_PORT})",
    )
    web.add_argument(
        "--token",
        metavar="TOKEN",
        help="the page URL must carry ?token=TOKEN (16+ characters: letters, digits, "
        "- _ . ~); default: none on loopback, else generated and printed",
    )
    web.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL the browser sees, when a reverse proxy is in front "
        "(e.g. https://example.com/rps); the page's websocket and files are built on it",
    )
    return parser


def parse_serve(argv: list[str]) -> ServeOptions:
    """`rps-tui serve`'s options; raises UsageError with one line (the dashboard's own
    errors read as they do there: the same parser, the same checks)."""
    parser = build_serve_parser()
    args = parser.parse_args(argv)
    dashboard = dashboard_options(args)
    if dashboard.record:
        raise UsageError(
            "--record does not go with serve (every browser tab would write the same "
            "file); press r in a dashboard to record"
        )
    loopback = check_bind(args.bind)
    token = args.token
    if token is not None and not TOKEN_CHARS.fullmatch(token):
        raise UsageError(
            "--token needs at least 16 characters, each a letter, a digit or one of - _ . ~"
        )
    public_url = _public_url(args.public_url)
    if public_url and not loopback_name(urlsplit(public_url).hostname or ""):
        loopback = False  # a proxy serves it to others
    generated = token is None and not loopback
    if generated:
        token = secrets.token_urlsafe(24)
    child_args, env = child_command(build_parser(), args, dashboard)
    if not (dashboard.demo or dashboard.embedded):
        check_same_settings(child_args, env, dashboard)
    return ServeOptions(
        dashboard,
        [sys.executable, "-m", "rps_tui", *child_args],
        env,
        args.bind,
        args.web_port,
        token,
        generated,
        public_url,
    )


def loopback_name(host: str) -> bool | None:
    """True or False for localhost and IP addresses, None for other names."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return None


def check_bind(host: str) -> bool:
    """Whether `host` is loopback only; UsageError when it is no address at all."""
    known = loopback_name(host)
    if known is not None:
        return known
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise UsageError(f"--bind {host!r} is not an address or a known host name") from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in found)


def _public_url(text: str | None) -> str | None:
    if text is None:
        return None
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--public-url {text!r} is not an http:// or https:// URL with a host "
            "(e.g. https://example.com/rps)"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"--public-url {text!r}: no ?query or #fragment (a path may follow)")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


SECRET_DESTS = {"password", "sentinel_pass", "no_auth_warning", "help", "version"}


def child_command(
    parser: argparse.ArgumentParser, args: argparse.Namespace, dashboard: Options
) -> tuple[list[str], dict[str, str]]:
    """The dashboard's arguments, rebuilt from the parsed ones with the passwords left out,
    and the environment that carries them instead."""
    argv: list[str] = []
    positional: list[str] = []
    for action in parser._actions:
        if action.dest in SECRET_DESTS:
            continue
        value = getattr(args, action.dest, None)
        if not action.option_strings:
            positional += [str(v) for v in value or []]
            continue
        flag = next((o for o in action.option_strings if o.startswith("--")), None)
        short = action.option_strings[0]
        if isinstance(action, argparse._StoreTrueAction):
            argv += [flag or short] if value else []
            continue
        values = value if isinstance(action, argparse._AppendAction) else [value]
        for item in values or []:
            if item is None:
                continue
            if action.dest == "url":
                item = strip_password(item)
            text = f"{item[0]}:{item[1]}" if isinstance(item, tuple) else str(item)
            if isinstance(item, tuple) and ":" in item[0]:
                text = f"[{item[0]}]:{item[1]}"
            argv.append(f"{flag}={text}" if flag else f"{short}{text}")
    if dashboard.settings.username and not args.user:  # from the URL, or a profile's
        argv.append(f"--user={dashboard.settings.username}")
    if positional:
        argv += ["--", *positional]
    env = {}
    if dashboard.settings.password is not None:
        env["REDISCLI_AUTH"] = dashboard.settings.password
    if dashboard.settings.sentinel_password is not None:
        env["REDISCLI_SENTINEL_AUTH"] = dashboard.settings.sentinel_password
    return argv, env


def strip_password(url: str) -> str:
    """The URL without its credentials: redis://u:p@h:1/0 -> redis://h:1/0 (a bare
    `redis://secret@h` is a password too, as redis-py reads it; the user goes by --user)."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def servers(options: Options) -> list[tuple[Any, ...]]:
    """Each server's settings and subscriptions (the first, then any more: one a tab)."""
    more = getattr(options, "more", [])  # several servers (-u or --profile repeated)
    first = (getattr(options, "label", ""), options.settings, options.subscriptions)
    return [first, *((t.label, t.settings, t.subscriptions) for t in more)]


def check_same_settings(argv: list[str], env: dict[str, str], dashboard: Options) -> None:
    """The dashboards must read exactly these settings from `argv` and the environment
    they get (a profile's password would win over $REDISCLI_AUTH, for one)."""
    from rps_tui.cli.options import parse_args

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        child = parse_args(argv)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if servers(child) != servers(dashboard):
        raise UsageError(
            "the dashboards would not get these connection settings without a password on "
            "their command line (there is one $REDISCLI_AUTH for every server); set the "
            "password in $REDISCLI_AUTH or in the profiles instead"
        )


def run_serve(options: ServeOptions) -> int:
    """Check the connection (as the dashboard does), then serve until Ctrl-C or SIGTERM."""
    if not (options.dashboard.demo or options.dashboard.embedded):
        from rps_tui.core.connection.probe import reach

        reach(options.dashboard.settings, events_ok=True)  # ConnectError: one line, exit 1
    return asyncio.run(_serve(options))


async def _serve(options: ServeOptions) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format=f"{PROG} serve: %(message)s")
    server = make_server(options)
    from aiohttp import web

    app = await server._make_app()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_WAIT)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, options.bind, options.port).start()
        except OSError as exc:  # in use, not an address of this machine, a privileged port
            reason = (os.strerror(exc.errno) if exc.errno else str(exc)).lower()
            print(
                f"{PROG}: cannot listen on {options.bind}:{options.port}: {reason}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        stopped = asyncio.Event()
        ending = {"code": EXIT_OK}
        loop = asyncio.get_running_loop()

        def stop(code: int) -> None:
            ending["code"] = code
            stopped.set()

        loop.add_signal_handler(signal.SIGINT, stop, EXIT_INTERRUPTED)
        loop.add_signal_handler(signal.SIGTERM, stop, EXIT_OK)
        how = "with this token" if options.token else "on this machine"
        print(
            f"{PROG}: serving the dashboard at {options.url} ({how}; each browser tab "
            "runs its own; Ctrl-C stops)",
            file=sys.stderr,
            flush=True,
        )
        if options.token_generated:
            print(
                f"{PROG}: the token was generated for this run (--token sets one); it is "
                "not encryption: use a TLS proxy or an ssh tunnel",
                file=sys.stderr,
                flush=True,
            )
        await stopped.wait()
        closed = await server.stop_all()
        print(
            f"{PROG}: stopped ({closed} dashboard{'s' if closed != 1 else ''} closed)",
            file=sys.stderr,
            flush=True,
        )
        return ending["code"]
    finally:
        await runner.cleanup()


def make_server(options: ServeOptions) -> Any:
    """A textual-serve Server that starts `options.argv` per websocket (no shell, the
    passwords in the environment), checks the token and the origin, and stops its
    dashboards within QUIT_WAIT + 2 s each."""
    from aiohttp import web
    from textual_serve.app_service import AppService
    from textual_serve.server import Server, to_int

    class Tee:
        """The dashboard's stderr as textual-serve reads it, kept (the last 4 KiB) to show."""

        def __init__(self, reader: asyncio.StreamReader, kept: bytearray) -> None:
            self.reader, self.kept = reader, kept

        async def read(self, n: int = -1) -> bytes:
            data = await self.reader.read(n)
            self.kept += data
            del self.kept[:-4096]
            return data

    async def exited(process: asyncio.subprocess.Process, within: float) -> bool:
        try:
            await asyncio.wait_for(process.wait(), within)
        except TimeoutError:
            return False
        return True

    import aiohttp_jinja2

    class Dashboard(AppService):
        """One browser tab's dashboard process."""

        def __init__(self, argv: list[str], env: dict[str, str], **kw: Any) -> None:
            super().__init__(" ".join(argv), **kw)
            self.argv, self.secret_env = argv, env
            self._stopping: asyncio.Task[None] | None = None
            self.errors = bytearray()  # what it wrote on stderr (textual-serve prints it too)

        def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
            environment = super()._build_environment(width, height)
            environment.update(self.secret_env)
            return environment

        async def _open_app_process(self, width: int = 80, height: int = 24) -> Any:
            # exec, not a shell; its own session, so a Ctrl-C at the terminal reaches the
            # server only, which stops the dashboards in order; and it dies with the server
            # (PR_SET_PDEATHSIG), should the server be killed before it can stop them
            from rps_tui.core.embedded.server import _make_preexec

            self._process = process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._build_environment(width, height),
                start_new_session=True,
                preexec_fn=_make_preexec(os.getpid()),  # only calls prctl
            )
            self._stdin = process.stdin
            process.stderr = Tee(process.stderr, self.errors)  # type: ignore[assignment]
            return process

        async def run(self) -> None:
            await super().run()
            process = self._process
            if self._stopping is None and process is not None:
                # it ended by itself: `q`, or it could not start (server down, login refused)
                await exited(process, QUIT_WAIT)
                if process.returncode:  # show its one-line error in the page
                    text = bytes(self.errors).decode("utf-8", "replace").strip()
                    ended = f"{PROG}: the dashboard ended (exit {process.returncode})"
                    lines = text.splitlines()[-3:] or [ended]
                    with contextlib.suppress(Exception):  # the tab may be gone already
                        await self.remote_write_bytes("\r\n".join(lines).encode() + b"\r\n")

        async def stop(self) -> None:
            if self._task is None and self._stopping is None:
                return
            if self._stopping is None:
                self._stopping = asyncio.ensure_future(self._stop())
            await asyncio.shield(self._stopping)

        async def _stop(self) -> None:
            task, process = self._task, self._process
            await self._download_manager.cancel_app_downloads(app_service_id=self.app_service_id)
            await self.send_meta({"type": "quit"})
            if process is not None and not await exited(process, QUIT_WAIT):
                for ending in (process.terminate, process.kill):
                    with contextlib.suppress(ProcessLookupError):
                        ending()
                    if await exited(process, 2):
                        break
            if task is not None:
                await task
            self._task = None

    class DashboardServer(Server):
        def __init__(self) -> None:
            super().__init__(
                " ".join(options.argv),
                host=options.bind,
                port=options.port,
                title=PROG,
                public_url=options.public_url,
            )
            self.dashboards: set[Dashboard] = set()
            self.started = 0

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.router.add_get("/ws/{token}", self.handle_websocket, name="websocket-token")
            app.middlewares.append(guard)
            return app

        async def on_startup(self, app: web.Application) -> None:
            pass  # textual-serve prints its logo here; run_serve says where it serves

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            base = options.public_url or f"{request.scheme}://{request.host}"
            router = request.app.router
            if options.token:
                socket_path = router["websocket-token"].url_for(token=options.token)
            else:
                socket_path = router["websocket"].url_for()
            scheme, rest = base.split(":", 1)
            static = router["static"].url_for(filename="/")
            return {
                "font_size": to_int(request.query.get("fontsize", "16"), 16),
                "app_websocket_url": ("wss:" if scheme == "https" else "ws:")
                + rest
                + str(socket_path),
                "config": {"static": {"url": f"{base}{static}".rstrip("/") + "/"}},
                "application": {"name": PROG},
            }

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # textual-serve's, with a Dashboard per socket, counted and kept for stop_all
            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            dashboard: Dashboard | None = None
            try:
                await websocket.prepare(request)
                dashboard = Dashboard(
                    options.argv,
                    options.env,
                    write_bytes=websocket.send_bytes,
                    write_str=websocket.send_str,
                    close=websocket.close,
                    download_manager=self.download_manager,
                )
                self.dashboards.add(dashboard)
                self.started += 1
                await dashboard.start(width, height)
                await self._process_messages(websocket, dashboard)
            except asyncio.CancelledError:
                await websocket.close()
            except Exception as error:  # a broken socket or a bad frame: this tab only
                logging_error(error)
            finally:
                if dashboard is not None:
                    await dashboard.stop()
                    self.dashboards.discard(dashboard)
            return websocket

        async def stop_all(self) -> int:
            """Stop every dashboard (each bounded); how many there were."""
            running = list(self.dashboards)
            await asyncio.gather(*(d.stop() for d in running), return_exceptions=True)
            return len(running)

    def logging_error(error: BaseException) -> None:
        import logging

        logging.getLogger("textual-serve").warning("%s: %s", type(error).__name__, error)

    def forbidden(why: str) -> web.HTTPForbidden:
        return web.HTTPForbidden(text=f"403 Forbidden: {why}\n")

    allowed_hosts = set()
    if options.public_url:
        allowed_hosts.add(urlsplit(options.public_url).hostname or "")

    def loopback_host(host: str | None) -> bool:
        return bool(host) and (host in allowed_hosts or bool(loopback_name(host or "")))

    def origin_of(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/static/"):  # textual-serve's own js, css and fonts
            return await handler(request)
        if options.token:
            given = request.match_info.get("token") or request.query.get("token") or ""
            if not hmac.compare_digest(given.encode(), options.token.encode()):
                raise forbidden("this dashboard needs the token its URL was given with")
        elif not loopback_host(request.url.host):
            raise forbidden("served on loopback only (--bind and a token serve others)")
        if request.path.startswith("/ws"):
            origin = request.headers.get("Origin")
            page = options.public_url or f"{request.scheme}://{request.host}"
            if origin is not None and origin.lower() != origin_of(page):
                raise forbidden(f"a page from {origin} may not open a dashboard here")
            return await handler(request)
        response = await handler(request)
        response.headers["Referrer-Policy"] = "no-referrer"  # the token stays on this page
        response.headers["Cache-Control"] = "no-store"
        return response

    return DashboardServer()
