"""The records ``Store``'s threads methods (``bot.store.threads``) read and write.

A module of their own, loaded by the methods that make them: a command that
never calls one (``status`` calls none) does not define them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thread:
    first_message_id: str
    subject: str
