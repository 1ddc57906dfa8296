"""Publishing a recording again: same channels, same bytes, same order, original pace.

The file is read one line at a time. Messages whose time has come are pipelined together
(at most `BATCH` per round trip), so a burst recorded in one socket read is replayed as a
burst, and `fast` sends everything as soon as it can. message and pmessage records are
PUBLISHed to their channel, smessage records SPUBLISHed; gap records are skipped.

Nothing is retried: a PUBLISH that failed after reaching the server would be delivered
twice, so the first error stops the replay and says how far it got. On a cluster, classic
PUBLISH goes to one node (the cluster broadcasts it), which keeps the messages in file
order for a subscriber; SPUBLISH goes through redis-py's `RedisCluster`, which routes each
to its slot owner (in order per channel; channels on different nodes travel separately,
so their relative order is not guaranteed by the cluster).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from redis.exceptions import RedisClusterException

from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.publisher import Publisher
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import channel_of, is_gap, payload_of, time_of
from rps_tui.core.recording.format import RecordError, read_entries
from rps_tui.core.units import plural

BATCH = 1000  # commands per pipeline round trip


class ReplayError(Exception):
    """The replay stopped: one line, with how many messages were published before."""


@dataclass
class ReplayResult:
    messages: int = 0  # published
    gaps: int = 0  # gap records skipped
    seconds: float = 0.0  # wall-clock time of the replay
    interrupted: bool = False  # Ctrl-C: stopped early, on purpose
    skipped: list[str] = field(default_factory=list)  # a last line cut off

    def summary(self, where: str = "") -> str:
        """One line; `where` (an address) is named after the count."""
        to = f" to {where}" if where else ""
        gaps = f" ({plural(self.gaps, 'gap record')} skipped)" if self.gaps else ""
        head = "interrupted: " if self.interrupted else ""
        cut = "".join(f"; {reason}: skipped" for reason in self.skipped)
        return (
            f"{head}replayed {plural(self.messages, 'message')}{to} in {self.seconds:.1f} s"
            f"{gaps}{cut}"
        )


def replay(
    path: str | os.PathLike[str],
    settings: ConnectionSettings,
    *,
    speed: float = 1.0,
    fast: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayResult:
    """Publish the recording at `path`: at the recorded pace divided by `speed`, or as fast
    as possible with `fast`. Raises ReplayError (one line) for a malformed line or a server
    error; what came before has been published, and the message says how much. Ctrl-C
    returns early with `interrupted` set."""
    result = ReplayResult()
    started = clock()
    try:
        publisher = Publisher(settings)
    except (redis.RedisError, RedisClusterException, OSError) as exc:
        raise ReplayError(describe_error(exc, settings)) from None
    first: float | None = None
    try:
        for entry in read_entries(path, skip=result.skipped.append):
            if is_gap(entry):
                result.gaps += 1
                continue
            if not fast:
                t = time_of(entry)
                if first is None:
                    first = t
                due = started + (t - first) / speed
                if due > clock():
                    result.messages += _flush(publisher, settings, result)
                    while (left := due - clock()) > 0:
                        sleep(left)
            command = "SPUBLISH" if entry[0] == b"smessage" else "PUBLISH"
            publisher.add(command, channel_of(entry), payload_of(entry))
            if len(publisher.pending) >= BATCH:
                result.messages += _flush(publisher, settings, result)
        result.messages += _flush(publisher, settings, result)
    except RecordError as exc:
        result.messages += _flush(publisher, settings, result)  # the lines before it
        raise ReplayError(
            f"{exc} (published {plural(result.messages, 'message')} before it)"
        ) from None
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        result.seconds = clock() - started
        publisher.close()
    return result


def _flush(publisher: Publisher, settings: ConnectionSettings, result: ReplayResult) -> int:
    """Send the queue; its accepted count. The first refusal or lost connection ends the
    replay (ReplayError), counting what was accepted before."""
    try:
        replies, refusal = publisher.flush()
    except (redis.RedisError, RedisClusterException, OSError) as exc:
        raise ReplayError(
            f"replay stopped after {plural(result.messages, 'message')} (the last batch may "
            f"be partly sent): {describe_error(exc, settings)}"
        ) from None
    accepted = len(replies)
    if refusal is not None:
        result.messages += accepted
        reason = describe_error(refusal, settings)
        raise ReplayError(f"replay stopped after {plural(result.messages, 'message')}: {reason}")
    return accepted
