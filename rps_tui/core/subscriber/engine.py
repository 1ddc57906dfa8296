"""The subscriber engine: one connection, read as fast as the server can write.

redis-py sets the connection up (AUTH, HELLO, SELECT, TLS, CLIENT SETNAME); after that the
engine reads the socket itself with a `hiredis.Reader`, because redis-py's per-message layer
is several times slower than the server can publish (about 0.15x redis-cli, see
benchmarks/README.md). The read loop is the only hot path in the program: per socket read it
hands the replies to the connection's `Intake` (counters, bounded deques), under one lock
taken once per read. Nothing here knows about Textual; the UI pulls from the `Store` on its
own timers.

`run()` blocks, so the app calls it from a thread worker. Everything the UI asks for
(subscribe, unsubscribe, stop) is queued and applied by the engine thread between reads, so
only one thread ever touches the live socket. The one exception is a connection the server
has dropped (`server_dropped`): a short-lived thread reads it to its end while the engine
listens again on a new one.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import hiredis
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.settings import ConnectionSettings
from rps_tui.core.entry import Gap
from rps_tui.core.store import Store, SubscriptionState
from rps_tui.core.subscriber.base import Event, EventLog, State
from rps_tui.core.subscriber.drops import (
    LIMIT_REASON,
    Drop,
    discarded_estimate,
    dropped_reason,
)
from rps_tui.core.subscriber.intake import MESSAGE_KINDS, Intake, Sink
from rps_tui.core.subscriptions import Kind, Status, Subscription
from rps_tui.core.units import plural

READ_SIZE = 1 << 15  # bytes parsed as one batch: small batches stay in the CPU cache
RECV_SIZE = 1 << 20  # bytes one recv may bring: each recv hands the GIL to other threads
POLL_SECONDS = 0.1  # socket timeout: how soon queued commands and the watchdog get a turn
PING_AFTER = 1.0  # seconds of silence before the watchdog pings
STALL_AFTER = 3.0  # seconds a ping may go unanswered before the server counts as stalled
BACKOFF_FIRST = 0.25
DRAIN_SILENCE = 10.0  # a dropped connection silent this long has nothing more to give
BACKOFF_CAP = 5.0
SUB_COMMANDS = {Kind.CHANNEL: "SUBSCRIBE", Kind.PATTERN: "PSUBSCRIBE", Kind.SHARD: "SSUBSCRIBE"}
UNSUB_COMMANDS = {
    Kind.CHANNEL: "UNSUBSCRIBE",
    Kind.PATTERN: "PUNSUBSCRIBE",
    Kind.SHARD: "SUNSUBSCRIBE",
}
CONFIRMS = {b"subscribe": Kind.CHANNEL, b"psubscribe": Kind.PATTERN, b"ssubscribe": Kind.SHARD}
ENDS = {b"unsubscribe": Kind.CHANNEL, b"punsubscribe": Kind.PATTERN, b"sunsubscribe": Kind.SHARD}


class ServerClosed(ConnectionError):
    """The server closed the subscriber connection."""


class Stalled(ConnectionError):
    """The server stopped answering pings."""


class DroppedByServer(ConnectionError):
    """The monitor saw the server drop the subscriber; its socket has not said so yet."""

    def __init__(self, drop: Drop) -> None:
        super().__init__(drop.reason)
        self.drop = drop


class WrongNode(ConnectionError):
    """The node we reached is not (or is no longer) the one to listen to, e.g. a demoted
    Sentinel master: reconnect, and ask again where to go."""


class Engine:
    """Owns the subscriber connection; see the module docstring."""

    backoff_cap = BACKOFF_CAP  # the longest wait between two connection attempts

    def __init__(
        self,
        settings: ConnectionSettings,
        store: Store | None = None,
        *,
        clock: Callable[[], float] = time.time,
        client_name: str = "rps-tui-sub",
        log: EventLog | None = None,
        label: str = "",
    ) -> None:
        self.settings = settings
        self.store = store or Store()
        self.clock = clock
        self.client_name = client_name
        self.log = log or EventLog(clock)
        self.label = label  # prefixes events when several connections share one log
        self.node: str | None = None  # host:port of the connected node, kept per channel
        self.state = State.CONNECTING
        # why we are not connected, and time.monotonic() of the next attempt (None: none
        # planned); one tuple, so the UI thread never reads a reason with another's time
        self._why: tuple[str, float | None] = ("", None)
        self.reconnects = 0
        self.busy = False  # the last read filled the buffer: we are behind the server
        self.client_id: object = None  # CLIENT ID of the subscriber connection
        self.last_data: float | None = None  # clock() of the last bytes read
        self.limit_disconnects: int | None = None  # INFO stats, read at each connect
        self.on_data: Callable[[], None] | None = None  # set by the UI; called from this thread
        # set by a cluster coordinator; called from this thread
        self.on_moved: Callable[[Subscription, str], None] | None = None
        self.on_lost: Callable[[Engine], None] | None = None
        self.lost_since: float | None = None  # clock() since when we are not listening
        self._lost_reason = ""
        self._discarded: int | None = None  # bytes the server threw away for us, if known
        self._seen: tuple[int | None, tuple[int, ...] | None] = (None, None)  # buffer_seen
        self._sock: socket.socket | None = None
        self._reader: hiredis.Reader | None = None
        self._drainers: list[threading.Thread] = []
        self._closed = False  # the loss began with the server closing the connection
        self._recent_max: int | None = None  # INFO clients, read when reconnecting
        self._armed = True
        self._wanted: dict[Subscription, None] = {}  # insertion-ordered set
        self._commands: deque[tuple[str, Any]] = deque()
        self._awaiting: deque[Subscription] = deque()  # subscribe commands not yet confirmed
        self._by_key: dict[Kind, dict[bytes, SubscriptionState]] = {k: {} for k in Kind}
        self.intake = Intake(self.store, self._by_key)
        # what the server may send on the live connection: confirmed, not confirmed ended
        self._listening: set[tuple[Kind, bytes]] = set()
        self._stop = threading.Event()
        self._conn: redis.connection.AbstractConnection | None = None
        self._attempted: ConnectionSettings | None = None  # the node of the last attempt

    # -- API for the UI (any thread) -------------------------------------------------------
    @property
    def sink(self) -> Sink | None:
        """Every entry as it arrives (recording, headless tail); called from the engine
        thread with the store lock held, so it must be quick and thread-safe (a cluster
        has several)."""
        return self.intake.sink

    @sink.setter
    def sink(self, sink: Sink | None) -> None:
        self.intake.sink = sink

    @property
    def subscriptions(self) -> list[Subscription]:
        return list(self._wanted)

    def subscribe(self, sub: Subscription) -> None:
        self._commands.append(("sub", sub))

    def unsubscribe(self, sub: Subscription) -> None:
        self._commands.append(("unsub", sub))

    def adopt(self, sub: Subscription) -> None:
        """Take over a subscription from another connection, keeping its buffer and counts."""
        self._commands.append(("adopt", sub))

    def resubscribe(self, sub: Subscription) -> None:
        """Send the subscribe command again (the server dropped it; we still want it)."""
        self._commands.append(("resub", sub))

    def release(self, sub: Subscription) -> None:
        """Hand a subscription to another connection: stop listening, keep its state."""
        self._commands.append(("release", sub))

    def server_dropped(self, drop: Drop) -> None:
        """The server no longer lists our subscriber (the monitor asked): listen again on a
        new connection now, and read the old one to its end meanwhile."""
        self._commands.append(("dropped", drop))

    def buffer_seen(self, omem: int | None, limit: tuple[int, ...] | None) -> None:
        """What the monitor last saw of our buffer on the server: if the connection then
        ends, this tells whether we were dropped for falling behind (on Redis 7.0, which
        does not count such drops)."""
        self._seen = (omem, limit)

    def stop(self) -> None:
        self._stop.set()

    def rearm(self) -> None:
        """The UI is about to pull: call `on_data` again when something new arrives."""
        self._armed = True

    def _wake(self) -> None:
        if self.on_data is not None:
            # RuntimeError: the UI's event loop is closed, we are shutting down
            with contextlib.suppress(RuntimeError):
                self.on_data()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def events(self) -> deque[Event]:
        return self.log.events

    def events_since(self, seq: int) -> tuple[int, list[Event]]:
        return self.log.since(seq)

    @property
    def where(self) -> str:
        """What the header shows as the address."""
        return self.settings.address

    # -- hooks for engines that choose their node (cluster, Sentinel) ----------------------
    def _target(self) -> ConnectionSettings:
        """Where the next connection attempt goes."""
        return self.settings

    def _check_node(self, conn: redis.connection.AbstractConnection) -> None:
        """Called after connecting, before subscribing: raise WrongNode to go elsewhere."""

    def _periodic(self, now: float) -> None:
        """Called about once a second from the read loop: raise WrongNode to move."""

    # -- the engine thread -----------------------------------------------------------------
    def run(self) -> None:
        """Connect, subscribe, read; on any failure reconnect with capped, jittered backoff.

        A loss lasts from the last bytes read (or, for a drop the monitor saw, from when
        the subscriber was last seen listed) until every subscription is confirmed again;
        then each pane gets a gap marker (`_restored`)."""
        attempt = 0
        stalled = False
        with self.store.lock:
            self.store.tally(self.intake.tally)  # (again, if this engine ran before)
        while not self._stop.is_set():
            self._apply_commands(send=False)
            try:
                if self.lost_since is None:
                    self._set_state(State.CONNECTING)
                elif not stalled:  # a stalled server stays "stalled" until it answers again
                    self._set_state(State.RECONNECTING, *self._why)
                dropped_before = self.limit_disconnects
                sock = self._connect()
                if self.lost_since is not None and self._dropped_for_limit(dropped_before):
                    self._lost_reason = LIMIT_REASON
                    self._discarded = self._discarded or discarded_estimate(*self._seen)
                elif self._closed and self._lost_reason != LIMIT_REASON:
                    # Redis 7.0 counts no drops, but remembers a dropped client's buffer
                    # for a few seconds (INFO clients): that names the reason, as above
                    omem, limit = self._seen
                    recent = max(omem or 0, self._recent_max or 0)
                    if dropped_reason(False, recent, limit) == LIMIT_REASON:
                        self._lost_reason = LIMIT_REASON
                        self._discarded = discarded_estimate(recent, limit)
                self._resubscribe()
                attempt = 0
                stalled = False
                self._set_state(State.CONNECTED)
                if self.lost_since is not None and not self._awaiting:
                    with self.store.lock:
                        self._restored()  # nothing to confirm
                self._read_loop(sock)
            except (OSError, redis.RedisError, hiredis.ProtocolError) as exc:
                if self._stop.is_set():
                    break
                drop = exc.drop if isinstance(exc, DroppedByServer) else None
                if drop is not None:
                    self._drain_old()  # what the server sent before the drop is still valid
                reason = describe_error(exc, self._attempted or self.settings)
                if drop is not None:
                    reason = drop.reason
                if self.lost_since is None:
                    self._lost(exc, reason, drop)
                self.reconnects += 1
                delay = min(self.backoff_cap, BACKOFF_FIRST * 2**attempt) * random.uniform(0.5, 1)
                if drop is not None:
                    delay = 0.0  # listen again at once: every second costs messages
                attempt += 1
                stalled = stalled or isinstance(exc, Stalled)
                self._set_state(
                    State.STALLED if stalled else State.RECONNECTING,
                    reason,
                    time.monotonic() + delay,
                )
                self._stop.wait(delay)
            finally:
                self._disconnect()
        self._set_state(State.STOPPED)
        for thread in self._drainers:
            thread.join(2)
        with self.store.lock:
            self.store.forget(self.intake.tally)

    def _lost(self, exc: BaseException, reason: str, drop: Drop | None) -> None:
        """The start of a loss: since when we are deaf, and why."""
        now = self.clock()
        # deaf since the last bytes read (pings keep that under ~1 s on a quiet connection),
        # not since we noticed; a drop began when the subscriber was last seen listed
        since = drop.since if drop is not None else self.last_data or now
        self.lost_since = min(now, since)
        self._lost_reason, self._discarded = reason, None
        self._closed, self._recent_max = isinstance(exc, ServerClosed), None
        omem, limit = self._seen
        if drop is not None:
            self._discarded = drop.discarded
        elif isinstance(exc, ServerClosed) and dropped_reason(False, omem, limit) == LIMIT_REASON:
            # Redis 7.0 does not count the drop; the buffer we last saw tells
            self._lost_reason, self._discarded = LIMIT_REASON, discarded_estimate(omem, limit)
        self._mark_pending()  # not listening: no longer shown as active
        self._event("error", f"subscriber connection lost: {self._lost_reason}")
        if drop is not None:
            self._event(
                "warning",
                "listening again on a new connection; reading what the old one still holds",
            )
        if self.on_lost is not None:
            self.on_lost(self)

    def _restored(self) -> None:
        """Every subscription is confirmed again after a loss: mark the gap (lock held, or
        no reader running)."""
        if self.lost_since is None:
            return
        # The confirmation that ends the gap came in a read whose messages are stamped with
        # that read's time (`last_data`): the gap takes it too, so it is never later than the
        # messages after it (a CI run saw a gap 40 µs after the next message).
        read = self.last_data
        now = read if read is not None and read >= self.lost_since else self.clock()
        gap = Gap(self._lost_reason, max(0.0, now - self.lost_since), self._discarded)
        self.lost_since, self._seen = None, (None, None)  # the old connection's buffer
        self.store.mark_gap(gap, now, set(self._wanted))
        sink = self.sink  # once: a recording stopped meanwhile sets it to None
        if sink is not None:
            sink([[None, gap, now]])
        self._event("warning", f"reconnected after {gap.seconds:.1f} s ({gap.reason})")

    def _drain_old(self) -> None:
        """Hand the current connection to a thread that reads it to its end."""
        conn, sock, reader = self._conn, self._sock, self._reader
        self._conn = self._sock = self._reader = None
        if conn is None or sock is None or reader is None:
            return
        thread = threading.Thread(
            target=self._drain, args=(conn, sock, reader), name="subscriber-drain", daemon=True
        )
        self._drainers = [t for t in self._drainers if t.is_alive()] + [thread]
        thread.start()

    def _drain(self, conn: object, sock: socket.socket, reader: hiredis.Reader) -> None:
        """Read a dropped connection to its end: its messages were sent before the drop and
        are as valid as any. Ends at EOF, an error, `DRAIN_SILENCE` s of silence, or stop."""
        buf = bytearray(READ_SIZE)
        got, last = 0, self.clock()
        try:
            sock.settimeout(0.5)
            while not self._stop.is_set():
                try:
                    n = sock.recv_into(buf)
                except TimeoutError:
                    if self.clock() - last > DRAIN_SILENCE:
                        break
                    continue
                if not n:
                    break
                reader.feed(buf, 0, n)
                batch = [
                    r
                    for r in iter(reader.gets, False)
                    if type(r) is list and r and r[0] in MESSAGE_KINDS
                ]
                last = self.clock()
                if batch:
                    got += len(batch)
                    with self.store.lock:  # not the fast path: that follows the new connection
                        self.intake.take_any(batch, last, _ignore)
                    if self._armed:
                        self._armed = False
                        self._wake()
        except (OSError, hiredis.ProtocolError):
            pass  # a dropped connection may end in a reset
        finally:
            with contextlib.suppress(Exception):
                conn.disconnect()  # type: ignore[attr-defined]
        self._event(
            "information",
            f"the dropped connection delivered {plural(got, 'more message')} at its end",
        )

    def _connect(self) -> socket.socket:
        self._attempted = None  # a failure to find the node is described with self.settings
        target = self._target()
        self._attempted = target
        client = redis.Redis(
            **target.redis_kwargs(  # no retries inside: run() has its own backoff
                protocol=2,
                socket_timeout=5.0,
                retry=Retry(NoBackoff(), 0),
            )
        )
        conn = client.connection_pool.make_connection()
        conn.connect()
        self._conn = conn
        self._check_node(conn)
        self.node = target.node
        with self.store.lock:
            self.store.fold()  # what came before, under the node it came from
            self.intake.tally.node = self.node
            self._listen(clear=True)
        # CLIENT may be denied by an ACL: the name and id are for CLIENT LIST, not essential
        self._ask(conn, "CLIENT", "SETNAME", self.client_name)
        self.client_id = self._ask(conn, "CLIENT", "ID")
        self.limit_disconnects = _info_int(
            self._ask(conn, "INFO", "stats"), "client_output_buffer_limit_disconnections"
        )
        if self.lost_since is not None and self.limit_disconnects is None:  # Redis 7.0
            self._recent_max = _info_int(
                self._ask(conn, "INFO", "clients"), "client_recent_max_output_buffer"
            )
        sock = conn._sock  # redis-py did the handshake; from here the engine reads raw RESP
        sock.settimeout(POLL_SECONDS)
        self._sock = sock
        return sock

    @staticmethod
    def _ask(conn: redis.connection.AbstractConnection, *args: str) -> object:
        """One command before subscribing; None if the server (or an ACL) refuses it."""
        conn.send_command(*args)
        try:
            return conn.read_response()
        except redis.ResponseError:
            return None

    def _dropped_for_limit(self, before: int | None) -> bool:
        """Did the server's count of output-buffer disconnections (INFO stats, Redis 7+ and
        Valkey) grow while we were away? It is server-wide, so with several subscribers it
        is strong evidence, not proof; the gap marker says what the server said."""
        return (
            before is not None
            and self.limit_disconnects is not None
            and (self.limit_disconnects > before)
        )

    def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        self._sock = self._reader = None
        if conn is not None:
            # closing a dead socket may fail in many ways; it is gone either way
            with contextlib.suppress(Exception):
                conn.disconnect()

    def _send(self, *args: str | bytes) -> None:
        assert self._conn is not None
        self._conn.send_command(*args, check_health=False)

    def _mark_pending(self) -> None:
        with self.store.lock:
            for sub in self._wanted:
                state = self.store.subs.get(sub)
                if state is not None and state.status is Status.ACTIVE:
                    state.status = Status.PENDING

    def _resubscribe(self) -> None:
        """After (re)connecting: send every wanted subscription again."""
        self._awaiting.clear()
        self._mark_pending()
        for sub in self._wanted:
            self._send_subscribe(sub)

    def _send_subscribe(self, sub: Subscription) -> None:
        self._awaiting.append(sub)
        self._send(SUB_COMMANDS[sub.kind], sub.key)

    def _apply_commands(self, send: bool = True) -> None:
        while self._commands:
            op, sub = self._commands.popleft()
            if op == "dropped":
                drop: Drop = sub  # type: ignore[assignment]
                if send and drop.client_id == self.client_id:
                    raise DroppedByServer(drop)
                continue  # about a connection that has already ended
            if op == "resub":
                if send and sub in self._wanted:
                    self._send_subscribe(sub)
            elif op in ("sub", "adopt"):
                if sub in self._wanted:
                    continue
                self._wanted[sub] = None
                with self.store.lock:
                    state = self.store.add_subscription(sub)
                    state.status, state.error = Status.PENDING, None
                self._by_key[sub.kind][sub.key] = state
                if send:
                    self._send_subscribe(sub)
            else:
                if self._wanted.pop(sub, 0) == 0:
                    continue
                self._by_key[sub.kind].pop(sub.key, None)
                self._listen()  # the fast path must not find it any more
                if op == "unsub":
                    with self.store.lock:
                        state = self.store.remove(sub)
                        if state is not None:
                            state.status = Status.REMOVED
                if send:
                    # a dead socket fails here; run() reconnects (without this subscription)
                    self._send(UNSUB_COMMANDS[sub.kind], sub.key)

    def _read_loop(self, sock: socket.socket) -> None:
        """Read, parse, hand the replies of each `READ_SIZE` bytes read to the intake as one
        batch. A recv takes up to `RECV_SIZE`, so a backlog comes in few system calls (with
        a timeout, each is a poll and a recv) and every recv empties the socket's buffer,
        which lets the server write in large pieces; and each recv releases the GIL, which
        with several readers in one process (a cluster's shards) hands it to another
        thread. Against 32 KiB recvs, measured with benchmarks/drain.py: 1.65x -> 1.87x
        redis-cli on one connection."""
        buf = bytearray(RECV_SIZE)
        reader = self._reader = hiredis.Reader()  # kept: a drop hands it to _drain
        feed, gets = reader.feed, reader.gets
        clock, stop, lock, store = self.clock, self._stop, self.store.lock, self.store
        take, take_any, control = self.intake.take, self.intake.take_any, self._control
        last_data = next_sample = self.last_data = clock()
        ping_sent: float | None = None
        while not stop.is_set():
            if self._commands:
                self._apply_commands()
            try:
                n = sock.recv_into(buf)
            except TimeoutError:
                now = clock()
                if self.intake.tally.time is not None:
                    with lock:
                        store.fold()
                if now >= next_sample:
                    next_sample = self._sample(now)
                if ping_sent is not None and now - ping_sent > STALL_AFTER:
                    raise Stalled(f"no reply to PING for {now - ping_sent:.1f} s") from None
                self.busy = False
                if ping_sent is None and now - last_data > PING_AFTER:
                    self._send("PING")
                    ping_sent = now
                continue
            if not n:
                raise ServerClosed("the server closed the connection")
            self.busy = n == RECV_SIZE  # a full read: the server has more queued for us
            now = last_data = self.last_data = clock()
            ping_sent = None
            taken = False
            for start in range(0, n, READ_SIZE):
                feed(buf, start, min(READ_SIZE, n - start))
                batch = list(iter(gets, False))  # subscriber replies are never a bare 0
                if batch:
                    taken = True
                    with lock:
                        if not take(batch, now):  # the fast path, else reply by reply
                            take_any(batch, now, control)
                        store.settle(now)
            if taken and self._armed:  # at most one wake-up per frame the UI draws
                self._armed = False
                self._wake()
            if now >= next_sample:
                next_sample = self._sample(now)

    def _sample(self, now: float) -> float:
        with self.store.lock:
            self.store.tick(now)
        self._periodic(now)
        return now + 1.0

    def _control(self, reply: object) -> None:
        """Confirmations, pongs and error replies (called with the store lock held)."""
        if isinstance(reply, hiredis.ReplyError):
            sub = self._awaiting.popleft() if self._awaiting else None
            text = str(reply)
            if sub is not None and text.startswith(("MOVED ", "ASK ")) and self.on_moved:
                state = self.store.subs.get(sub)
                if state is not None:
                    state.status = Status.PENDING
                self.on_moved(sub, f"the node answered {text.split()[0]}")
                if not self._awaiting:
                    self._restored()
                return
            if sub is not None:
                state = self.store.subs.get(sub)
                if state is not None:
                    state.status, state.error = Status.ERROR, text
                self._event("error", f"{SUB_COMMANDS[sub.kind]} {sub.name!r} refused: {text}")
                if not self._awaiting:
                    self._restored()
            else:
                self._event("error", f"server error: {text}")
            return
        if not isinstance(reply, list) or not reply:
            return
        ended = ENDS.get(reply[0])
        if ended is not None:  # ours, or (sunsubscribe) pushed by the server
            self._listening.discard((ended, reply[1]))
            self._listen()
        if reply[0] == b"sunsubscribe" and self.on_moved is not None:
            # pushed by the server when the channel's slot moved away (or the node stopped
            # serving it); our own SUNSUBSCRIBE has already removed the channel from _wanted
            sub = Subscription(Kind.SHARD, reply[1].decode("utf-8", "surrogateescape"))
            if sub in self._wanted:
                state = self._by_key[Kind.SHARD].get(reply[1])
                if state is not None:
                    state.status = Status.PENDING
                self.on_moved(sub, "its slot moved")
            return
        kind = CONFIRMS.get(reply[0])
        if kind is not None:
            self._listening.add((kind, reply[1]))
            self._listen()
            if self._awaiting and self._awaiting[0].kind is kind:
                self._awaiting.popleft()
            state = self._by_key[kind].get(reply[1])
            if state is not None:
                state.status = Status.ACTIVE
            if not self._awaiting:
                self._restored()

    def _listen(self, clear: bool = False) -> None:
        """Tell the intake what the server may send now (a new connection: nothing)."""
        if clear:
            self._listening.clear()
        self.intake.listen(self._listening)

    def _set_state(self, state: State, detail: str = "", retry_at: float | None = None) -> None:
        self.state, self._why = state, (detail, retry_at)

    @property
    def state_detail(self) -> str:
        """Why we are not connected, after a countdown to the next attempt that is true
        whenever it is read ("retrying in 0.3 s", then "retrying now" while the attempt
        runs, with its seconds so far once it takes one: a frozen server takes a few). The
        countdown comes first: a narrow header cuts the end, and the reason is the long part."""
        detail, retry_at = self._why
        if retry_at is None:
            return detail
        left = retry_at - time.monotonic()
        if left >= 0.05:
            when = f"retrying in {left:.1f} s"
        else:
            when = "retrying now" + (f" ({-left:.0f} s)" if left <= -1 else "")
        return f"{when}; {detail}" if detail else when

    @property
    def retry_at(self) -> float | None:
        """time.monotonic() of the next connection attempt (past: it is under way); None
        when none is planned. While it is set, `state_detail` changes with time alone."""
        return self._why[1]

    def _event(self, level: str, text: str) -> None:
        self.log.add(level, f"{self.label}: {text}" if self.label else text)


def _ignore(reply: object) -> None:
    """What a dropped connection says besides messages is of no interest."""


def _info_int(reply: object, field: str) -> int | None:
    """One integer field of an INFO reply (raw text); None if absent or refused."""
    if not isinstance(reply, bytes):
        return None
    for line in reply.decode("ascii", "replace").splitlines():
        if line.startswith(field + ":"):
            return int(line.split(":", 1)[1])
    return None
