"""Pub/Sub across a Redis / Valkey cluster: one classic connection, one per shard owner.

Classic PUBLISH is broadcast to every node, so channels and patterns need one subscriber
connection to any node; when that node dies the classic connection moves to the next node
of the map (healthy primaries first) and marks a gap like any reconnect.

Sharded Pub/Sub (SSUBSCRIBE) is delivered only by the primary that owns the channel's
slot, so each owning node gets its own connection (an `Engine` each, sharing one `Store`).
A coordinator thread keeps the slot map: it re-reads it when a connection reports that the
server unsubscribed a channel (a slot moved), answered MOVED, or died, and every few
seconds anyway (a pure subscriber never hears of a slot move otherwise). When a channel's
owner changed, the channel is handed to the new owner's connection with its buffer and
counts intact, and its pane gets a gap marker saying for how long nobody listened.

Keyspace notifications are the one kind of classic Pub/Sub a cluster does not broadcast:
each primary publishes the events of its own keys. Subscriptions to `__keyspace@…` and
`__keyevent@…` therefore listen on every primary that owns slots, through the same
per-node connections, and follow the map as the sharded ones do.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import redis

from rps_tui.core.connection.cluster_map import ClusterMap, read_map_any
from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import Gap
from rps_tui.core.store import Store
from rps_tui.core.subscriber.base import State
from rps_tui.core.subscriber.drops import Drop
from rps_tui.core.subscriber.engine import Engine
from rps_tui.core.subscriber.links import Links
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.core.units import plural

CHECK_SECONDS = 5.0  # re-read the slot map this often when all is well
DEGRADED_SECONDS = 0.5  # ... and this often while a connection is down or a channel homeless
UNRESOLVED_SECONDS = 30.0  # how long the first news of a move waits for the map to agree
STATE_ORDER = (State.STALLED, State.RECONNECTING, State.CONNECTING, State.CONNECTED)


def everywhere(sub: Subscription) -> bool:
    """Keyspace notifications (`__keyspace@0__:*`, `__keyevent@0__:del`): each primary
    publishes those of its own keys only, so they are listened to on every primary."""
    return sub.kind is not Kind.SHARD and sub.name.startswith(("__keyspace@", "__keyevent@"))


class _ClassicLink(Engine):
    """The classic SUBSCRIBE/PSUBSCRIBE connection: any node will do; try the next one
    after a failure."""

    def __init__(self, owner: ClusterEngine, **kwargs) -> None:
        super().__init__(owner.settings, owner.store, clock=owner.clock, log=owner.log, **kwargs)
        self._owner = owner

    def _target(self) -> ConnectionSettings:
        return self._owner.classic_target()


class ClusterEngine(Links):
    """The same interface as `Engine` for the UI, over several connections."""

    def __init__(
        self,
        settings: ConnectionSettings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(settings, store, clock=clock)
        self.map: ClusterMap | None = None
        self.links: dict[str, Engine] = {}  # node name -> sharded connection to it
        self.classic = _ClassicLink(self, label="classic", client_name="rps-tui-sub")
        self._classic_turn = -1
        self._seeds = [(settings.host, settings.port)]
        self._home: dict[Subscription, str] = {}  # sharded subscription -> node name
        self._spread: dict[Subscription, set[str]] = {}  # keyspace subscription -> nodes
        self._wanted: dict[Subscription, None] = {}
        self._ops: deque[tuple[str, Subscription]] = deque()
        self._moved: deque[tuple[Subscription, str, float]] = deque()
        # the first news of a move the map did not show yet: when the map catches up, the
        # gap names that (its slot moved), not the MOVED our retry got meanwhile
        self._unresolved: dict[Subscription, tuple[str, float]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._map_error: str | None = None
        self._kicked = False
        self._checked_at: float | None = None

    # -- the Engine interface --------------------------------------------------------------
    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._wanted)

    def subscribe(self, sub: Subscription) -> None:
        if sub in self._wanted:
            return
        self._wanted[sub] = None
        if sub.kind is Kind.SHARD or everywhere(sub):
            self._ops.append(("sub", sub))
            self._wake.set()
        else:
            self.classic.subscribe(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        if self._wanted.pop(sub, 0) == 0:
            return
        if sub.kind is Kind.SHARD or everywhere(sub):
            self._ops.append(("unsub", sub))
            self._wake.set()
        else:
            self.classic.unsubscribe(sub)

    def stop(self) -> None:
        self._stop.set()
        for link in self._all_links():
            link.stop()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def state(self) -> State:
        states = {link.state for link in self._all_links()}
        return next((s for s in STATE_ORDER if s in states), State.STOPPED)

    @property
    def state_detail(self) -> str:
        for link in self._all_links():
            if link.state is not State.CONNECTED and link.state_detail:
                return f"{link.node or link.label}: {link.state_detail}"
        if self._map_error:
            return f"slot map: {self._map_error}"
        return ""

    @property
    def retry_at(self) -> float | None:
        """The soonest planned attempt of any connection (see `Engine.retry_at`)."""
        planned = [at for link in self._all_links() if (at := link.retry_at) is not None]
        return min(planned, default=None)

    @property
    def where(self) -> str:
        """The node the classic connection uses, and how many more there are."""
        others = max(0, len(self.map.nodes) - 1) if self.map else 0
        node = self.classic.node or self.settings.node
        return f"cluster {node}" + (f" +{plural(others, 'node')}" if others else "")

    @property
    def client_id(self) -> object:
        return self.classic.client_id

    def server_dropped(self, drop: Drop) -> None:
        """The monitor watches the classic connection's buffer (see Engine.server_dropped)."""
        self.classic.server_dropped(drop)

    def buffer_seen(self, omem: int | None, limit: tuple[int, ...] | None) -> None:
        self.classic.buffer_seen(omem, limit)

    @property
    def node(self) -> str | None:
        """The node serving the classic subscriptions (where its output buffer is)."""
        return self.classic.node

    def nodes(self) -> list[tuple[str, int]]:
        """Every node of the last map (for commands fanned out to all of them)."""
        current = self.map
        if current is None:
            return list(self._seeds)
        return [(n.host, n.port) for n in current.nodes if n.healthy] or list(self._seeds)

    def home_of(self, sub: Subscription) -> str | None:
        """The node a sharded subscription listens to now (None while it has none)."""
        if everywhere(sub):
            return ", ".join(sorted(self._spread.get(sub, ()))) or None
        return self._home.get(sub) if sub.kind is Kind.SHARD else self.classic.node

    # -- called by the connections' threads ---------------------------------------------------
    def classic_target(self) -> ConnectionSettings:
        """The next node to try for the classic connection (round robin over the map)."""
        current = self.map
        nodes = [(n.host, n.port) for n in current.candidates()] if current else []
        nodes = list(dict.fromkeys(nodes + self._seeds))
        self._classic_turn += 1
        host, port = nodes[self._classic_turn % len(nodes)]
        return self.settings.at(host, port)

    def _moved_away(self, sub: Subscription, reason: str) -> None:
        self._moved.append((sub, reason, self.clock()))
        self._wake.set()

    def _lost(self, _link: Engine) -> None:
        self._kicked = True  # look at the map now, and often until the link is back
        self._wake.set()

    # -- the coordinator thread --------------------------------------------------------------
    def run(self) -> None:
        """Start the classic connection, then keep every sharded subscription at home."""
        self._start(self.classic)
        next_check = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_check or self._moved or self._ops or self._kicked:
                self._kicked = False
                self._tick()
                next_check = time.monotonic() + (
                    DEGRADED_SECONDS if self._degraded() else CHECK_SECONDS
                )
            self._wake.wait(max(0.01, next_check - time.monotonic()))
            self._wake.clear()
        for link in self._all_links():
            link.stop()
        for thread in self._threads:
            thread.join(timeout=2.0)

    def _start(self, link: Engine) -> None:
        link.on_data = self._on_data
        link.sink = self._sink
        thread = threading.Thread(target=link.run, name=f"rps-{link.label}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _all_links(self) -> list[Engine]:
        return [self.classic, *list(self.links.values())]

    def _degraded(self) -> bool:
        shard_subs = [s for s in self._wanted if s.kind is Kind.SHARD]
        spread = [s for s in self._wanted if everywhere(s)]
        return (
            bool(self._moved)
            or any(s not in self._home for s in shard_subs)
            or any(not self._spread.get(s) for s in spread)
            or any(
                link.state is not State.CONNECTED or link.lost_since is not None
                for link in self.links.values()
            )
        )

    def _tick(self) -> None:
        """Apply the user's sharded (un)subscriptions, re-read the map, re-home channels."""
        while self._ops:
            op, sub = self._ops.popleft()
            if op == "sub":
                with self.store.lock:
                    state = self.store.add_subscription(sub)
                    state.status, state.error = Status.PENDING, None
            else:
                nodes = self._spread.pop(sub, set()) | {self._home.pop(sub, None)} - {None}
                for node in nodes & set(self.links):
                    self.links[node].unsubscribe(sub)
                with self.store.lock:  # (a no-op when a connection has done it)
                    state = self.store.remove(sub)
                    if state is not None:
                        state.status = Status.REMOVED
        try:
            self.map = read_map_any(self.settings, self.nodes() + self._seeds)
        except (redis.RedisError, OSError) as exc:
            error = describe_error(exc, self.settings)
            if error != self._map_error:
                self.log.add("error", f"cannot read the cluster's slot map: {error}")
            self._map_error = error
            return
        if self._map_error:
            self.log.add("information", "slot map read again")
        self._map_error = None
        self._checked_at = self.clock()
        self._rehome()

    def _rehome(self) -> None:
        assert self.map is not None
        moved: dict[Subscription, tuple[str, float]] = {}
        now = self.clock()
        for sub, (_, since) in list(self._unresolved.items()):
            if now - since > UNRESOLVED_SECONDS:
                del self._unresolved[sub]
        while self._moved:
            sub, reason, since = self._moved.popleft()
            moved.setdefault(sub, self._unresolved.setdefault(sub, (reason, since)))
        moves: dict[tuple[str, str], list[str]] = {}
        for sub in [s for s in self._wanted if s.kind is Kind.SHARD]:
            owner = self.map.owner_of(sub.key)
            if owner is None:
                continue  # the slot is not served right now; look again soon
            current = self._home.get(sub)
            if owner.name == current:
                if sub in moved:  # the map lags behind the server: ask the node again
                    self.links[current].resubscribe(sub)
                continue
            self._unresolved.pop(sub, None)
            old = self.links.get(current) if current else None
            if old is not None:
                old.release(sub)
            with self.store.lock:  # pending until the new owner confirms
                state = self.store.subs.get(sub)
                if state is not None:
                    state.status = Status.PENDING
            self._link(owner.name, owner.host, owner.port).adopt(sub)
            self._home[sub] = owner.name
            if current is None:
                continue  # a new subscription: nothing missed yet
            reason, since = moved.get(sub, ("", 0.0))
            if not reason:
                if old is not None and old.lost_since is not None:
                    reason, since = "its node failed", old.lost_since
                else:
                    reason, since = "its slot moved", self._checked_at or self.clock()
            now = self.clock()
            gap = Gap(f"{reason}, {current} → {owner.name}", max(0.0, now - since))
            with self.store.lock:
                self.store.mark_gap(gap, now, {sub})
                sink = self._sink  # once: a recording stopped meanwhile sets it to None
                if sink is not None:
                    sink([[None, gap, now]])
            moves.setdefault((current, owner.name), []).append(sub.name)
        for (old_name, new_name), names in moves.items():
            shown = ", ".join(repr(n) for n in names[:3]) + (" ..." if len(names) > 3 else "")
            self.log.add(
                "warning",
                f"{len(names)} sharded channel{'s' if len(names) != 1 else ''} moved from "
                f"{old_name} to {new_name}: {shown}",
            )
        self._spread_out()
        used = set(self._home.values()).union(*self._spread.values())
        for name in [n for n in self.links if n not in used]:
            self.links.pop(name).stop()  # nobody left to listen to there

    def _spread_out(self) -> None:
        """Keyspace notifications are published by the primary that owns the key, on that
        node only: such subscriptions listen on every primary that owns slots."""
        assert self.map is not None
        owners = {node.name: node for _, _, node in self.map.ranges}
        now = self.clock()
        for sub in [s for s in self._wanted if everywhere(s)]:
            homes = self._spread.setdefault(sub, set())
            for name in sorted(homes - owners.keys()):  # no longer a primary with slots
                old = self.links.get(name)
                if old is not None:
                    old.release(sub)
                    if old.lost_since is not None:  # its events went unheard meanwhile
                        gap = Gap(f"its node {name} failed", max(0.0, now - old.lost_since))
                        with self.store.lock:
                            self.store.mark_gap(gap, now, {sub})
                homes.discard(name)
            for name in sorted(owners.keys() - homes):
                node = owners[name]
                self._link(name, node.host, node.port).adopt(sub)
                homes.add(name)

    def _link(self, name: str, host: str, port: int) -> Engine:
        link = self.links.get(name)
        if link is None:
            link = Engine(
                self.settings.at(host, port),
                self.store,
                clock=self.clock,
                log=self.log,
                label=name,
                client_name="rps-tui-shard",
            )
            link.on_moved = self._moved_away
            link.on_lost = self._lost
            self.links[name] = link
            self._start(link)
        return link
