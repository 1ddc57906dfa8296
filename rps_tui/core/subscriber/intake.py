"""Where one socket read's messages go: buffers, counters and the channel tally.

This is the hot path, measured against redis-cli (benchmarks/drain.py). hiredis turns a read
into a list of reply lists; from there every step is a C-level pass over that list (map,
Counter), never Python bytecode per message, and each pass costs about 20-30 ns a message,
so the passes are few:

1. payload sizes, which also proves the shape: a confirmation, pong or error reply among
   messages fails it (IndexError, TypeError) before anything is changed;
2. per-channel counts into the connection's `ChannelTally` (folded into the channel table
   every `FOLD_SECONDS` or so, not per read);
3. with several subscriptions in one read, one more pass sorts the replies into them.

The list itself is then kept whole, with its receive time, in the subscription's history
(`SubscriptionState.take`): no per-message stamping or buffering. Only a sink (recording,
`tail`) gets per-message entries, made for it.

The fast path needs to know which kind of message a read holds. The engine tells the intake
what the server may send on its connection (`listen`): while that is one kind only, a read
needs no check of its kinds (shape 1 catches everything else), and while it is one
subscription only, no partition either. Anything else takes `take_any`, reply by reply.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from itertools import repeat
from operator import itemgetter

from rps_tui.core.store import ChannelTally, Store, SubscriptionState
from rps_tui.core.subscriptions import KIND_OF, REPLY_KIND, Kind, Status

_SECOND = itemgetter(1)
_consume = deque(maxlen=0).extend  # runs an iterator to its end at C speed

# reply kind -> (subscription kind, channel of a reply, payload of a reply)
ROUTES: dict[bytes, tuple[Kind, itemgetter, itemgetter]] = {
    reply: (kind, itemgetter(2), itemgetter(3))
    if kind is Kind.PATTERN  # [pmessage, pattern, channel, payload]
    else (kind, itemgetter(1), itemgetter(2))
    for reply, kind in KIND_OF.items()
}
MESSAGE_KINDS = frozenset(ROUTES)

Sink = Callable[[list[list]], None]


class Intake:
    """Counts and buffers the messages of one connection (store lock held in every call)."""

    def __init__(self, store: Store, by_key: dict[Kind, dict[bytes, SubscriptionState]]):
        self.store = store
        self.by_key = by_key  # the engine's: subscription state by kind and key
        self.tally: ChannelTally = store.tally()
        self.sink: Sink | None = None  # every entry as it arrives (recording, headless tail)
        # the fast path: (channel of, payload of, states of that kind, the one state or None)
        self._plan: tuple[itemgetter, itemgetter, dict, SubscriptionState | None] | None = None

    def listen(self, listening: Iterable[tuple[Kind, bytes]]) -> None:
        """What the server may send on this connection now: the subscriptions it has
        confirmed and not yet confirmed as ended."""
        listening = set(listening)
        kinds = {kind for kind, _ in listening}
        if len(kinds) != 1:
            self._plan = None
            return
        kind = kinds.pop()
        _, channel_of, payload_of = ROUTES[REPLY_KIND[kind]]
        states = self.by_key[kind]
        single = states.get(next(iter(listening))[1]) if len(listening) == 1 else None
        self._plan = (channel_of, payload_of, states, single)

    def take(self, batch: list, now: float) -> bool:
        """The fast path: True if every reply is a message of the one kind listened to."""
        plan = self._plan
        if plan is None:
            return False
        channel_of, payload_of, states, single = plan
        try:
            sizes = list(map(len, map(payload_of, batch)))
        except (IndexError, TypeError):  # a control reply among them: take_any
            return False
        self._take(batch, now, sizes, channel_of, payload_of, states, single)
        return True

    def take_any(self, batch: list, now: float, control: Callable[[object], None]) -> None:
        """Reply by reply: runs of messages of one kind are taken together; anything else
        goes to `control` in order (a confirmation may change what follows)."""
        start, run_kind = 0, None
        for i, reply in enumerate(batch):
            kind = reply[0] if type(reply) is list and reply else None
            if kind in MESSAGE_KINDS:
                if kind != run_kind:
                    if run_kind is not None:
                        self.take_kind(run_kind, batch[start:i], now)
                    start, run_kind = i, kind
                continue
            if run_kind is not None:
                self.take_kind(run_kind, batch[start:i], now)
                run_kind = None
            control(reply)
        if run_kind is not None:
            self.take_kind(run_kind, batch[start:], now)

    def take_kind(self, kind: bytes, replies: list, now: float) -> None:
        """Messages all of one reply kind, for any of that kind's subscriptions."""
        sub_kind, channel_of, payload_of = ROUTES[kind]
        sizes = list(map(len, map(payload_of, replies)))
        self._take(replies, now, sizes, channel_of, payload_of, self.by_key[sub_kind], None)

    def _take(
        self,
        batch: list,
        now: float,
        sizes: list[int],
        channel_of: itemgetter,
        payload_of: itemgetter,
        states: dict[bytes, SubscriptionState],
        single: SubscriptionState | None,
    ) -> None:
        sink = self.sink  # read once: a recording stopped meanwhile sets it to None
        if sink is not None:  # entries of its own: the history keeps the replies
            sink(list(map(list.__add__, batch, repeat([now]))))
        self.store.total += len(batch)
        uniform = self.tally.add(map(channel_of, batch), sizes, now)
        if single is not None:
            self._keep(single, batch, sum(sizes), now)
            return
        groups: defaultdict[bytes, list] = defaultdict(list)
        _consume(map(list.append, map(groups.__getitem__, map(_SECOND, batch)), batch))
        if len(groups) == 1:
            key, group = groups.popitem()
            state = states.get(key)
            if state is not None:
                self._keep(state, group, sum(sizes), now)
            return
        size = sizes[0]
        keep = self._keep
        for key, group in groups.items():
            state = states.get(key)
            if state is not None:
                # one size for all (common): no pass over the group for its bytes
                keep(
                    state,
                    group,
                    len(group) * size if uniform else sum(map(len, map(payload_of, group))),
                    now,
                )

    def _keep(self, state: SubscriptionState, replies: list, size: int, now: float) -> None:
        """One subscription's share of a read: counts, history, byte caps (O(1))."""
        if state.status is Status.REMOVED:  # a message in flight after its unsubscribe
            return
        state.total += len(replies)
        state.bytes += size
        grew = state.take(replies, size, now)
        store = self.store
        store.buffered += grew
        if state.held > store.max_bytes or store.buffered > store.max_total_bytes:
            store.bound(state)  # the byte caps
