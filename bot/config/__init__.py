"""config.toml -> frozen, validated settings.

- ``model``: the settings as frozen objects (``Config`` and its sections);
- ``load``: reading and validating config.toml (``load_config``, ``parse_config``);
- ``secret``: where a password or token comes from, read when needed;
- ``sample``: whether the roster and coordinator are still sample data.

Secrets are never in the file: a password comes from an environment variable
(``password_env``) or a file (``password_file``); an XOAUTH2 access token
from a command (``token_command``) or a file (``token_file``).
"""
