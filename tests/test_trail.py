"""The evidence trail: tampering behind the app's back is detected and named, on both databases;
bundles verify offline and fail on any changed byte; exports are audited and scoped."""

import hashlib
import json
import zipfile
from datetime import date

import pytest
from helpers import small_trail
from sqlalchemy import text
from sqlmodel import select

from models.store.db import read_session, write_session
from models.store.errors import PermissionDenied
from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, User
from models.trail.bundle_verify import verify_bundle
from models.trail.chain import content_bytes
from models.trail.export_formats import Scope
from models.trail.exports import export
from models.trail.verify import verify_store


@pytest.fixture
def trail(engine, users):
    """Six accounts and the operator who added them (the ``users`` fixture), then two recommendations with a few moves each and one
    evidence file: 9 more events (closing takes two), 16 in all."""
    return small_trail(engine)


def sql(engine, *statements):
    with engine.begin() as c:
        for st in statements:
            c.execute(text(st))


def verdict(engine):
    with read_session(engine) as s:
        return verify_store(s)


def test_an_untouched_trail_verifies(trail):
    report = verdict(trail)
    assert report.ok, report.lines()
    assert report.events_checked == 16 and report.files_checked == 1


def test_an_edited_event_is_detected_as_altered(trail):
    sql(trail, "UPDATE auditevent SET reason = 'nothing to see' WHERE seq = 3")
    p = verdict(trail).chain_problem
    assert (p.seq, p.kind) == (3, "altered")


def test_a_deleted_event_is_detected_as_deleted(trail):
    sql(trail, "DELETE FROM auditevent WHERE seq = 4")
    p = verdict(trail).chain_problem
    assert (p.seq, p.kind) == (4, "deleted")


def test_deleting_the_newest_event_is_caught_by_the_state_replay(trail):
    sql(trail, "DELETE FROM auditevent WHERE seq = 16")
    report = verdict(trail)
    assert report.chain_problem is None and not report.ok
    assert "recommendation 'rec-b': owner is 'J5' in the store but the trail implies 'SOUTHCOM J7'" in (
        report.store_problems
    )
    assert (
        "recommendation 'rec-b': version is 3 in the store but the trail implies 2" in report.store_problems
    )


def test_a_forged_event_inserted_in_the_middle_is_detected_as_inserted(trail):
    with read_session(trail) as s:
        prev = s.exec(select(AuditEvent).where(AuditEvent.seq == 2)).one()
    sql(
        trail,
        "UPDATE auditevent SET seq = seq + 1000 WHERE seq >= 3",
        "UPDATE auditevent SET seq = seq - 999 WHERE seq >= 1003",
    )
    forged = AuditEvent(
        seq=3,
        recorded_at=prev.recorded_at,
        effective_at=prev.effective_at,
        actor="mallory",
        action="status_change",
        record_type="recommendation",
        record_key="rec-b",
        status_after="implemented",
        reason="forged",
        prev_hash=prev.hash,
        hash="",
    )
    from models.trail.chain import HASHED_FIELDS

    forged.hash = hashlib.sha256(content_bytes(getattr(forged, f) for f in HASHED_FIELDS)).hexdigest()
    with write_session(trail) as s:  # a forger who knows the hash recipe
        s.add(forged)
    p = verdict(trail).chain_problem
    assert (p.seq, p.kind) == (3, "inserted")


def test_swapping_two_events_is_detected_as_reordered(trail):
    sql(
        trail,
        "UPDATE auditevent SET seq = -5 WHERE seq = 5",
        "UPDATE auditevent SET seq = 5 WHERE seq = 6",
        "UPDATE auditevent SET seq = 6 WHERE seq = -5",
    )
    p = verdict(trail).chain_problem
    assert (p.seq, p.kind) == (5, "reordered")


def test_an_altered_or_missing_evidence_file_is_named(trail):
    with read_session(trail) as s:
        f = s.exec(select(EvidenceFile)).one()
    path = get_settings().data_dir / f.stored_path
    path.write_bytes(b"signed minutes, amended")
    assert verdict(trail).file_problems == [
        "evidence file 'minutes.txt' was altered: its SHA-256 no longer matches"
    ]
    path.unlink()
    assert "is missing" in verdict(trail).file_problems[0]


def test_the_cli_names_the_first_bad_event_and_exits_1(trail, monkeypatch):
    from typer.testing import CliRunner

    from cli.main import app

    monkeypatch.setenv("DATABASE_URL", trail.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    assert CliRunner().invoke(app, ["verify"]).exit_code == 0
    sql(trail, "UPDATE auditevent SET actor = 'someone' WHERE seq = 2")
    result = CliRunner().invoke(app, ["verify"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: trail broken at event 2: altered")


def _auditor(engine):
    with read_session(engine) as s:
        return s.exec(select(User).where(User.username == "aud")).one()


def test_a_whole_bundle_verifies_offline_and_records_its_own_export(trail, tmp_path):
    result = export(trail, fmt="bundle", scope=Scope(), actor=_auditor(trail), out_path=tmp_path / "b.zip")
    report = verify_bundle(tmp_path / "b.zip")
    assert report.ok, report.problems
    assert report.events_included == 17 == report.events_in_chain  # 16 + the export event itself
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        names = set(zf.namelist())
        events = [json.loads(line) for line in zf.read("events.jsonl").splitlines()]
    assert any(n.startswith("evidence/") and n.endswith("/minutes.txt") for n in names)
    assert events[-1]["action"] == "export" and events[-1]["actor"] == "aud" and result.head[0] == 17


def test_one_changed_byte_in_any_file_of_a_bundle_fails_verification(trail, tmp_path):
    export(trail, fmt="bundle", scope=Scope(), actor=_auditor(trail), out_path=tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    for name, data in entries.items():
        broken = bytearray(data or b"\n")  # an empty file (no left-out events) gets one byte added
        if data:
            broken[len(broken) // 2] ^= 0x01
        path = tmp_path / f"broken-{name.replace('/', '_')}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for n, d in entries.items():
                zf.writestr(n, bytes(broken) if n == name else d)
        report = verify_bundle(path)
        assert not report.ok, f"a changed byte in {name} went unnoticed"


def test_a_scoped_bundle_carries_only_its_records_and_still_proves_their_place(trail, tmp_path):
    export(
        trail, fmt="bundle", scope=Scope(keys=("rec-b",)), actor=_auditor(trail), out_path=tmp_path / "b.zip"
    )
    report = verify_bundle(tmp_path / "b.zip")
    assert report.ok, report.problems
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        events = [json.loads(line) for line in zf.read("events.jsonl").splitlines()]
        left_out = [json.loads(line) for line in zf.read("chain.jsonl").splitlines()]
    assert {e["record_key"] for e in events} == {"rec-b"} and len(events) == 3
    assert len(events) + len(left_out) == 17 and not any(n.startswith("evidence/") for n in zf.namelist())


def test_a_period_scope_uses_effective_dates(trail, tmp_path):
    today = date.today()
    export(
        trail,
        fmt="jsonl",
        scope=Scope(since=today.replace(year=today.year + 1)),
        actor=_auditor(trail),
        out_path=tmp_path / "future.jsonl",
    )
    assert (tmp_path / "future.jsonl").read_text() == ""


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "html"])
def test_flat_exports_are_written_and_audited(trail, tmp_path, fmt):
    result = export(
        trail, fmt=fmt, scope=Scope(owner="J5"), actor=_auditor(trail), out_path=tmp_path / f"x.{fmt}"
    )  # current owner
    body = result.path.read_text(encoding="utf-8")
    assert "rec-b" in body and (
        "rec-a" not in body or fmt == "html" and "rec-a" not in body.split("<h2>Events")[1]
    )
    with read_session(trail) as s:
        last = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (last.action, last.record_key, last.actor) == ("export", fmt, "aud")


def test_a_viewer_cannot_export(trail, tmp_path):
    with read_session(trail) as s:
        vic = s.exec(select(User).where(User.username == "vic")).one()
    with pytest.raises(PermissionDenied):
        export(trail, fmt="csv", scope=Scope(), actor=vic, out_path=tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()
