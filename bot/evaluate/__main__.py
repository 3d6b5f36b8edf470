"""``python -m bot.evaluate LABELS.json ROWS.json``: score an export against the labels."""
import sys

from .corpus import main

sys.exit(main())
