"""Small helpers to turn parsed TOML tables into typed values.

Every error names the full key (``mailbox.port``) and the file, so that the
person editing config.toml or rules/campaign.toml knows exactly what to fix.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")


class Table:
    """A view of one TOML table that records which keys were read.

    ``done()`` raises for any key that was never read: an unknown key is a
    typo, and a silently ignored typo is a setting the user thinks is on.
    """

    def __init__(self, data: dict, where: str, error: Callable[[str], Exception]):
        if not isinstance(data, dict):
            raise error(f"{where or 'top level'}: expected a table, got {type(data).__name__}")
        self._data = data
        self._where = where
        self._error = error
        self._seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def fail(self, name: str, message: str) -> Exception:
        return self._error(f"{self.key(name)}: {message}")

    def has(self, name: str) -> bool:
        return name in self._data

    def get(self, name: str, kind: type | tuple, default: Any = ..., *, check: Callable[[Any], str | None] | None = None) -> Any:
        """Return ``data[name]`` checked against ``kind``; missing -> default or error."""
        self._seen.add(name)
        if name not in self._data:
            if default is ...:
                raise self.fail(name, "is required but missing")
            return default
        value = self._data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; a port of `true` is still a mistake.
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {_names(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {_names(kinds)}, got {type(value).__name__} {value!r}")
        if check is not None:
            problem = check(value)
            if problem:
                raise self.fail(name, problem)
        return value

    def choice(self, name: str, choices: Iterable[str], default: Any = ...) -> str:
        choices = tuple(choices)
        return self.get(name, str, default, check=lambda v: None if v in choices else f"must be one of {', '.join(choices)}, got {v!r}")

    def str_list(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, list, default)
        if value is default and default is not ...:
            return tuple(default)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{name}[{i}]", f"expected a string, got {item!r}")
        return tuple(value)

    def sub(self, name: str, required: bool = False) -> "Table":
        self._seen.add(name)
        if name not in self._data:
            if required:
                raise self.fail(name, "table is required but missing")
            return Table({}, self.key(name), self._error)
        return Table(self._data[name], self.key(name), self._error)

    def subs(self, name: str) -> list["Table"]:
        """An array of tables (``[[name]]``)."""
        self._seen.add(name)
        items = self._data.get(name, [])
        if not isinstance(items, list):
            raise self.fail(name, "expected an array of tables ([[...]])")
        return [Table(item, f"{self.key(name)}[{i}]", self._error) for i, item in enumerate(items)]

    def accept_rest(self, known: Iterable[str] | None = None) -> None:
        """Accept the keys not read yet without checking their values (a
        disabled section may be half filled in). With ``known``, a key that
        is not one of them is still an error: a typo is caught either way."""
        rest = set(self._data) - self._seen
        if known is not None:
            self._seen.update(known)  # all of them: a typo's suggestion may be one not given
            self.done()
        self._seen.update(rest)

    def done(self) -> None:
        unknown = sorted(set(self._data) - self._seen)
        if unknown:
            raise self._error(f"{self.key(unknown[0])}: unknown key{self._suggestion(unknown[0])}"
                              + (f" (also: {', '.join(unknown[1:])})" if len(unknown) > 1 else ""))

    def misspelling_of(self, name: str) -> str | None:
        """A key given here, not read, that looks like a misspelling of ``name``
        (``pasword_env`` for ``password_env``), or None."""
        import difflib  # not at the top: only a config with a mistake needs it

        rest = sorted(set(self._data) - self._seen - {name})
        close = difflib.get_close_matches(name, rest, n=1, cutoff=0.8)
        return close[0] if close else None

    def _suggestion(self, name: str) -> str:
        """ "; did you mean 'password_env'?" for a misspelt key, else ""."""
        import difflib  # not at the top: only a config with a mistake needs it

        close = difflib.get_close_matches(name, sorted(self._seen), n=1, cutoff=0.6)
        return f"; did you mean {self.key(close[0])!r}?" if close else ""


def _names(kinds: tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str) -> time | None:
    """'07:30' -> time(7, 30); anything else -> None."""
    m = _HHMM.match(value)
    return time(int(m.group(1)), int(m.group(2))) if m else None
