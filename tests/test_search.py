"""Filter and search: the query language (core, no terminal) and the pane driven by keys
against real servers: only matches shown, highlighted, `n`/`N`, errors that keep the text."""

from __future__ import annotations

import calendar
import time

import pytest
import redis

from rps_tui.core.entry import Entry, Gap
from rps_tui.core.payload.query import (
    SCAN_LIMIT,
    TIME_LIMIT,
    JsonQuery,
    QueryError,
    RegexQuery,
    SubstringQuery,
    parse_query,
)
from rps_tui.core.subscriptions import Kind, Subscription, glob_escape
from rps_tui.ui.app import RpsApp
from rps_tui.ui.message_pane import MATCH_STYLE
from tests.support.app import SIZE, active, make_app, pane_text
from tests.support.wait import async_wait_for


def msg(payload: bytes, channel: bytes = b"chan") -> Entry:
    """A buffer entry as the engine stores it: [kind, channel, payload, time]."""
    return [b"message", channel, payload, 1_700_000_000.0]


AT_17_17_17 = calendar.timegm((2023, 11, 14, 17, 17, 17)) + 0.17  # tests run in UTC
GAP: Entry = [None, Gap("connection lost", 2.5), 1_700_000_000.0]


# -- core: the query language --------------------------------------------------------------
def test_substring_lower_case_ignores_case_mixed_case_does_not() -> None:
    lower, mixed = parse_query("order"), parse_query("Order")
    assert isinstance(lower, SubstringQuery)
    assert lower.matches(msg(b"NEW ORDER 7")) and lower.matches(msg(b"order"))
    assert mixed.matches(msg(b"Order 7")) and not mixed.matches(msg(b"order 7"))
    assert not lower.matches(msg(b"nothing here"))


def test_substring_searches_raw_bytes_and_the_channel() -> None:
    query = parse_query("eu-west")
    assert query.matches(msg(b"\xff\xfe not utf-8", channel=b"metrics.eu-west"))
    assert parse_query("\u00e9t\u00e9").matches(msg("summer: \u00e9t\u00e9".encode()))
    assert not query.matches(msg(b"\xff\xfe not utf-8", channel=b"metrics.us-east"))


def test_substring_spans_follow_the_case_rule() -> None:
    assert parse_query("an").spans("bANana") == [(1, 3), (3, 5)]
    assert parse_query("An").spans("bANana An") == [(7, 9)]
    assert parse_query("").spans("anything") == []


def test_regex_with_groups_is_case_sensitive_unless_asked() -> None:
    query = parse_query(r"re:ord-(\d+)/(eu|us)")
    assert isinstance(query, RegexQuery)
    assert query.matches(msg(b"got ord-42/eu ok"))
    assert not query.matches(msg(b"got ORD-42/eu ok")) and not query.matches(msg(b"ord-x/eu"))
    folded = parse_query(r"re:(?i)ord-(\d+)")
    assert folded.matches(msg(b"ORD-7"))
    assert folded.spans("x ord-1 ORD-22") == [(2, 7), (8, 14)]
    assert parse_query(r"re:^metrics\.").matches(msg(b"42", channel=b"metrics.cpu"))
    assert parse_query(r"re:\w+").matches(msg(b"\xff\xfe caf\xc3\xa9"))  # bad UTF-8: no crash
    assert parse_query("re:x*").spans("abc") == []  # empty matches highlight nothing


def test_channel_filter_is_a_redis_glob_and_an_escaped_name_is_exact() -> None:
    branch = parse_query("ch:orders:eu:*")
    assert branch.matches(msg(b"1", channel=b"orders:eu:berlin"))
    assert branch.matches(msg(b"1", channel=b"orders:eu:"))
    assert not branch.matches(msg(b"1", channel=b"orders:us:nyc"))
    assert not branch.matches(msg(b"1", channel=b"orders:eu"))
    assert parse_query("ch:orders.eu").matches(msg(b"1", channel=b"orders.eu"))
    assert not parse_query("ch:orders.eu").matches(msg(b"1", channel=b"orders.eux"))
    starred = parse_query("ch:" + glob_escape("lit*[1]"))  # as Enter on a table row sets it
    assert starred.matches(msg(b"1", channel=b"lit*[1]"))
    assert not starred.matches(msg(b"1", channel=b"literal1"))
    assert parse_query("ch:sensor.[ab]?").matches(msg(b"1", channel=b"sensor.b7"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("re:(", "missing ), unterminated subpattern at position 0"),
        ("re:[a-", "unterminated character set"),
        ("re:a{2,1}", "min repeat greater than max repeat"),
        ("json:price >", "Incomplete expression at column 7"),
        ("json:user.", "column"),
        ("json:nosuch(tags)", "unknown function nosuch()"),
        ("json:length(a, b)", "Expected 1 argument"),
        ("json:", "type a JMESPath expression"),
        ("ch:", "needs a channel name or glob"),
    ],
)
def test_invalid_queries_raise_one_line(text: str, words: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    message = str(caught.value)
    assert words in message and "\n" not in message
    assert message.startswith(text.split(":")[0] + ":")


def test_json_nested_fields_comparisons_and_functions() -> None:
    doc = b'{"price": 25, "user": {"name": "ann", "tags": ["vip", "x"]}, "n": 0, "z": null}'
    assert isinstance(parse_query("json:price > `20`"), JsonQuery)
    for expr in (
        "price > `20`",
        "user.name == 'ann'",
        "contains(user.tags, 'x')",
        "length(user.tags) == `2`",
        "n",  # JMESPath: every number is true, 0 included
        "user.tags[?@ == 'vip']",
        "price > `20` && user.name == 'ann'",
    ):
        assert parse_query("json:" + expr).matches(msg(doc)), expr
    for expr in ("price > `30`", "user.name == 'bob'", "z", "missing", "user.tags[?@ == 'q']"):
        assert not parse_query("json:" + expr).matches(msg(doc)), expr


def test_json_never_matches_what_is_not_json_or_has_the_wrong_type() -> None:
    query = parse_query("json:contains(tags, 'x')")
    assert query.matches(msg(b'{"tags": ["x"]}'))
    assert not query.matches(msg(b'{"tags": 5}'))  # a type error on this document
    assert not query.matches(msg(b"tags x"))
    assert not query.matches(msg(b"\xff\xfe\x00"))
    assert not query.matches(msg(b"[" * 100_000))  # nested too deep to parse
    assert not parse_query("json:@").matches(msg(b"{}"))  # an empty object is false


def test_json_spans_are_the_selected_keys_with_their_values() -> None:
    query = parse_query("json:user.name == 'ann' && price > `20`")
    line = '{"id":1,"price":25,"user":{"name":"ann","tags":["a"]}}'
    assert [line[a:b] for a, b in query.spans(line)] == ['"price":25', '"name":"ann"']
    cut = '{"id":1,"user":{"name":"an'  # a line cut inside the value: the key alone
    assert [cut[a:b] for a, b in query.spans(cut)] == ['"name":']
    projected = parse_query("json:items[?qty > `1`].sku")  # `items` only leads the way
    items = '{"items":[{"sku":"A","qty":2}]}'
    assert [items[a:b] for a, b in projected.spans(items)] == ['"sku":"A"', '"qty":2']


@pytest.mark.parametrize("text", ["zzz", "Zzz", r"re:^\d{9}$", "json:price > `1`"])
def test_gap_markers_match_every_query(text: str) -> None:
    assert parse_query(text).matches(GAP)


def test_only_the_first_scan_limit_bytes_are_searched() -> None:
    filler = b"a" * (SCAN_LIMIT - 6)
    inside, outside = filler + b"needle", filler + b"......needle"
    for text in ("needle", "re:needle"):
        query = parse_query(text)
        assert query.matches(msg(inside)) and not query.matches(msg(outside)), text
    small = b'{"k": 1, "pad": "' + b"p" * 100 + b'"}'
    big = b'{"k": 1, "pad": "' + b"p" * SCAN_LIMIT + b'"}'
    assert parse_query("json:k").matches(msg(small)) and not parse_query("json:k").matches(msg(big))


def test_catastrophic_regex_on_a_10mb_payload_gives_up_quickly() -> None:
    """`(\\w+)\\s+x` is quadratic: about 38 s on 64 KiB of letters, far more on 10 MB."""
    query = parse_query(r"re:(\w+)\s+x")
    started = time.perf_counter()
    assert not query.matches(msg(b"a" * 10_000_000))
    assert time.perf_counter() - started < 1.0
    assert query.failure is not None and "gave up" in query.failure
    started = time.perf_counter()
    assert not query.matches(msg(b"ab x"))  # disabled from now on: matches nothing, at once
    assert query.matches(GAP)  # gaps still show
    assert time.perf_counter() - started < TIME_LIMIT
    fresh = parse_query(r"re:(\w+)\s+x")  # a new query starts afresh
    assert fresh.matches(msg(b"ab x")) and fresh.failure is None


# -- the pane, against a real server -------------------------------------------------------
def highlighted(app: RpsApp, y: int) -> list[str]:
    """The runs of text drawn in the match style on row `y` of the pane."""
    runs: list[str] = []
    previous = False
    for segment in app.dashboard.pane.render_line(y):
        style = segment.style
        lit = style is not None and style.bgcolor == MATCH_STYLE.bgcolor
        if lit and previous:
            runs[-1] += segment.text
        elif lit:
            runs.append(segment.text)
        previous = lit
    return runs


def shown(app: RpsApp) -> list[bytes | Gap]:
    return [e[-2] for e in app.dashboard.pane.model.lines]


ORDERS = [
    b'{"id": 1, "price": 12.5, "user": {"name": "ann"}}',
    b"plain text about a price",
    b'{"id": 2, "price": 40, "user": {"name": "bob"}}',
    b"\xff\xfe binary",
    b'{"id": 3, "price": 99, "user": {"name": "ann"}}',
]


async def test_json_filter_typed_applies_to_history_and_new_messages(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.PATTERN, "search.json.*")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for payload in ORDERS:
            redis_client.publish("search.json.orders", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == len(ORDERS))
        await pilot.press("slash", *"json:price > `20`")
        await async_wait_for(lambda: app.dashboard.pane.model.filter == "json:price > `20`")
        assert shown(app) == [ORDERS[2], ORDERS[4]]
        assert app.dashboard.pane.model.error is None
        await pilot.press("enter")  # keeps the filter, back to the pane
        redis_client.publish("search.json.orders", b'{"id": 4, "price": 21}')
        redis_client.publish("search.json.orders", b'{"id": 5, "price": 3}')
        redis_client.publish("search.json.orders", b"price > 20 (but not JSON)")
        await async_wait_for(lambda: app.session.store.subs[sub].total == len(ORDERS) + 3)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        await pilot.pause(0.2)
        assert shown(app) == [ORDERS[2], ORDERS[4], b'{"id": 4, "price": 21}']
        text = pane_text(app)
        assert '"price":40' in text[0] and "search.json.orders" in text[0]
        assert highlighted(app, 0) == ['"price":40']
        assert highlighted(app, 2) == ['"price":21']
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"json:user.name == 'ann'")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        assert shown(app) == [ORDERS[0], ORDERS[4]]
        assert highlighted(app, 1) == ['"name":"ann"']


async def test_substring_and_regex_highlight_in_payload_and_channel(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.PATTERN, "search.hl.*")
    app = make_app(server.url, sub, clock=lambda: AT_17_17_17)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("search.hl.eu", "ORDER ord-17 shipped")
        redis_client.publish("search.hl.us", "nothing to see")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        await pilot.press("slash", *"ord")  # lower case: both ORDER and ord-17
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 1)
        assert highlighted(app, 0) == ["ORD", "ord"]
        await pilot.press("ctrl+a", "ctrl+k", *r"re:ord-(\d+)|\.eu")
        await async_wait_for(lambda: app.dashboard.pane.model.filter == r"re:ord-(\d+)|\.eu")
        assert shown(app) == [b"ORDER ord-17 shipped"]
        assert highlighted(app, 0) == [".eu", "ord-17"]
        await pilot.press("ctrl+a", "ctrl+k", *"re:17", "enter")
        await async_wait_for(lambda: app.dashboard.pane.model.filter == "re:17")
        assert pane_text(app)[0].startswith("17:17:17.170  search.hl.eu  ORDER ord-17")
        assert highlighted(app, 0) == ["17"]  # in the payload; the receive time is never lit


async def test_n_and_shift_n_step_through_matches_and_wrap(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.CHANNEL, "search.nav")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for payload in (b"hit 1", b"miss", b"hit 2", b"miss", b"hit 3"):
            redis_client.publish("search.nav", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 5)
        await pilot.press("n")  # no filter: nothing to match, the cursor stays
        assert app.dashboard.pane.model.cursor is None
        with app.session.store.lock:  # a gap marker, as the engine adds after a reconnect
            app.session.store.mark_gap(Gap("test gap", 1.0), time.time(), [sub])
        redis_client.publish("search.nav", b"hit 4")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 7)
        model = app.dashboard.pane.model
        assert model.set_filter("hit") is None
        model.rebuild(app.session.store)
        app.dashboard.pane.sync()
        assert shown(app)[:3] == [b"hit 1", b"hit 2", b"hit 3"]
        assert isinstance(shown(app)[3], Gap)  # a filtered view still shows the gap
        assert shown(app)[4] == b"hit 4"
        await pilot.press("N")  # no cursor: the newest match
        assert model.cursor == 4 and not model.follow
        await pilot.press("N")  # steps over the gap marker
        assert model.cursor == 2
        await pilot.press("n")
        assert model.cursor == 4
        await pilot.press("n")  # wraps to the top
        assert model.cursor == 0
        await pilot.press("N")  # and back round to the bottom
        assert model.cursor == 4
        assert pane_text(app)[4].rstrip().endswith("hit 4")
        assert highlighted(app, 4) == ["hit"]  # the cursor line is lit too
        bindings = app.screen.active_bindings  # ids, so a keymap can rebind them
        assert (
            bindings["n"].binding.id == "pane.next_match"
            and bindings["n"].node is app.dashboard.pane
        )
        assert bindings["N"].binding.id == "pane.previous_match"


async def test_invalid_regex_keeps_the_text_and_reports_the_error(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.CHANNEL, "search.bad")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for payload in (b"alpha", b"beta(", b"gamma"):
            redis_client.publish("search.bad", payload)
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        await pilot.press("slash", *"re:a$")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        await pilot.press("(")  # `re:a$(`: unbalanced
        await async_wait_for(lambda: app.dashboard.filter_input.value == "re:a$(")
        model = app.dashboard.pane.model
        assert model.filter == "re:a$(" and app.focused is app.dashboard.filter_input
        assert model.error == "re: missing ), unterminated subpattern at position 2"
        assert shown(app) == [b"alpha", b"gamma"]  # the last valid query stays in force
        assert "missing )" in str(app.dashboard.filter_input.border_subtitle)  # shown, in red
        assert app.dashboard.filter_input.has_class("-invalid")
        assert app.is_running and app.return_code is None  # no traceback, still up
        await pilot.press("backspace", *r"|\(")  # `re:a$|\(`: now valid
        await async_wait_for(lambda: app.dashboard.pane.model.error is None)
        assert (
            not app.dashboard.filter_input.border_subtitle
            and not app.dashboard.filter_input.has_class("-invalid")
        )
        assert shown(app) == [b"alpha", b"beta(", b"gamma"]
        assert model.set_filter("json:price >") == "json: Incomplete expression at column 7"
        assert model.filter == "json:price >"


async def test_a_runaway_regex_on_a_10mb_message_does_not_hang_the_pane(
    server, redis_client: redis.Redis
) -> None:
    sub = Subscription(Kind.CHANNEL, "search.big")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        redis_client.publish("search.big", b"a" * 10_000_000)
        redis_client.publish("search.big", b"small x")
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        model = app.dashboard.pane.model
        started = time.perf_counter()
        assert model.set_filter(r"re:(\w+)\s+x") is None
        model.rebuild(app.session.store)
        app.dashboard.pane.sync()
        assert time.perf_counter() - started < 1.0
        assert model.error is not None and "gave up" in model.error
        assert model.lines == []  # a query that gave up shows nothing, and says why
        await pilot.press("n")  # and the keys still answer
        assert model.cursor is None
        model.set_filter(r"re:small")
        model.rebuild(app.session.store)
        assert shown(app) == [b"small x"] and model.error is None


async def test_a_json_filter_reads_payloads_as_the_decoder_does(
    server, redis_client: redis.Redis
) -> None:
    """msgpack (or gzip, base64) payloads shown as JSON are filtered as JSON too."""
    import msgpack

    sub = Subscription(Kind.CHANNEL, "search.packed")
    app = make_app(server.url, sub)
    async with app.run_test(size=SIZE) as pilot:
        await active(app, sub)
        for price in (10, 25, 40):
            redis_client.publish("search.packed", msgpack.packb({"price": price}))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)
        await pilot.press("slash", *"json:price > `20`", "enter")
        await async_wait_for(
            lambda: len(app.dashboard.pane.model.lines) == 0
        )  # raw bytes: not JSON
        for _ in range(4):  # auto -> text -> json -> hex -> msgpack
            await pilot.press("m")
        assert app.dashboard.pane.model.decoder == "msgpack"
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 2)
        assert [msgpack.unpackb(e[-2])["price"] for e in app.dashboard.pane.model.lines] == [25, 40]
        redis_client.publish("search.packed", msgpack.packb({"price": 99}))
        redis_client.publish("search.packed", msgpack.packb({"price": 1}))
        await async_wait_for(lambda: len(app.dashboard.pane.model.lines) == 3)  # new ones too
