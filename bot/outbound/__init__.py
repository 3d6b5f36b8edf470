"""Outgoing mail: what to send (pure), how it reads (templates), and its delivery.

Bottom to top (the ``outbound`` contract of pyproject.toml ``[tool.importlinter]``):

- the pure choice of mail, no clock, no I/O: ``common`` (``PlannedMail``,
  office hours, bounced addresses, the context every template gets),
  ``review`` (the guesses and replies of the review queue), ``reminders``,
  ``receipts``, ``digest`` (each kind's due mail and template context);
- rendering: ``headers`` (header encoding), ``xlsx`` (the digest's
  spreadsheet), ``render`` (Jinja2 templates -> RFC 5322 message);
- the shell's parts: ``outbox`` (a delivery pass: rate, caps, retries),
  ``facts`` (what the decisions need, read from the store), ``compose``
  (a planned mail rendered and queued).

The operations (receipts, reminders, digest, deliver, the worker's jobs)
are ``bot.notify``, above this package and ``bot.report`` (the digest
carries the report's draft, written with this package's renderer). SMTP
itself is the ``bot.send`` adapter. Nothing is imported here: a poll that
sends nothing loads only what it uses.
"""
