"""From the user's settings to a Plan: reach the server, find a Sentinel's master once, and
on a cluster the primaries (classic subscribers and publishers spread over them) and the
owner of each channel's slot (--shard). Fails with ConnectError, one line."""

from __future__ import annotations

import redis

from rps_tui.core.bench.message import channel_names
from rps_tui.core.bench.wire import Plan
from rps_tui.core.connection.cluster_map import read_map
from rps_tui.core.connection.errors import describe_error
from rps_tui.core.connection.probe import ConnectError, reach
from rps_tui.core.connection.sentinel import master_settings
from rps_tui.core.connection.settings import ConnectionSettings


def plan_for(
    settings: ConnectionSettings,
    *,
    run: str,
    publishers: int,
    subscribers: int,
    channels: int,
    size: int,
    rate: float | None,
    duration: float | None,
    messages: int | None,
    pattern: bool = False,
    shard: bool = False,
) -> tuple[Plan, str, str]:
    """(the plan, what the server is, where it is as the user named it)."""
    reached = reach(settings)
    settings = reached.settings
    address = settings.address
    nodes: tuple[tuple[str, int], ...] = ()
    owners: tuple[tuple[str, int], ...] = ()
    try:
        if settings.sentinels:
            settings = master_settings(settings)
        elif settings.cluster:
            cluster = read_map(settings, timeout=5.0)
            nodes = tuple(dict.fromkeys((n.host, n.port) for _, _, n in cluster.ranges))
            if not nodes:
                raise ConnectError(f"{address}: the cluster serves no slots")
            if shard:
                found = [cluster.owner_of(ch) for ch in channel_names(run, channels)]
                if any(node is None for node in found):
                    raise ConnectError(f"{address}: a channel's slot has no primary")
                owners = tuple((n.host, n.port) for n in found if n is not None)
            settings = settings.at(*nodes[0])
    except (redis.RedisError, OSError) as exc:
        raise ConnectError(describe_error(exc, settings)) from None
    plan = Plan(
        settings,
        run,
        publishers,
        subscribers,
        channels,
        size,
        rate,
        duration,
        messages,
        pattern,
        shard,
        nodes,
        owners,
    )
    return plan, reached.info.label, address
