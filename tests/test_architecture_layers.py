"""The shape of the code, checked on every test run (docs/design.md, "Layers").

* The import contracts of pyproject.toml ``[tool.importlinter]`` (import-linter):
  modules import downward only (shell > services > adapters > domain >
  configuration > base), no import cycle between the modules of a package,
  the adapters know no other adapter, the domain does no I/O, only the
  storage layer imports sqlite3.
* No module imports another module's ``_private`` name: what two modules
  share is public, with a docstring, in one home. (ruff's PLC2701 does not
  do this here: it exempts every import within the same top-level package,
  which is all of ours.)
* An import inside a function says why it is not at the top (start-up time
  of the light commands, mostly), except for the heavy libraries listed in
  ``HEAVY``, which are loaded where they are used on purpose.
"""
from __future__ import annotations

import ast
import functools
import io
import os
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "bot"

# Libraries loaded on first use wherever they are used: each costs tens to hundreds of
# milliseconds, and the light commands (status, health, check-config, an idle poll) use none.
HEAVY = {"PIL", "pypdfium2", "pdfplumber", "pdfminer", "docx", "openpyxl", "jinja2", "apscheduler", "pyhanko",
         "pyhanko_certvalidator", "asn1crypto", "olefile", "imapclient", "mailparser"}

# Imports inside functions written on another branch while this check was added, to be given their
# reason (or moved to the top) there; listed by (file, function). An entry that no longer matches fails
# the test, so the list only shrinks.
PENDING: set[tuple[str, str]] = set()  # (file, function) waiting for a reason comment: none

LINT = ("import sys\nfrom importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")


def test_import_contracts_hold():
    """A cycle, an upward import, an adapter importing another, or SQL outside
    the storage layer fails here with the offending import chain."""
    done = subprocess.run([sys.executable, "-c", LINT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert "0 broken" in done.stdout, done.stdout[-3000:]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _source(path: Path) -> tuple[str, ast.Module]:
    """The text of ``path`` and its syntax tree (read-only), parsed once for the
    checks below while the file is unchanged."""
    stat = path.stat()
    return _parsed(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _parsed(path: Path, mtime_ns: int, size: int) -> tuple[str, ast.Module]:
    source = path.read_text(encoding="utf-8")
    return source, ast.parse(source)


def _imported_from(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute name of the module an ``ImportFrom`` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_imports() -> list[str]:
    """Every ``from bot.x import _name`` and ``x._name`` (``x`` a bot module) across modules."""
    modules = _modules()
    found = []
    for module, path in modules.items():
        _, tree = _source(path)
        aliases = {}  # local name -> bot module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _imported_from(module, path, node)
                if source != "bot" and not source.startswith("bot."):
                    continue
                for alias in node.names:
                    if f"{source}.{alias.name}" in modules:
                        aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                    elif _private(alias.name) and source != module:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {source} import {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name in modules:
                        aliases[alias.asname or alias.name] = alias.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and _private(node.attr) and aliases[node.value.id] != module):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_imports_another_modules_private_names():
    assert private_imports() == []


def unexplained_function_imports() -> list[tuple[str, str, str]]:
    """(file, function, what to do) of each function that imports something
    other than a ``HEAVY`` library with no comment on (or just above) any of
    its import lines."""
    found = []
    for path in _modules().values():
        source, tree = _source(path)
        comments = {tok.start[0] for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type == tokenize.COMMENT}
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            imports = [n for n in _own_statements(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
            light = [n for n in imports if not _heavy(n)]
            lines = {line for n in imports for line in range(n.lineno - 1, n.end_lineno + 1)}
            if light and not comments & lines:
                found.append((path.relative_to(ROOT).as_posix(), fn.name,
                              f"line {light[0].lineno}: {ast.unparse(light[0])}: move it to the top, "
                              "or say why not in a comment"))
    return found


def _own_statements(fn: ast.AST):
    """The nodes of a function, not those of the functions defined inside it."""
    for child in ast.iter_child_nodes(fn):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        yield child
        yield from _own_statements(child)


def _heavy(node: ast.Import | ast.ImportFrom) -> bool:
    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return not getattr(node, "level", 0) and all(name.split(".")[0] in HEAVY for name in names)


def test_imports_inside_functions_say_why():
    found = unexplained_function_imports()
    assert [f for f in found if f[:2] not in PENDING] == []
    assert not PENDING - {f[:2] for f in found}, "no longer found: remove them from PENDING"


def test_the_checks_find_what_they_look_for(tmp_path, monkeypatch):
    """The two ast checks are not vacuous: a private import and an unexplained
    import inside a function, planted in a package of two modules, are found;
    the same import with its reason is not."""
    copy = tmp_path / "bot"
    copy.mkdir()
    (copy / "__init__.py").write_text("")
    (copy / "errors.py").write_text("def _hidden():\n    pass\n")
    (copy / "model.py").write_text("from .errors import _hidden\n\n\ndef late():\n    import json\n    return json\n\n\n"
                                   "def lazy():\n    import csv  # not at the top: a reason\n    return csv\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    assert private_imports() == ["bot/model.py:1: from bot.errors import _hidden"]
    assert [(file, function) for file, function, _ in unexplained_function_imports()] == [("bot/model.py", "late")]
