"""The campaign and the roster: data the office edits, validated into frozen objects.

- ``rules/schools.csv``: the roster (``roster``);
- ``rules/campaign.toml``: the campaign (``campaign``);
- ``rules/programmes.toml``: neighbouring programmes and issuers that are
  not schools (``programmes``).

``model`` holds the frozen objects the rest of the bot reads; ``load``
reads a rules directory into them (``load_rules``). Parsing is pure.
Nothing about a district, a date or a document list lives in code.
"""
