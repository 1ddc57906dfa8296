"""Quitting at any moment of start-up is clean: SIGTERM or Ctrl-C (SIGINT, before the
terminal is in raw mode) while the imports run, while the first screen mounts, or after.
Before, 120 runs stopped at random moments gave MountError and NoMatches tracebacks, and a
Ctrl-C during the imports printed Python's traceback."""

from __future__ import annotations

import signal
import time

import pytest

from rps_tui.core.subscriptions import Kind, Subscription
from tests.support.app import SIZE, make_app
from tests.support.pty import PtyApp

# from just after the interpreter's own start-up (its site imports are not ours) to well
# after the first screen (about 0.5 s here)
DELAYS = (0.06, 0.15, 0.3, 0.4, 0.45, 0.5, 0.55, 0.7, 1.0)


async def test_a_signal_before_the_screen_is_up_quits_once_it_is(server) -> None:
    """What a signal handler does while the dashboard mounts: nothing at once (an exit then
    broke the mount), then the exit as soon as the screen is up."""
    app = make_app(server.url, Subscription(Kind.CHANNEL, "st.early"))
    app.exit_on_signal(130)  # as SIGINT's handler does before app.run
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
    assert app.return_value == 130  # what app.run() returns, and the CLI exits with


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_at_any_moment_of_start_up_leaves_no_traceback(server_factory, sig) -> None:
    """Exit 0 (SIGTERM) or 130 (SIGINT), or killed by the signal itself when it came before
    the handlers were set (a shell shows both as the same status): never a traceback."""
    expected = ({signal.SIGTERM: 0, signal.SIGINT: 130}[sig], -sig)
    server = server_factory("valkey")  # start-up is the same whatever the server
    for delay in DELAYS:
        app = PtyApp("-u", server.url, "st.any")
        try:
            time.sleep(max(0.0, app.started + delay - time.monotonic()))
            app.proc.send_signal(sig)
            code = app.wait_exit()
            text = app.text()
            assert "Traceback" not in text and "Error" not in text, (delay, app.tail())
            assert code in expected, (delay, code, app.tail())
        finally:
            app.close()
