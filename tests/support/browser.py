"""`rps-tui serve` in a real process and its page in a real browser: Debian's Chromium,
driven by Playwright (never a downloaded browser: `playwright install` is not needed).

textual-serve draws the terminal with xterm.js on a canvas, so the screen's text is not in
the DOM. An init script catches xterm's Terminal object as textual.js stores it
(`this.terminal = new Terminal(...)`), and `screen_text` reads its buffer: the characters
on screen, row by row, as the user sees them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from rps_tui.core.embedded.server import free_port
from tests.support.wait import wait_for

CHROMIUM_MISSING = "chromium is not installed: apt-get install chromium"
PLAYWRIGHT_MISSING = "playwright is not installed: pip install -e '.[test]'"
VIEWPORT = {"width": 1280, "height": 800}

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    window.__rpsTerminal = value;
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
  },
});
"""

READ_SCREEN = """() => {
  const term = window.__rpsTerminal;
  if (!term) return null;
  const buffer = term.buffer.active;
  const rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def chromium() -> str:
    """Chromium's path; skips the test calling this when it or Playwright is missing."""
    path = shutil.which("chromium")
    if path is None:
        pytest.skip(CHROMIUM_MISSING)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip(PLAYWRIGHT_MISSING)
    return path


@contextmanager
def browser() -> Iterator[Any]:
    """A headless Chromium, closed after."""
    path = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path)
        try:
            yield launched
        finally:
            launched.close()


def open_page(launched: Any, url: str) -> Any:
    """A new tab on `url` that can read its terminal (see `screen_text`)."""
    page = launched.new_page(viewport=VIEWPORT)
    page.add_init_script(CATCH_TERMINAL)
    page.set_default_timeout(15_000)
    page.goto(url)
    return page


def screen_text(page: Any) -> str:
    """The terminal's rows as text ("" before the terminal exists)."""
    return page.evaluate(READ_SCREEN) or ""


def wait_for_text(page: Any, *texts: str, timeout: float = 15) -> str:
    """Wait until every one of `texts` is on the screen; returns the screen."""
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = screen_text(page)
        if all(t in screen for t in texts):
            return screen
        page.wait_for_timeout(100)
    missing = [t for t in texts if t not in screen]
    raise AssertionError(f"{missing} not on the page within {timeout} s; it shows:\n{screen}")


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


class Serve:
    """`python -m rps_tui serve ARGS --web-port P` on loopback, stopped by `stop`."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.final_stderr = ""
        self.base = f"http://127.0.0.1:{self.port}"
        self.err_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"rps-serve-{self.port}.err"
        self.err = self.err_path.open("w+")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rps_tui", "serve", *args, "--web-port", str(self.port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.err,
            env=env,
        )
        try:
            wait_for(lambda: "serving the dashboard" in self.stderr or self.proc.poll() is not None)
        except AssertionError:
            self.stop()
            raise
        if self.proc.poll() is not None:
            raise AssertionError(f"serve ended at start: {self.stderr}")

    @property
    def stderr(self) -> str:
        """What it wrote on stderr so far (all of it, after `stop`)."""
        if not self.err_path.exists():
            return self.final_stderr
        return self.err_path.read_text()

    def children(self) -> list[int]:
        return children(self.proc.pid)

    def signal(self, sig: int, timeout: float = 15) -> int:
        """Send `sig` and wait for the exit status."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s (the server and, by then, its dashboards)."""
        left = self.children()
        if self.proc.poll() is None:
            try:
                self.signal(signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for pid in left:  # any dashboard the server could not stop
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.final_stderr = self.stderr
        self.err.close()
        self.err_path.unlink(missing_ok=True)

    def __enter__(self) -> Serve:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
