"""The bulk-edit file's obstacles column: the keys of the obstacles blocking each record, linked
and unlinked through models.rules.obstacles when the file comes back, round-tripping through the
export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from models.reads.plans import obstacles_of
from models.rules.obstacles import link_obstacle, resolve_obstacle
from models.rules.recommendations import attach_evidence
from models.store.db import read_session, write_session
from models.store.schemas import EvidenceCreate
from models.store.tables import AuditEvent, Obstacle, Source, User
from models.workflow.bulk_edits import EditsRefused
from tests.helpers import event_count, make_rec
from tests.test_roundtrip import apply, edit, export


def _user(s, name="ed"):
    return s.exec(select(User).where(User.username == name)).one()


def _link(engine, key, obstacle, actor="ed"):
    with write_session(engine) as s:
        link_obstacle(s, key=key, obstacle_key=obstacle, actor=_user(s, actor), reason="seen blocking it")


def blocking(engine, key) -> set[str]:
    with read_session(engine) as s:
        return {o["key"] for o in obstacles_of(s, key) if o["state"] == "blocking"}


def column(data: bytes, fmt: str) -> dict[str, str]:
    if fmt == "csv":
        return {r["key"]: r["obstacles"] for r in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data))["recommendations"]
    header = [c.value for c in ws[1]]
    k, o = header.index("key"), header.index("obstacles")
    return {r[k]: r[o] or "" for r in ws.iter_rows(min_row=2, values_only=True)}


@pytest.fixture
def store(engine, users):
    with write_session(engine) as s:
        s.add(
            Source(
                id="src-a",
                short="Source A",
                title="A",
                author="x",
                publisher="y",
                published="2020",
                file="a.md",
                reproduction="cite",
            )
        )
        for key, title in (
            ("ob-budget", "No budget line"),
            ("ob-sovereignty", "Sovereignty"),
            ("ob-seam", "Seam"),
        ):
            s.add(Obstacle(key=key, title=title, category="political", side="us"))
    make_rec(engine, "rec-a")
    make_rec(engine, "rec-b")
    _link(engine, "rec-a", "ob-budget")
    _link(engine, "rec-a", "ob-seam")
    return engine


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_obstacles_column_links_and_unlinks_and_round_trips(store, fmt):
    data = export(store, fmt)
    assert column(data, fmt) == {"rec-a": "ob-budget; ob-seam", "rec-b": ""}
    before = event_count(store)
    edited = edit(
        data,
        fmt,
        {
            "rec-a": {
                "obstacles": "ob-budget; ob-sovereignty",
                "reason": "the seam was a mistake; sovereignty blocks it",
            },
            "rec-b": {"obstacles": "ob-seam", "progress": 20, "reason": "started; the seam is in the way"},
        },
    )
    report = apply(store, edited, fmt)
    assert [(a.key, a.changes) for a in report.applied] == [
        ("rec-a", {"obstacles": ("ob-budget; ob-seam", "ob-budget; ob-sovereignty")}),
        ("rec-b", {"progress": (0, 20), "obstacles": (None, "ob-seam")}),
    ]
    assert blocking(store, "rec-a") == {"ob-budget", "ob-sovereignty"} and blocking(store, "rec-b") == {
        "ob-seam"
    }
    with read_session(store) as s:
        new = s.exec(select(AuditEvent).where(AuditEvent.seq > before).order_by(AuditEvent.seq)).all()
    assert [(e.record_key, e.action, e.actor, e.reason) for e in new] == [
        ("rec-a", "obstacle_unlinked", "ed", "the seam was a mistake; sovereignty blocks it"),
        ("rec-a", "obstacle_linked", "ed", "the seam was a mistake; sovereignty blocks it"),
        ("rec-b", "update", "ed", "started; the seam is in the way"),
        ("rec-b", "obstacle_linked", "ed", "started; the seam is in the way"),
    ]
    # the new export shows the new links, and applying it unchanged changes nothing
    again = export(store, fmt)
    assert column(again, fmt) == {"rec-a": "ob-budget; ob-sovereignty", "rec-b": "ob-seam"}
    before = event_count(store)
    report = apply(store, again, fmt)
    assert report.applied == [] and report.unchanged == 2 and event_count(store) == before


def test_an_unknown_obstacle_key_applies_nothing_and_names_the_column(store):
    before = event_count(store)
    edited = edit(
        export(store, "csv"),
        "csv",
        {
            "rec-a": {"progress": 10, "obstacles": "ob-budget, ob-nope", "reason": "x"},
            "rec-b": {"obstacles": "ob-seam", "reason": "y"},
        },
    )
    with pytest.raises(EditsRefused) as refused:
        apply(store, edited, "csv")
    [problem] = refused.value.problems
    assert (problem.number, problem.field) == (2, "obstacles")
    assert "no obstacle with key 'ob-nope'" in problem.message
    assert event_count(store) == before and blocking(store, "rec-a") == {"ob-budget", "ob-seam"}


def test_a_changed_obstacles_cell_needs_a_reason(store):
    edited = edit(export(store, "csv"), "csv", {"rec-b": {"obstacles": "ob-seam"}})
    with pytest.raises(EditsRefused) as refused:
        apply(store, edited, "csv")
    [problem] = refused.value.problems
    assert problem.field == "reason" and "changes obstacles" in problem.message


def test_a_link_made_after_the_export_is_not_undone_by_an_unedited_row_but_an_edited_one_conflicts(store):
    data = export(store, "csv")
    _link(store, "rec-a", "ob-sovereignty", actor="ed2")  # a colleague links one after the export
    _link(store, "rec-b", "ob-budget", actor="ed2")
    report = apply(store, data, "csv")
    assert report.applied == [] and report.unchanged == 2
    assert blocking(store, "rec-a") == {"ob-budget", "ob-seam", "ob-sovereignty"}
    edited = edit(data, "csv", {"rec-a": {"obstacles": "ob-budget", "reason": "the seam is gone"}})
    with pytest.raises(EditsRefused) as refused:
        apply(store, edited, "csv")
    [problem] = refused.value.problems
    assert problem.field == "version" and "was changed by ed2" in problem.message
    assert blocking(store, "rec-a") == {"ob-budget", "ob-seam", "ob-sovereignty"}


def test_a_file_without_the_column_leaves_links_alone_and_resolved_ones_are_not_listed(store):
    with write_session(store) as s:
        ed = _user(s)
        item = attach_evidence(
            s,
            keys=["rec-a"],
            evidence=EvidenceCreate(title="Budget passed", kind="citation"),
            citations=[{"source_id": "src-a", "section": "2", "line_start": 1, "line_end": 2}],
            actor=ed,
            reason="law",
        )
        resolve_obstacle(
            s, key="rec-a", obstacle_key="ob-budget", actor=ed, reason="funded", evidence_key=item.key
        )
    data = export(store, "csv")
    assert column(data, "csv")["rec-a"] == "ob-seam"
    # an older file, without the obstacles column, still applies its other edits
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=[c for c in rows[0] if c != "obstacles"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(
        [{**r, **({"progress": "15", "reason": "moving"} if r["key"] == "rec-a" else {})} for r in rows]
    )
    report = apply(store, out.getvalue().encode(), "csv")
    assert [(a.key, a.changes) for a in report.applied] == [("rec-a", {"progress": (0, 15)})]
    with read_session(store) as s:
        states = {o["key"]: o["state"] for o in obstacles_of(s, "rec-a")}
    assert states == {"ob-budget": "resolved", "ob-seam": "blocking"}
