"""A secret named by config.toml, read when it is needed: an environment
variable (``password_env``), a file (``password_file``, ``token_file``) or a
command (``token_command``). Never the secret itself in the file."""
from __future__ import annotations

import grp
import os
import pwd
import stat
from pathlib import Path

from ..errors import ConfigError
from ..record import frozen


@frozen
class Secret:
    """Where a secret comes from; ``read()`` fetches it when it is needed."""

    env: str | None = None
    file: Path | None = None
    command: str | None = None
    key: str = ""  # the config key, for error messages

    def read(self, environ: dict | None = None) -> str:
        environ = os.environ if environ is None else environ
        if self.env:
            value = environ.get(self.env)
            if not value:
                raise ConfigError(f"{self.key}: environment variable {self.env} is not set or empty",
                                  hint=f"export {self.env}=... (or put it in the service's EnvironmentFile)")
            if "\r" in value:
                # A file saved on Windows: the server would be sent "password\r" and refuse it.
                raise ConfigError(f"{self.key}: environment variable {self.env} ends with a carriage return (\\r): "
                                  "the file it comes from has Windows (CRLF) line ends",
                                  hint="convert the env file to Unix line ends, e.g. "
                                       "sed -i 's/\\r$//' /etc/hoso-bot/hoso-bot.env, then restart")
            return value
        if self.file:
            try:
                value = self.file.read_text(encoding="utf-8").strip()
            except PermissionError as exc:
                raise ConfigError(f"{self.key}: cannot read {self.file} ({exc.strerror}): {_owner_text(self.file)}, "
                                  f"and the bot runs as {_user_name()}",
                                  hint=f"chown {_user_name()} {self.file} && chmod 600 {self.file}") from exc
            except OSError as exc:
                raise ConfigError(f"{self.key}: cannot read {self.file} ({exc.strerror})",
                                  hint=f"check the path in config.toml ({self.key})") from exc
            return self._not_empty(value, f"{self.file} is empty")
        if self.command:
            return self._not_empty(self._run_command(), "the token command printed nothing")
        raise ConfigError(f"{self.key}: no secret configured")

    def _run_command(self) -> str:
        import shlex  # here: every command loads the config, few run a token command
        import subprocess

        try:
            out = subprocess.run(shlex.split(self.command), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"{self.key}: token command failed: {exc}") from exc
        if out.returncode != 0:
            # Its own message says why (expired refresh token, no network...): show it, trimmed.
            said = " ".join(out.stderr.split())[:200] or "no message on stderr"
            raise ConfigError(f"{self.key}: token command exited with status {out.returncode}: {said}",
                              hint="run the command by hand as the service user to see what it needs")
        return out.stdout.strip()

    def _not_empty(self, value: str, why: str) -> str:
        if not value:
            raise ConfigError(f"{self.key}: {why}", hint="an empty secret would only be refused by the server")
        return value

    def warnings(self) -> list[str]:
        """Problems worth a warning, e.g. a password file others can read."""
        if self.file and self.file.exists():
            mode = self.file.stat().st_mode
            if mode & (stat.S_IRGRP | stat.S_IROTH):
                return [f"{self.key}: {self.file} is readable by other users (mode {stat.filemode(mode)}); chmod 600 it"]
        return []


def _owner_text(path: Path) -> str:
    """ "it is owned by root:root with mode -rw------- " (or why that is unknown)."""
    try:
        st = path.stat()
    except OSError:
        return "its owner cannot be read"
    return f"it is owned by {_name_of(st.st_uid, 'user')}:{_name_of(st.st_gid, 'group')} with mode {stat.filemode(st.st_mode)}"


def _name_of(ident: int, kind: str) -> str:
    try:
        return pwd.getpwuid(ident).pw_name if kind == "user" else grp.getgrgid(ident).gr_name
    except KeyError:
        return str(ident)


def _user_name() -> str:
    return _name_of(os.geteuid(), "user")
