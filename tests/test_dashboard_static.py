"""The dashboard stays thin: no SQL and no query builders in dashboard/, XSRF protection on."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DASHBOARD_FILES = sorted((REPO / "dashboard").rglob("*.py"))
SQL = re.compile(
    r"\b(SELECT\s+[\w*,.\s]+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+TABLE|"
    r"DROP\s+TABLE|ALTER\s+TABLE|JOIN\s+\w+\s+ON)\b",
    re.IGNORECASE,
)


def test_there_are_dashboard_files_to_check():
    assert len(DASHBOARD_FILES) >= 10


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_dashboard_files_import_no_sqlalchemy_or_sqlmodel(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in ("sqlalchemy", "sqlmodel", "sqlite3", "psycopg"), (
                f"{path.name} imports {name}: put the query in models/reads/"
            )


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_dashboard_files_contain_no_sql(path):
    text = path.read_text(encoding="utf-8")
    assert not SQL.search(text), f"{path.name} contains SQL: {SQL.search(text).group(0)!r}"
    assert ".exec(" not in text, f"{path.name} runs a query itself"


def test_the_scan_would_catch_sql():
    assert SQL.search('q = "select key, title from recommendation"')
    assert SQL.search("UPDATE recommendation SET status = 'x'")


def test_streamlit_config_sets_a_theme_and_keeps_xsrf_protection_on():
    cfg = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["theme"]["primaryColor"] and cfg["theme"]["base"]
