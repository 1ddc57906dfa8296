"""The publish box's tests: what really went out (a plain redis-py subscriber), and what
the box says."""

from __future__ import annotations

import threading

import redis

from rps_tui.ui.publish_box import PublishBox


class Collector:
    """A plain redis-py subscriber on its own thread, collecting what really went out (for
    polling one at a time, see tests.support.listener)."""

    def __init__(self, url: str, *channels: str) -> None:
        self.pubsub = redis.Redis.from_url(url).pubsub()
        self.pubsub.subscribe(*channels)
        self.got: list[tuple[bytes, bytes]] = []
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        try:
            for msg in self.pubsub.listen():
                if msg["type"] == "message":
                    self.got.append((msg["channel"], msg["data"]))
        except (redis.ConnectionError, ValueError, AttributeError):
            return  # closed by `close()` while it waited: the test is over

    def close(self) -> None:
        self.pubsub.close()


def result(box: PublishBox) -> str:
    return str(box.query_one("#publish-result").render())
