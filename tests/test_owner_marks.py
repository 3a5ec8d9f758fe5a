"""Inferred owners and "No status claimed" wherever a reader meets them off the detail page (issue 16):
the Overview's figures and drill-downs, the owner tallies, the edit file, the trail report, My items.
A policy already in force or a decades-old proposal that no source reports acted on is counted apart
from real proposals; an office's records whose owner no source names are marked."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from models.reads.digests import digest_for
from models.reads.figures import segment_records, status_breakdown, summary
from models.reads.owners import owner_marks
from models.store.db import read_session
from models.store.tables import AuditEvent, User
from models.store.vocabulary import owners_shown
from models.trail.export_formats import Scope
from models.trail.exports import export
from tests.helpers import change, make_rec, read_rec
from tests.test_roundtrip import export as export_edit_file


def _store(engine):
    make_rec(engine, "rec-policy", owner="OSD Policy", kind="existing_policy")
    make_rec(engine, "rec-old", owner="OSD Policy", kind="historical_proposal", owner_inferred=False)
    make_rec(engine, "rec-advice", owner="OSD Policy", owner_inferred=False, target_date=date(2020, 1, 1))
    make_rec(engine, "rec-j5", owner="J5")
    return engine


def test_the_figures_count_policies_no_source_gave_a_status_apart_from_proposals(engine, users):
    _store(engine)
    with read_session(engine) as s:
        figures = summary(s)
        assert figures["by_status"]["proposed"] == 4 and figures["no_status_claimed"] == 2
        rows = status_breakdown(s, "owner", split_unclaimed=True)
        assert {(r["owner"], r["status"]): r["count"] for r in rows} == {
            ("J5", "proposed"): 1,
            ("OSD Policy", "proposed"): 1,
            ("OSD Policy", "unclaimed"): 2,
        }
        unclaimed = segment_records(s, status="unclaimed", split_unclaimed=True)
        proposed = segment_records(s, status="proposed", split_unclaimed=True)
        assert [r["key"] for r in unclaimed] == ["rec-old", "rec-policy"]
        assert [r["key"] for r in proposed] == ["rec-advice", "rec-j5"]
        assert {r["kind"] for r in unclaimed} == {"existing_policy", "historical_proposal"}
        # the same figures as of a past moment, rebuilt from the trail
        later = datetime.now(UTC) + timedelta(seconds=1)
        assert summary(s, later)["no_status_claimed"] == 2
        assert len(segment_records(s, later, status="unclaimed", split_unclaimed=True)) == 2


def test_an_offices_tally_says_how_many_of_its_owners_are_inferred(engine, users):
    _store(engine)
    with read_session(engine) as s:
        marks = owner_marks(s)
        assert marks == {"OSD Policy": [1, 3], "J5": [1, 1]}
        assert owner_marks(s, datetime.now(UTC) + timedelta(seconds=1)) == marks
    assert owners_shown("OSD Policy", *marks["OSD Policy"]) == "OSD Policy (1 of 3 inferred)"
    assert owners_shown("J5", *marks["J5"]) == "J5 (inferred)"
    assert owners_shown("DSCA", 0, 4) == "DSCA"


def test_an_officer_assigning_an_owner_clears_the_inferred_mark_and_the_trail_says_so(engine, users):
    _store(engine)
    rec = change(engine, "rec-j5", owner="OSD Policy", reason="OSD leads this")
    assert rec.owner_inferred is False
    with read_session(engine) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (
        json.loads(last.after)["owner_inferred"] is False
        and json.loads(last.before)["owner_inferred"] is True
    )
    assert read_rec(engine, "rec-policy").owner_inferred is True  # untouched records keep the mark
    from models.trail.verify import verify_store

    with read_session(engine) as s:
        assert verify_store(s).ok  # the trail replays to the stored rows with the new field in the event


def test_the_edit_file_says_whether_a_source_names_the_owner_and_how_the_status_reads(engine, users):
    _store(engine)
    rows = {
        r["key"]: r for r in csv.DictReader(io.StringIO(export_edit_file(engine, "csv").decode("utf-8-sig")))
    }
    assert (rows["rec-policy"]["status"], rows["rec-policy"]["status_shown"]) == (
        "proposed",
        "No status claimed",
    )
    assert rows["rec-advice"]["status_shown"] == "Proposed"
    assert rows["rec-policy"]["owner_inferred"] == "true" and rows["rec-old"]["owner_inferred"] == "false"


def test_the_trail_report_marks_inferred_owners_and_unclaimed_statuses(engine, users, tmp_path):
    _store(engine)
    with read_session(engine) as s:
        auditor = s.exec(select(User).where(User.username == "aud")).one()
    out = tmp_path / "report.html"
    export(engine, fmt="html", scope=Scope(), actor=auditor, out_path=out)
    body = out.read_text(encoding="utf-8")
    table = body.split("<h2>Recommendations</h2>")[1].split("<h2>Events")[0]
    assert (
        "<td>rec-policy</td><td>A title</td><td>No status claimed</td><td>OSD Policy (inferred)</td>" in table
    )
    assert "<td>rec-advice</td><td>A title</td><td>Proposed</td><td>OSD Policy</td>" in table
    chart = body.split("Where the recommendations stand")[1].split("<h2>Activity")[0]
    assert ">No status claimed</text>" in chart and ">Proposed</text>" in chart


def test_my_items_carry_the_kind_and_whether_the_owner_is_inferred(engine, users):
    _store(engine)
    with read_session(engine) as s:
        (item,) = digest_for(s, "OSD Policy", date(2026, 1, 1)).overdue
    assert (item.key, item.kind, item.owner, item.owner_inferred) == (
        "rec-advice",
        "explicit",
        "OSD Policy",
        False,
    )
