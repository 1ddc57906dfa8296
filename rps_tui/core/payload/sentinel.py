"""A Sentinel's own events, read: `+switch-master  mymaster 10.0.0.1:6379 → 10.0.0.2:6379`.

Sentinels publish their events on Pub/Sub, one channel per event (`+sdown`, `-odown`,
`+switch-master`, `+failover-end`, `+reboot`, …). The payload names an instance:
`<type> <name> <ip> <port>`, and for anything but a master `@ <master> <ip> <port>` after
it; `+switch-master` has `<master> <old ip> <old port> <new ip> <new port>`; a few events
(`-tilt`, `+try-failover` …) carry other text. See
https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/#pubsub-messages

`read` gives the readable form, or None when the payload is not in a Sentinel's format (a
channel called `+sdown` on a data server stays as it is). The dashboard shows it under
the `auto` decoder; `m` (the next decoder, text) shows the raw payload.
"""

from __future__ import annotations

import re

_EVENT = re.compile(rb"^[+-][a-z][a-z-]*$")
_INSTANCE = re.compile(
    rb"^(master|slave|replica|sentinel) (\S+) (\S+) (\d+)(?: @ (\S+) (\S+) (\d+))?(.*)$"
)
_SWITCH = re.compile(rb"^(\S+) (\S+) (\d+) (\S+) (\d+)$")
_ROLES = {b"slave": "replica", b"replica": "replica", b"master": "master", b"sentinel": "sentinel"}


def is_event(channel: bytes) -> bool:
    return bool(_EVENT.match(channel))


def read(channel: bytes, payload: bytes) -> str | None:
    """The event's payload in words, or None if it is not a Sentinel event."""
    if not is_event(channel):
        return None
    if not payload.isascii():
        return None
    data = payload
    if channel == b"+switch-master":
        switch = _SWITCH.match(data)
        if switch is None:
            return None
        name, old_ip, old_port, new_ip, new_port = (g.decode() for g in switch.groups())
        return f"{name} {_address(old_ip, old_port)} → {_address(new_ip, new_port)}"
    instance = _INSTANCE.match(data)
    if instance is None:
        return None
    kind, name, ip, port, master, master_ip, master_port, rest = instance.groups()
    role = _ROLES[kind]
    where = _address(ip.decode(), port.decode())
    if role == "master":
        shown = f"master {name.decode()} {where}"
    else:  # a replica or sentinel is named by its address (a sentinel also has a run id)
        shown = f"{role} {where}" + (f" ({name.decode()})" if role == "sentinel" else "")
    if master is not None:
        shown += f" of {master.decode()} {_address(master_ip.decode(), master_port.decode())}"
    extra = rest.decode().strip()
    return f"{shown}  {extra}" if extra else shown


def _address(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
