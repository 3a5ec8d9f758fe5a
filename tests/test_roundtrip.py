"""Round-trip bulk edits: export to CSV or Excel, edit, import back through the domain rules."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.tables import AuditEvent, Recommendation, User
from models.workflow.bulk_edits import EditsRefused, apply_edits
from models.workflow.bulk_export import COLUMNS, export_edits
from models.workflow.edit_files import parse_edit_file
from tests.helpers import CLI_PASSWORD, change, event_count, give_cli_password, make_rec

KEYS = ("rec-a", "rec-b", "rec-c", "rec-d")


@pytest.fixture
def store(engine, users):
    make_rec(engine, "rec-a", title="Revive the bilateral working group")
    make_rec(engine, "rec-b", owner="Joint Staff J5")
    make_rec(engine, "rec-c", parent_key="rec-a", target_date=date(2027, 3, 1), progress=10)
    make_rec(engine, "rec-d", title='=HYPERLINK("x") is text, not a formula', owner="-Office")
    change(engine, "rec-d", status="accepted")
    change(engine, "rec-d", status="in_progress")
    return engine


def versions(engine) -> dict:
    with read_session(engine) as s:
        return {r.key: r.version for r in s.exec(select(Recommendation)).all()}


def values(engine) -> dict:
    with read_session(engine) as s:
        return {
            r.key: (r.status, r.owner, r.target_date, r.progress)
            for r in s.exec(select(Recommendation)).all()
        }


def export(engine, fmt, **kw) -> bytes:
    buf = io.BytesIO()
    with read_session(engine) as s:
        export_edits(s, buf, fmt=fmt, **kw)
    return buf.getvalue()


def edit(data: bytes, fmt: str, edits: dict[str, dict]) -> bytes:
    """Change cells the way a person would in a spreadsheet: {key: {column: new value}}."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        for row in rows:
            row.update({k: str(v) for k, v in edits.get(row["key"], {}).items()})
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")
    wb = load_workbook(io.BytesIO(data))
    ws = wb["recommendations"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for col, value in edits.get(row[0].value, {}).items():
            row[header.index(col)].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def apply(engine, data: bytes, fmt: str, actor="ed", partial=False, progress=None):
    parsed = parse_edit_file(data, f"edits.{fmt}")
    with write_session(engine) as s:
        who = s.exec(select(User).where(User.username == actor)).one()
        return apply_edits(s, parsed=parsed, actor=who, partial=partial, progress=progress)


def row_of(fmt: str, key: str) -> int:
    """Line (CSV) or row (xlsx) of a key: header first, then keys in order; both start at 2."""
    return KEYS.index(key) + 2


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exporting_then_importing_an_unchanged_file_changes_nothing(store, fmt):
    before_events, before_versions = event_count(store), versions(store)
    report = apply(store, export(store, fmt), fmt)
    assert (report.applied, report.unchanged, report.problems) == ([], 4, [])
    assert event_count(store) == before_events and versions(store) == before_versions


def test_the_export_has_the_editable_context_and_reason_columns(store):
    rows = list(csv.reader(io.StringIO(export(store, "csv").decode("utf-8-sig"))))
    assert (
        tuple(rows[0])
        == COLUMNS
        == (
            "key",
            "title",
            "status",
            "owner",
            "target_date",
            "progress",
            "version",
            "theme",
            "kind",
            "who_must_act",
            "parent",
            "obstacles",
            "reason",
            "owner_inferred",  # read only, ignored on import: whether a source names the owner
            "status_shown",  # the status as the dashboard words it ("No status claimed", ...)
        )
    )
    assert rows[3] == [
        "rec-c",
        "A title",
        "proposed",
        "OSD Policy",
        "2027-03-01",
        "10",
        "1",
        "counter_drug",
        "explicit",
        "us",
        "rec-a",
        "",
        "",
        "true",
        "Proposed",
    ]
    # cells a spreadsheet would run as formulas are escaped in CSV and stored as text in xlsx
    assert rows[4][1].startswith("'=HYPERLINK") and rows[4][3] == "'-Office"
    ws = load_workbook(io.BytesIO(export(store, "xlsx")))["recommendations"]
    assert ws["B5"].data_type == "s" and ws["B5"].value.startswith("=HYPERLINK")
    assert [
        r[0]
        for r in csv.reader(io.StringIO(export(store, "csv", owner="Joint Staff J5").decode("utf-8-sig")))
    ] == ["key", "rec-b"]
    assert (
        len(list(csv.reader(io.StringIO(export(store, "csv", status="in_progress").decode("utf-8-sig")))))
        == 2
    )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_edited_file_applies_exactly_the_edits_each_audited_with_its_reason(store, fmt):
    before_events, before_versions = event_count(store), versions(store)
    data = edit(
        export(store, fmt),
        fmt,
        {
            "rec-a": {"status": "under_review", "progress": 5, "reason": "BWG met in March"},
            "rec-b": {"owner": "OSD Policy", "reason": "moved to OSD"},
            "rec-c": {
                "target_date": "2028-01-31" if fmt == "csv" else date(2028, 1, 31),
                "reason": "slipped a year",
            },
        },
    )
    report = apply(store, data, fmt)
    assert [(a.number, a.key, a.changes) for a in report.applied] == [
        (2, "rec-a", {"status": ("proposed", "under_review"), "progress": (0, 5)}),
        (3, "rec-b", {"owner": ("Joint Staff J5", "OSD Policy")}),
        (4, "rec-c", {"target_date": (date(2027, 3, 1), date(2028, 1, 31))}),
    ]
    assert report.unchanged == 1 and report.problems == []
    assert values(store)["rec-a"] == ("under_review", "OSD Policy", None, 5)
    assert values(store)["rec-b"] == ("proposed", "OSD Policy", None, 0)
    assert values(store)["rec-c"][2] == date(2028, 1, 31)
    assert versions(store) == {**before_versions, "rec-a": 2, "rec-b": 2, "rec-c": 2}
    with read_session(store) as s:
        new = s.exec(select(AuditEvent).where(AuditEvent.seq > before_events).order_by(AuditEvent.seq)).all()
    assert [(e.record_key, e.action, e.actor, e.reason) for e in new] == [
        ("rec-a", "status_change", "ed", "BWG met in March"),
        ("rec-b", "update", "ed", "moved to OSD"),
        ("rec-c", "update", "ed", "slipped a year"),
    ]
    assert json.loads(new[2].before) == {"target_date": "2027-03-01", "version": 1}
    assert json.loads(new[2].after) == {"target_date": "2028-01-31", "version": 2}


BAD_ROWS = [
    ({"rec-c": {"progress": 150}}, "rec-c", "progress", "'150' is not a whole number from 0 to 100"),
    ({"rec-c": {"progress": "half"}}, "rec-c", "progress", "'half' is not a whole number from 0 to 100"),
    (
        {"rec-c": {"target_date": "31/01/2028", "reason": "x"}},
        "rec-c",
        "target_date",
        "'31/01/2028' is not a date",
    ),
    ({"rec-c": {"status": "done"}}, "rec-c", "status", "unknown status 'done'"),
    ({"rec-c": {"key": "rec-zz"}}, "rec-c", "key", "unknown key 'rec-zz': no recommendation has it"),
    (
        {"rec-c": {"title": "A better title", "reason": "x"}},
        "rec-c",
        "title",
        "is read-only here and was changed",
    ),
    ({"rec-c": {"parent": "", "reason": "x"}}, "rec-c", "parent", "is read-only here and was changed"),
    ({"rec-c": {"progress": 50}}, "rec-c", "reason", "is empty but the row changes progress; say why"),
    ({"rec-c": {"owner": ""}}, "rec-c", "owner", "is empty"),
    ({"rec-c": {"version": "x"}}, "rec-c", "version", "is not the version the file was exported with"),
    ({"rec-c": {"key": "rec-b"}}, "rec-c", "key", "'rec-b' appears twice (also on"),
    (
        {"rec-d": {"status": "not_implemented", "reason": "dropped"}},
        "rec-d",
        "status",
        "closing needs verification",
    ),
    (
        {"rec-d": {"status": "implemented", "reason": "done"}},
        "rec-d",
        "status",
        "closing as implemented needs at least one evidence item",
    ),
    (
        {"rec-a": {"status": "in_progress", "reason": "x"}},
        "rec-a",
        "status",
        "cannot move from 'proposed' to 'in_progress'",
    ),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("bad,key,field,message", BAD_ROWS, ids=[f"{b[2]}:{b[3][:30]}" for b in BAD_ROWS])
def test_a_file_with_one_bad_row_applies_nothing_and_names_it(store, fmt, bad, key, field, message):
    before_events, before_values = event_count(store), values(store)
    good = {"rec-b": {"progress": 30, "reason": "work started"}} if key != "rec-b" else {}
    data = edit(export(store, fmt), fmt, {**good, **bad})
    with pytest.raises(EditsRefused) as refused:
        apply(store, data, fmt)
    [problem] = refused.value.problems
    unit = "line" if fmt == "csv" else "row"
    assert (problem.unit, problem.number, problem.field) == (unit, row_of(fmt, key), field)
    assert message in problem.message
    assert str(refused.value).startswith(
        f"nothing applied: 1 problem(s): {unit} {row_of(fmt, key)}, {field}: "
    )
    assert event_count(store) == before_events and values(store) == before_values


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_stale_version_in_the_file_is_refused_naming_who_changed_the_record(store, fmt):
    data = export(store, fmt)
    change(store, "rec-a", actor="ed2", progress=40)  # a colleague saves after the export
    change(store, "rec-b", actor="ed2", progress=60)
    edited = edit(data, fmt, {"rec-a": {"status": "accepted", "reason": "agreed"}})
    before = event_count(store)
    with pytest.raises(EditsRefused) as refused:
        apply(store, edited, fmt)
    # rec-b was not edited in the file, so its older values are not a conflict; rec-a was, and is
    [problem] = refused.value.problems
    assert (problem.number, problem.field) == (2, "version")
    assert "'rec-a' was changed by ed2 at " in problem.message
    assert "(you had version 1, it is now 2): progress: 0 -> 40" in problem.message
    assert event_count(store) == before and values(store)["rec-a"] == ("proposed", "OSD Policy", None, 40)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_partial_applies_the_good_rows_and_reports_the_bad(store, fmt):
    data = edit(
        export(store, fmt),
        fmt,
        {
            "rec-a": {"status": "accepted", "reason": "agreed"},
            "rec-b": {"progress": 101, "reason": "x"},
            "rec-c": {"progress": 25, "reason": "drafting"},
            "rec-d": {"status": "not_implemented", "reason": "dropped"},
        },
    )
    report = apply(store, data, fmt, partial=True)
    assert [a.key for a in report.applied] == ["rec-a", "rec-c"]
    unit = "line" if fmt == "csv" else "row"
    assert [(p.unit, p.number, p.field) for p in report.problems] == [
        (unit, 3, "progress"),
        (unit, 5, "status"),
    ]
    assert values(store)["rec-a"][0] == "accepted" and values(store)["rec-c"][3] == 25
    assert values(store)["rec-b"][3] == 0 and values(store)["rec-d"][0] == "in_progress"


def test_a_refused_row_in_partial_mode_leaves_no_trace_of_itself(store):
    """The refused row runs in a savepoint: a later good row still chains on the last good event."""
    data = edit(
        export(store, "csv"),
        "csv",
        {
            "rec-a": {"status": "under_review", "reason": "a"},
            "rec-b": {"status": "implemented", "reason": "b"},
            "rec-c": {"progress": 11, "reason": "c"},
        },
    )
    before = event_count(store)
    report = apply(store, data, "csv", partial=True)
    assert [a.key for a in report.applied] == ["rec-a", "rec-c"] and event_count(store) == before + 2
    from models.trail.verify import verify_store

    with read_session(store) as s:
        assert verify_store(s, check_files=False).ok


def test_a_viewer_importing_an_edited_file_is_refused_per_row(store):
    data = edit(export(store, "csv"), "csv", {"rec-a": {"progress": 5, "reason": "x"}})
    with pytest.raises(EditsRefused) as refused:
        apply(store, data, "csv", actor="vic")
    assert (
        str(refused.value.problems[0]) == "line 2, (row): 'vic' (role viewer) may not recommendation update"
    )


@pytest.mark.parametrize(
    "data,name,message",
    [
        (
            b"key,status\xff\n",
            "e.csv",
            "the file is not UTF-8 text: byte 0xFF at byte offset 10 (line 1, column 11)",
        ),
        (b"", "e.csv", "the file is empty"),
        (
            b"key,title,status,owner\nrec-a,t,proposed,O\n",
            "e.csv",
            "header (line 1): missing column(s): target_date, progress, version, reason",
        ),
        (
            b"key,status,owner,target_date,progress,version,reason,colour\n",
            "e.csv",
            "unknown column(s): 'colour'",
        ),
        (
            b"key,status,owner,target_date,progress,version,reason\n",
            "e.csv",
            "the file has a header but no rows",
        ),
        (b"not a zip", "e.xlsx", "the file is not an Excel .xlsx workbook"),
        (b"x", "e.txt", "'e.txt': use a .csv or .xlsx file name"),
    ],
)
def test_unreadable_files_are_refused_with_one_clear_message(data, name, message):
    with pytest.raises(InvalidInput) as refused:
        parse_edit_file(data, name)
    assert message in str(refused.value) and str(refused.value).startswith(("nothing applied", "'e.txt'"))


def test_a_workbook_without_the_recommendations_sheet_or_its_headers_is_refused(store):
    data = export(store, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    wb["recommendations"].title = "Sheet1"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(
        InvalidInput, match=r"the workbook has no sheet 'recommendations' \(it has: 'Sheet1', "
    ):
        parse_edit_file(out.getvalue(), "e.xlsx")
    wb = load_workbook(io.BytesIO(data))
    wb["recommendations"]["G1"].value = "rev"
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(
        InvalidInput,
        match=r"header \(sheet 'recommendations', row 1\): missing column\(s\): version; "
        r"unknown column\(s\): 'rev'",
    ):
        parse_edit_file(out.getvalue(), "e.xlsx")


def test_the_progress_callback_sees_every_row(store):
    seen = []
    apply(store, export(store, "csv"), "csv", progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


runner = CliRunner()


@pytest.fixture
def cli_store(store, monkeypatch):
    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", store.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    give_cli_password(store, "ed")
    return store


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_rectrack_export_recs_and_apply_edits_round_trip(cli_store, tmp_path, fmt):
    out = tmp_path / f"recs.{fmt}"
    exported = runner.invoke(app, ["export-recs", "--out", str(out)])
    assert exported.exit_code == 0 and exported.stdout == f"wrote 4 recommendation(s) to {out}\n"
    same = runner.invoke(app, ["apply-edits", str(out), "--as", "ed"], input=CLI_PASSWORD + "\n")
    assert same.exit_code == 0 and same.stdout == f"applied 0 change(s) from recs.{fmt}; 4 row(s) unchanged\n"
    out.write_bytes(
        edit(
            out.read_bytes(),
            fmt,
            {
                "rec-a": {"progress": 15, "reason": "kick-off"},
                "rec-b": {"status": "implemented", "reason": "done"},
            },
        )
    )
    refused = runner.invoke(app, ["apply-edits", str(out), "--as", "ed"], input=CLI_PASSWORD + "\n")
    unit = "line" if fmt == "csv" else "row"
    assert refused.exit_code == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"error: nothing applied: 1 problem(s): {unit} 3, status: ")
    assert len(refused.stderr.splitlines()) == 1
    partial = runner.invoke(
        app, ["apply-edits", str(out), "--as", "ed", "--partial"], input=CLI_PASSWORD + "\n"
    )
    assert partial.exit_code == 1
    assert partial.stdout == (
        f"applied 1 change(s) from recs.{fmt}; 2 row(s) unchanged; 1 row(s) refused\n"
        f"  {unit} 2: rec-a: progress 0 -> 15 (version 2)\n"
    )
    assert partial.stderr.startswith(
        f"error: 1 row(s) refused and not applied (the others were): {unit} 3, status: "
    )


def test_rectrack_apply_edits_shows_progress_for_large_files(cli_store, tmp_path, monkeypatch):
    import cli.workflow as workflow

    monkeypatch.setattr(workflow, "PROGRESS_FROM_ROWS", 4)
    out = tmp_path / "recs.csv"
    runner.invoke(app, ["export-recs", "--out", str(out)])
    result = runner.invoke(app, ["apply-edits", str(out), "--as", "ed"], input=CLI_PASSWORD + "\n")
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "  1/4 rows checked",
        "  2/4 rows checked",
        "  3/4 rows checked",
        "  4/4 rows checked",
    ]


def test_rectrack_export_recs_refuses_an_unknown_format_or_status(cli_store, tmp_path):
    bad = runner.invoke(app, ["export-recs", "--out", str(tmp_path / "x.json")])
    assert bad.exit_code == 1 and bad.stderr == "error: 'x.json': use a .csv or .xlsx file name\n"
    bad = runner.invoke(app, ["export-recs", "--out", str(tmp_path / "x.csv"), "--status", "done"])
    assert bad.exit_code == 1 and bad.stderr.startswith("error: unknown status 'done'; use one of: ")
    assert not (tmp_path / "x.csv").exists()
