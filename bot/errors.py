"""The bot's errors: a small hierarchy, each with a hint for the user.

The CLI turns a ``BotError`` into one clear message and an exit code; any
other exception is a bug and keeps its traceback.
"""
from __future__ import annotations

import errno


class BotError(Exception):
    """Base class. ``hint`` tells the user what to do about it."""

    exit_code = 1
    hint = ""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:  # message, then the hint on its own line
        text = super().__str__()
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(BotError):
    """config.toml is missing, malformed, or names something that is not there."""

    exit_code = 2
    hint = "fix the named key in config.toml (see config.example.toml and the README)"


class RulesError(BotError):
    """A file under rules/ is malformed (roster CSV, campaign TOML)."""

    exit_code = 2
    hint = "fix the named file under rules/; the README describes its format"


class MailboxError(BotError):
    """The mailbox could not be reached, logged into, or read."""

    exit_code = 3
    hint = "check [mailbox] in config.toml, the password, and that the server is reachable"


class AuthenticationError(MailboxError):
    """The server refused the login: retrying will not help until fixed."""

    hint = "the server refused the user name or password; fix the secret and restart"


class StoreError(BotError):
    """The state database or archive cannot be used."""

    exit_code = 4
    hint = "check that the state directory exists and is writable by the bot's user"


class StateDirError(StoreError):
    """The state directory is missing, not a directory, or not writable by
    the bot's user: a set-up mistake that restarting cannot fix."""

    exit_code = 78  # EX_CONFIG (sysexits.h); the systemd unit does not restart on it
    hint = "fix the owner or the path of the state directory ([paths] state in config.toml), then start again"


class LockedError(BotError):
    """Another worker already owns this state directory."""

    exit_code = 5
    hint = "another 'run' or 'poll' is active on this state directory; wait or stop it"


class SendError(BotError):
    """Outgoing mail could not be handed to the SMTP server."""

    exit_code = 6
    hint = "check [smtp] in config.toml; queued mail stays in the outbox and is retried"


class SmtpFailure(SendError):
    """A mail the SMTP server did not take: ``temporary`` (4xx, connection,
    TLS or login trouble: keep it and retry) or permanent (5xx); ``connection``
    when the server could not be used at all (the rest of the pass waits too)."""

    def __init__(self, message: str, *, temporary: bool, connection: bool = False, code: int | None = None):
        super().__init__(message)
        self.temporary = temporary
        self.connection = connection
        self.code = code


class UsageError(BotError):
    """A command was given arguments that do not make sense."""

    exit_code = 2
    hint = "see 'hoso-bot COMMAND --help'"


class EarlyExtensionError(UsageError):
    """An extension that would end at or before the campaign's own deadline
    (it would shorten the school's time, not extend it)."""

    code = "early_extension"
    hint = "give a date after the campaign's deadline, e.g. 'extend SCHOOL 2023-10-20'"


class DismissError(UsageError):
    """A quarantined message cannot be dismissed as asked.

    ``code`` says why, for the coordinator's reply by email: "no_message"
    (no message has that Q-reference), "not_quarantined" (it was processed
    normally, or is waiting to be) or "already_dismissed".
    """

    hint = "'hoso-bot health' and the daily digest list quarantined messages with their reference (Q12)"

    def __init__(self, message: str, code: str, hint: str | None = None):
        super().__init__(message, hint)
        self.code = code


class EnvironmentFault(BotError):
    """The bot cannot work here, for a reason outside the mail: its extraction
    workers cannot start (current directory, permissions, a missing program,
    a memory limit too small to load them) or the state disk is full. The
    poll stops; no message is charged an attempt, none is quarantined."""

    exit_code = 7
    hint = "fix the cause named above and run again; no mail was charged for it"


# errno values that say something about the machine, not about the file being read.
# Not ENOMEM: a worker has its own memory limit, so running out of it there is
# the file's doing (and calling it the machine's would stop every poll on it).
_ENVIRONMENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EMFILE,
                                 errno.ENFILE, errno.EIO})


def environmental(exc: BaseException) -> bool:
    """Whether an error comes from the machine (permissions, a full or read-only
    disk, no file descriptors, an I/O error) rather than from the mail."""
    return isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS
