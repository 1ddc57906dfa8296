"""The config file: connection profiles, default subscriptions, history, theme and keymap.

TOML (read with the standard library's `tomllib`), found at `--config FILE`, else
`$RPS_TUI_CONFIG`, else `config.toml` in the user's config directory (platformdirs: e.g.
`~/.config/rps-tui/config.toml` on Linux). A missing default file is no error; every
mistake in a file that exists is one line naming the file and the key.

    history = 20000
    theme = "nord"
    subscriptions = ["orders.*", { shard = "cart{42}" }, { channel = "lit*" }]
    profile = "local"            # used when --profile is not given
    separators = ":."            # the channel tree's (default: detected from the names)

    [keymap]                     # binding id = keys (see `?` in the app for the ids)
    pause = "space"

    [profiles.prod]
    url = "rediss://reader@redis.example.com:6380/0"
    cacert = "~/certs/ca.pem"
    subscriptions = ["orders.*"]

    [profiles.ha]
    sentinels = ["10.0.0.9:26379", "10.0.0.10:26379"]
    master = "mymaster"

Command-line options win over the profile, and the profile over `$REDIS_URL`.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from rps_tui.core.channel_tree import SeparatorError, check_separators
from rps_tui.core.store import MAX_HISTORY, MAX_HISTORY_MB
from rps_tui.core.subscriptions import InvalidSubscription, Kind, Subscription

ENV_VAR = "RPS_TUI_CONFIG"
PROFILE_KEYS = {
    "url": str,
    "host": str,
    "port": int,
    "db": int,
    "user": str,
    "password": str,
    "tls": bool,
    "cacert": str,
    "cert": str,
    "key": str,
    "insecure": bool,
    "cluster": bool,
    "sentinels": list,
    "master": str,
    "sentinel_password": str,
    "subscriptions": list,
    "history": int,
    "history_mb": int,
}
TOP_KEYS = {
    "history": int,
    "history_mb": int,
    "theme": str,
    "subscriptions": list,
    "profile": str,
    "keymap": dict,
    "separators": str,
}
PATH_KEYS = ("cacert", "cert", "key")


class ConfigError(ValueError):
    """A mistake in the config file: the CLI prints it (one line) and exits with status 2."""


@dataclass(frozen=True)
class Profile:
    name: str
    values: dict[str, Any] = field(default_factory=dict)  # checked keys of PROFILE_KEYS
    subscriptions: tuple[Subscription, ...] = ()

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"Profile({self.name!r}, keys={sorted(self.values)})"


@dataclass(frozen=True)
class Config:
    path: Path | None = None  # None: no file
    history: int | None = None
    history_mb: int | None = None  # payload MiB kept per subscription
    theme: str | None = None
    subscriptions: tuple[Subscription, ...] = ()
    keymap: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    separators: str | None = None  # the channel tree's; "" detects them

    def profile(self, name: str | None) -> Profile | None:
        """The named profile (or the file's default one); ConfigError if it is not there."""
        name = name or self.default_profile
        if name is None:
            return None
        if name not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            where = self.path or "the config file"
            raise ConfigError(f"no profile {name!r} in {where} (profiles: {known})")
        return self.profiles[name]


def default_path() -> Path:
    return Path(platformdirs.user_config_dir("rps-tui")) / "config.toml"


MAX_SIZE = 1 << 20  # bytes read of a config file at most


def chosen_path(path: str | Path | None = None) -> Path:
    """`path` (--config), else `$RPS_TUI_CONFIG`, else the default; the saved messages of
    the publish box live beside it."""
    return Path(path or os.environ.get(ENV_VAR) or default_path()).expanduser()


def load(path: str | Path | None = None) -> Config:
    """Read the config file; a missing *default* file gives an empty config."""
    explicit = path is not None or bool(os.environ.get(ENV_VAR))
    chosen = chosen_path(path)
    if not chosen.exists():
        if explicit:
            raise ConfigError(f"config file {chosen}: no such file")
        return Config()
    try:
        with chosen.open("rb") as file:  # bounded: --config /dev/zero must not fill memory
            raw = file.read(MAX_SIZE + 1)
        if len(raw) > MAX_SIZE:
            raise ConfigError(f"config file {chosen}: larger than 1 MiB, so not a config file")
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {chosen}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"config file {chosen}: {exc.strerror or exc}") from None
    return _parse(data, chosen)


def _parse(data: dict[str, Any], path: Path) -> Config:
    profiles_raw = data.pop("profiles", {})
    _check(data, TOP_KEYS, path, "")
    if not isinstance(profiles_raw, dict):
        raise ConfigError(f"{path}: [profiles] must be a table of tables")
    profiles = {}
    for name, raw in profiles_raw.items():
        where = f"[profiles.{name}] "
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: {where}must be a table")
        _check(raw, PROFILE_KEYS, path, where)
        values = {k: v for k, v in raw.items() if k != "subscriptions"}
        for key in PATH_KEYS:
            if key in values:
                values[key] = str(Path(values[key]).expanduser())
        if "sentinels" in values:
            values["sentinels"] = [_host_port(s, path, where) for s in values["sentinels"]]
        subs = _subscriptions(raw.get("subscriptions", []), path, where)
        profiles[name] = Profile(name, values, subs)
    keymap = data.get("keymap", {})
    for binding_id, keys in keymap.items():
        if not isinstance(keys, str) or not keys.strip():
            raise ConfigError(f"{path}: [keymap] {binding_id} must be a string of keys")
    default = data.get("profile")
    separators = data.get("separators")
    if separators is not None:
        try:
            separators = check_separators(separators)
        except SeparatorError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    config = Config(
        path=path,
        history=data.get("history"),
        history_mb=data.get("history_mb"),
        theme=data.get("theme"),
        subscriptions=_subscriptions(data.get("subscriptions", []), path, ""),
        keymap=dict(keymap),
        profiles=profiles,
        default_profile=default,
        separators=separators,
    )
    if default is not None:
        config.profile(default)  # names a profile that exists
    return config


INT_LIMITS = {"history": MAX_HISTORY, "history_mb": MAX_HISTORY_MB, "port": 65535}


def _check(table: dict[str, Any], schema: dict[str, type], path: Path, where: str) -> None:
    for key, value in table.items():
        wanted = schema.get(key)
        if wanted is None:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"{path}: {where}unknown key {key!r} (known: {known})")
        # bool is an int in Python: do not take `port = true`
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: {where}{key} must be {_kind(wanted)}")
        if wanted is int and value < (0 if key == "db" else 1):
            raise ConfigError(f"{path}: {where}{key} must be a positive number")
        top = INT_LIMITS.get(key)
        if top is not None and value > top:
            raise ConfigError(f"{path}: {where}{key} must be at most {top:,}")


def _kind(wanted: type) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false"}.get(
        wanted, "a list" if wanted is list else "a table"
    )


def _host_port(value: object, path: Path, where: str) -> tuple[str, int]:
    text = str(value)
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{path}: {where}sentinels: {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _subscriptions(items: list[Any], path: Path, where: str) -> tuple[Subscription, ...]:
    """Strings are channels or globs (as on the command line); `{ shard = "x" }`,
    `{ channel = "x" }` and `{ pattern = "x" }` say the kind."""
    subs = []
    for item in items:
        try:
            if isinstance(item, str):
                subs.append(Subscription.parse(item))
            elif isinstance(item, dict) and len(item) == 1:
                ((kind, name),) = item.items()
                kind = {"shard": Kind.SHARD, "channel": Kind.CHANNEL, "pattern": Kind.PATTERN}[kind]
                subs.append(Subscription.parse(str(name), kind))
            else:
                raise KeyError(item)
        except KeyError:
            raise ConfigError(
                f"{path}: {where}subscriptions: {item!r} is not a name or "
                '{ channel = "…" }, { pattern = "…" }, { shard = "…" }'
            ) from None
        except InvalidSubscription as exc:
            raise ConfigError(f"{path}: {where}subscriptions: {exc}") from None
    return tuple(subs)
