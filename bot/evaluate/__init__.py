"""Score the bot against a labelled corpus (``python -m bot eval --corpus DIR``).

- ``labels``: matching the bot's export rows to the labelled documents;
- ``classification``: school and document type, precision and recall (``score``);
- ``statuses``: the status matrix (roster x required documents) against the labels' truth;
- ``official_copies``: the official-copy evidence against the labels' ``official`` truth;
- ``corpus``: running the real pipeline on a corpus and scoring it, and the small CLI
  ``python -m bot.evaluate LABELS.json ROWS.json``.

Everything but ``corpus`` is pure.
"""
