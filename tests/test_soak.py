"""The soak benchmark, shortened to 0.5 + 0.25 minutes, as a correctness test: the app in a pty
counts what the server delivered, a drop is never silent, `q` exits with 0, and nothing the
benchmark started is left. No memory or timing assertion: on a shared machine 45 s says
nothing about a plateau (the full run does, benchmarks/README.md).

Lower rate than the benchmark's 50,000 msg/s: 10,000 msg/s over 25,000 channels (still more
than the table keeps, so the "other channels" fold is exercised), to stay light on a 2-core
machine that runs other tests; the 1 MB phase is the benchmark's (20/s).
"""

from __future__ import annotations

import os
import sys

import pytest

from benchmarks import soak
from tests.support.pty import _processes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a pty")

# 300,000 messages: each of the 25,000 channels a dozen times through the 20,000-row table; 15 s
# of 1 MB messages: 300 MB through a 64 MiB history (the suite's time: 96 s with 1 + 0.5 min)
SHORT = ["--minutes", "0.5", "--large-minutes", "0.25", "--rate", "10000", "--channels", "25000"]


def children() -> set[int]:
    return {pid for pid, (_, ppid, _) in _processes().items() if ppid == os.getpid()}


@pytest.mark.timeout(240)
def test_short_soak_counts_everything_and_exits_cleanly() -> None:
    before = children()
    result = soak.run(soak.parser().parse_args([*SHORT, "--every", "5"]))
    assert result.published > 10000 * 25  # the publishers ran (a loaded machine may lag)
    assert result.counted == result.delivered, soak.summary(result, 300)
    assert result.delivered == result.published or result.trouble  # a drop is shown
    assert result.exit_code == 0
    assert {s.phase for s in result.samples} == {"small", "large"}
    assert all(s.rss > 0 for s in result.samples)
    assert children() <= before  # server, publishers and app all stopped
