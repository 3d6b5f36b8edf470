"""Only the storage layer speaks SQL.

bot/store/ (one module per aggregate) and bot/schema.py (the migrations)
are the only code that runs SQL or touches the database connection; every
other module, and every test, goes through ``bot.store.Store``'s methods.
The one exception in tests/ is tests/rawdb.py: it opens the database behind
the store's back on purpose (old schemas, injected faults; see its docstring).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A call that runs SQL, or the store's connection itself.
SQL = re.compile(r"\.(execute|executescript|executemany)\(|\.conn\b")

ALLOWED = {
    "bot/store",  # the storage layer
    "bot/schema.py",  # the migrations it runs
    "tests/rawdb.py",  # the database behind the store's back, on purpose (see its docstring)
    "tests/test_architecture_sql.py",  # this file names the patterns
}


def _allowed(rel: str) -> bool:
    return any(rel == a or rel.startswith(a + "/") for a in ALLOWED)


def offending_lines(root: Path) -> list[str]:
    """``path:line: text`` of every use of SQL or of the connection outside the allowed files."""
    found = []
    for path in sorted([*(root / "bot").rglob("*.py"), *(root / "tests").rglob("*.py")]):
        rel = path.relative_to(root).as_posix()
        if _allowed(rel):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SQL.search(line):
                found.append(f"{rel}:{number}: {line.strip()}")
    return found


def test_no_sql_outside_the_storage_layer():
    found = offending_lines(ROOT)
    assert not found, ("SQL (or the store's connection) outside bot/store/ and bot/schema.py; add a Store method "
                       "instead:\n" + "\n".join(found))


@pytest.mark.parametrize("line, caught", [
    ('store.conn.execute("SELECT 1")', True),
    ("conn.executemany(sql, rows)", True),
    ("db.executescript(script)", True),
    ("worker.conn.send(job)", True),  # any attribute named conn: a reader cannot tell it is not the database
    ("store.outbox_rows()", False),
    ("self.connection.close()", False),
    ("execute(plan)", False),
])
def test_the_check_catches_sql_calls_and_the_connection(tmp_path, line, caught):
    (tmp_path / "bot").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "bot" / "module.py").write_text(line + "\n", encoding="utf-8")
    assert bool(offending_lines(tmp_path)) == caught
