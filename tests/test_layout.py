"""The layout keeps its promises: no import cycles, the allowed directions between packages, reads
that never write, and rows changed only by ``models/rules`` (see ``models/__init__.py`` for the map)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "cli", "dashboard")

# where a models sub-package may import from (besides itself); ``trail.chain`` is special below
ALLOWED = {
    "store": set(),
    "rules": {"store", "trail.chain"},
    "trail": {"store", "rules"},
    "reads": {"store", "trail", "rules"},
    "catalog": {"store", "trail", "rules", "reads"},
    "workflow": {"store", "trail", "rules", "reads"},
}
# modules outside models/rules that may add, delete or bulk-insert rows, and why
WRITERS_OUTSIDE_RULES = {
    "models.trail.chain": "appends the hash-chained event itself; called only by the write path",
    "models.catalog.synthetic": "bulk-loads a new, empty demo store (refuses one with data); marked synthetic",
    "models.store.db": "opens write transactions",
}
WRITE_CALLS = {"add", "add_all", "delete", "merge", "bulk_save_objects", "bulk_insert_mappings"}
WRITE_CONSTRUCTS = {"insert", "update", "delete"}


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (REPO / pkg).rglob("*.py"):
            if "migrations" in p.parts:
                continue
            parts = p.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = p
    return out


MODULES = modules()


def imports_of(path: Path) -> set[str]:
    """Every project module this file imports, at top level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in MODULES}


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def test_there_are_no_import_cycles():
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == [], f"import cycles: {cycles}"


def _area(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "models" or len(parts) < 2:
        return None
    return "trail.chain" if parts[1:3] == ["trail", "chain"] else parts[1]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("models")))
def test_models_import_only_in_the_allowed_directions(module):
    here = _area(module)
    if here is None:  # models/__init__
        assert not GRAPH[module]
        return
    allowed = {"store"} if here == "trail.chain" else ALLOWED[here] | {here}
    if "trail" in allowed:
        allowed |= {"trail.chain"}
    bad = sorted(dep for dep in GRAPH[module] if not dep.startswith("models") or _area(dep) not in allowed)
    assert not bad, f"{module} ({here}) may import only {sorted(allowed)}; it imports {bad}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("models")))
def test_models_never_import_the_front_doors_or_streamlit(module):
    tree = ast.parse(MODULES[module].read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
        n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
    }
    assert not {n for n in names if n.split(".")[0] in ("dashboard", "cli", "streamlit")}


def _writes(path: Path) -> list[str]:
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_CALLS
        ):
            base = node.func.value
            name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if "session" in name or name in ("s", "conn", "connection"):
                found.append(f"line {node.lineno}: {name}.{node.func.attr}(...)")
        if isinstance(node, ast.ImportFrom) and node.module in ("sqlalchemy", "sqlmodel", "sqlalchemy.sql"):
            found += [
                f"line {node.lineno}: imports {a.name}" for a in node.names if a.name in WRITE_CONSTRUCTS
            ]
    return found


@pytest.mark.parametrize(
    "module",
    sorted(
        m
        for m in MODULES
        if m.startswith("models") and not m.startswith("models.rules") and m not in WRITERS_OUTSIDE_RULES
    ),
)
def test_only_the_rules_change_rows(module):
    assert _writes(MODULES[module]) == [], f"{module} writes rows outside models/rules"


@pytest.mark.parametrize("module", sorted(WRITERS_OUTSIDE_RULES))
def test_each_documented_writer_outside_the_rules_still_writes(module):
    """Keeps the exception list true: a module that stopped writing loses its exemption."""
    text = MODULES[module].read_text()
    assert _writes(MODULES[module]) or "session.add(" in text or "begin" in text


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("models.reads")))
def test_reads_never_open_a_write_transaction(module):
    text = MODULES[module].read_text()
    assert "write_session" not in text and "append_event" not in text


def test_the_write_scan_finds_a_write_where_there_is_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from sqlalchemy import update\ndef f(session, row):\n    session.add(row)\n")
    assert sorted(_writes(sample)) == ["line 1: imports update", "line 3: session.add(...)"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("cli")))
def test_the_command_line_holds_no_sql(module):
    text = MODULES[module].read_text()
    assert "from sqlmodel import select" not in text and "from sqlalchemy" not in text.replace(
        "from sqlalchemy.exc import OperationalError", ""
    ), f"{module}: put the query in models/reads/"


MAX_LINES = 420  # lines as ruff format writes them


def test_every_module_fits_on_a_few_screens_or_says_why():
    long = []
    for name, path in MODULES.items():
        text = path.read_text()
        if text.count("\n") > MAX_LINES and "Why one module" not in (
            ast.get_docstring(ast.parse(text)) or ""
        ):
            long.append(f"{name} ({text.count(chr(10))} lines)")
    assert not long, f"split these or say at the top why they stay whole ('Why one module ...'): {long}"


def test_every_package_says_what_it_holds_and_may_import():
    for pkg in (
        "models",
        "models.store",
        "models.rules",
        "models.trail",
        "models.reads",
        "models.catalog",
        "models.workflow",
        "cli",
        "dashboard.update",
    ):
        doc = ast.get_docstring(ast.parse(MODULES[pkg].read_text())) or ""
        assert len(doc) > 60, f"{pkg}/__init__.py needs a docstring: what lives there and what it may import"
