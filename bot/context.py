"""What every operation of the bot is given: the validated settings and rules.

Low in the layers (it needs only ``config`` and ``rules``), so that the
services and the shell can all name the type of their ``ctx`` parameter
without importing the shell module that builds it (``bot.app.load``).
"""
from __future__ import annotations

from .config.model import Config
from .record import frozen
from .rules.model import Rules


@frozen
class Context:
    """config.toml and the rules it points to, both validated at start-up."""

    config: Config
    rules: Rules
