"""The state directory as every command checks it before it opens the state
(``check_state_dir``): it exists, or can be made, and the running user can
write in it and in each of its files. A problem is one plain sentence naming
the owner and mode, and the command that fixes it (exit 78, no traceback).

A module apart from ``bot.doctor`` (which re-exports it, with the network
checks of ``check-config --connect``): ``status``, ``health`` and ``poll``
run this check every time and need nothing else of the doctor.
"""
from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from .errors import StateDirError


STATE_FILES = ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm", "worker.lock", "archive", "blobs", "outbox",
               "spool")


def check_state_dir(path: Path, *, create: bool = True) -> None:
    """Make sure ``path`` is a directory the running user can write in
    (creating it when ``create`` and its parent allows); else raise
    ``StateDirError`` saying who owns what and the command that fixes it."""
    # The user's and group's names are looked up (NSS) for a message only: a sound directory needs none.
    closed = next((p for p in reversed(path.parents) if p.is_dir() and not os.access(p, os.X_OK)), None)
    if closed is not None:
        raise StateDirError(f"{user_name()} cannot reach the state directory {path}: {closed} is {describe(closed)}",
                            hint=f"let it through (chmod o+x {closed}), or choose a state directory outside it")
    if path.exists() and not path.is_dir():
        raise StateDirError(f"the state directory {path} is not a directory ({describe(path)})",
                            hint="move that file away, or set [paths] state in config.toml to a directory")
    if not path.exists():
        if not create:
            raise StateDirError(f"the state directory {path} does not exist",
                                hint=f"create it: {install_command(path)}")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parent = existing_parent(path)
            raise StateDirError(f"the state directory {path} does not exist and {user_name()} cannot create it "
                                f"({exc.strerror}; {parent} is {describe(parent)})",
                                hint=f"create it as root: {install_command(path)}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StateDirError(f"the state directory {path} is {describe(path)}: {user_name()} cannot write to it",
                            hint=f"as root: {chown_command(path)}")
    for name in STATE_FILES:
        item = path / name
        if item.exists() and not os.access(item, os.W_OK | (os.X_OK if item.is_dir() else 0)):
            raise StateDirError(f"{item} is {describe(item)}: {user_name()} cannot write to it",
                                hint=f"as root: {chown_command(path)}")


def install_command(path: Path) -> str:
    """The command that makes ``path`` a state directory of the running user."""
    return f"install -d -o {user_name()} -g {group_name()} -m 0750 {path}"


def chown_command(path: Path) -> str:
    """The command that gives ``path`` back to the running user."""
    return f"chown -R {user_name()}:{group_name()} {path}"


def describe(path: Path) -> str:
    """'owned by root:root, mode drwxr-xr-x' (or 'a regular file ...')."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    kind = "" if stat.S_ISDIR(st.st_mode) else "a file " if stat.S_ISREG(st.st_mode) else "not a directory, "
    return f"{kind}owned by {_name(st.st_uid, True)}:{_name(st.st_gid, False)}, mode {stat.filemode(st.st_mode)}"


def existing_parent(path: Path) -> Path:
    """The nearest ancestor of ``path`` that exists."""
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path("/")


def _name(ident: int, user: bool) -> str:
    try:
        return pwd.getpwuid(ident).pw_name if user else grp.getgrgid(ident).gr_name
    except KeyError:
        return str(ident)


def user_name() -> str:
    """The name of the user the bot runs as (its uid when it has none)."""
    return _name(os.geteuid(), True)


def group_name() -> str:
    """The name of the group the bot runs as (its gid when it has none)."""
    return _name(os.getegid(), False)
