"""Saved messages: the publish box's named channel + message pairs, in a TOML file a person
can read and edit, beside the config file (`saved-messages.toml`).

    # anything a person writes here (comments, order, other keys) survives a save
    [[message]]
    name = "new order"
    channel = "orders"
    sharded = false
    message = \"\"\"{
      "id": 1
    }\"\"\"

Written with tomlkit, which keeps a user's comments and order, and atomically (a temporary
file, then `os.replace`): a crash never leaves half a file. A file that cannot be read or
parsed is one line (`SavedError`), and a save then refuses rather than write over what
the user had: the only copy of their messages is never lost to a typo.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tomlkit

FILE_NAME = "saved-messages.toml"
TABLE = "message"  # the array of tables: [[message]]
HEADER = (
    "rps-tui saved messages: ctrl+s in the publish box saves one, ctrl+o loads one.\n"
    "Each [[message]] has a name, a channel, the message and sharded (SPUBLISH)."
)


class SavedError(ValueError):
    """The file cannot be read, parsed or is not a list of messages: one line."""


@dataclass(frozen=True)
class SavedMessage:
    name: str
    channel: str
    message: str
    sharded: bool = False


def beside(config_file: Path) -> Path:
    """Where the saved messages of the config file `config_file` live: its directory."""
    return config_file.expanduser().parent / FILE_NAME


class SavedFile:
    """The file, read whole each time (a person may edit it while the app runs)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[SavedMessage]:
        """Every message in file order; [] when there is no file yet."""
        document = self._read()
        return [] if document is None else _messages(document.unwrap(), self.path)

    def save(self, entry: SavedMessage, *, replace: bool = False) -> None:
        """Add `entry`, or with `replace` put it in place of the first of that name (where it
        was in the file). SavedError if the name is taken and not `replace`, or if the file
        cannot be read: then nothing is written."""
        import tomlkit  # here, not at start-up: 8 ms of imports the dashboard rarely needs

        if not entry.name.strip():
            raise SavedError("a saved message needs a name")
        document = self._read()
        if document is None:
            document = tomlkit.document()
            for line in HEADER.splitlines():
                document.add(tomlkit.comment(line))
            document.add(tomlkit.nl())
        existing = _messages(document.unwrap(), self.path)  # a broken entry: refuse too
        table = _table(entry)
        if TABLE not in document:
            document.append(TABLE, tomlkit.aot())
        tables = document[TABLE]
        names = [m.name for m in existing]
        if entry.name in names:
            if not replace:
                raise SavedError(f"a saved message named {entry.name!r} exists")
            index = names.index(entry.name)
            # keep what a person added to that entry (other keys); ours are replaced
            for key, value in table.items():
                tables[index][key] = value  # type: ignore[index]
        else:
            tables.append(table)  # type: ignore[union-attr]
        text = tomlkit.dumps(document)
        check = _messages(tomllib.loads(text), self.path)  # what a reader will get back
        if entry not in check:
            raise SavedError(f"{self.path}: the message would not read back as saved")
        self._write(text)

    def names(self) -> set[str]:
        return {m.name for m in self.load()}

    def _read(self) -> tomlkit.TOMLDocument | None:
        import tomlkit
        from tomlkit.exceptions import TOMLKitError

        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise SavedError(f"cannot read {self.path}: {_reason(exc)}") from None
        try:
            tomllib.loads(text)  # the standard's reader is the strict one
            return tomlkit.parse(text)
        except (tomllib.TOMLDecodeError, TOMLKitError) as exc:
            raise SavedError(f"{self.path} is not valid TOML: {_reason(exc)}") from None

    def _write(self, text: str) -> None:
        """A temporary file in the same directory, then `os.replace`: all or nothing."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".saved-", suffix=".toml", dir=self.path.parent)
        except OSError as exc:
            raise SavedError(f"cannot write {self.path}: {_reason(exc)}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise SavedError(f"cannot write {self.path}: {_reason(exc)}") from None


def _table(entry: SavedMessage) -> Any:
    import tomlkit

    table = tomlkit.table()
    table["name"] = entry.name
    table["channel"] = entry.channel
    table["sharded"] = entry.sharded
    table["message"] = _string(entry.message)
    return table


def _string(text: str) -> Any:
    """The most readable TOML string that reads back as `text`: a JSON message without
    escapes ('{"id": 1}'), a multi-line one as its lines; else tomlkit's escapes."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    multiline = "\n" in text
    for literal in (True, False):
        try:
            item = tomlkit.string(text, literal=literal, multiline=multiline)
            if tomllib.loads(f"v = {item.as_string()}")["v"] == text:
                return item
        except (TOMLKitError, tomllib.TOMLDecodeError):
            continue  # a literal string cannot hold every character
    return tomlkit.string(text)  # escapes all it must, in one line


def _messages(data: dict[str, Any], path: Path) -> list[SavedMessage]:
    raw = data.get(TABLE, [])
    if not isinstance(raw, list):
        raise SavedError(f"{path}: {TABLE} must be [[{TABLE}]] tables")
    out = []
    for number, item in enumerate(raw, 1):
        where = f"{path}: [[{TABLE}]] #{number}"
        if not isinstance(item, dict):
            raise SavedError(f"{where} is not a table")
        for key in ("name", "channel", "message"):
            if not isinstance(item.get(key), str):
                raise SavedError(f"{where}: {key} must be a string")
        if not item["name"].strip():
            raise SavedError(f"{where}: name is empty")
        sharded = item.get("sharded", False)
        if not isinstance(sharded, bool):
            raise SavedError(f"{where}: sharded must be true or false")
        out.append(SavedMessage(item["name"], item["channel"], item["message"], sharded))
    return out


def _reason(exc: Exception) -> str:
    """The first line of an error, without a trailing period: it ends our sentence."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text.splitlines()[0].rstrip(".")
