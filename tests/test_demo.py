"""`rectrack demo`: a synthetic store that is valid (it verifies, statuses follow the lifecycle,
versions match the trail), says it is synthetic everywhere, and never touches a real store.
Timing is measured by benchmarks/run.py, never asserted here."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from cli.main import app
from models.catalog.synthetic import DemoRefused, generate, is_synthetic
from models.rules import lifecycle
from models.store.db import make_engine, read_session, write_session
from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceFile, EvidenceItem, EvidenceLink, Recommendation, User
from models.store.upgrade import upgrade
from models.trail.verify import verify_store

SIZE = dict(recommendations=200, events=3000, evidence=20)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo_store(request, tmp_path_factory):
    """A small demo store per backend, built once per module: (url, data_dir, report)."""
    root = tmp_path_factory.mktemp(f"demo-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'demo.db'}"
    else:
        url = request.getfixturevalue("pg_database")()
    report = generate(url, seed=11, data_dir=root / "data", **SIZE)
    return url, root / "data", report


@pytest.fixture
def store(demo_store, monkeypatch):
    url, data_dir, report = demo_store
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    engine = make_engine(url)
    yield engine, report
    engine.dispose()


def test_a_demo_store_verifies_like_any_store(store):
    engine, report = store
    with read_session(engine) as s:
        result = verify_store(s)
    assert result.ok, result.lines()
    assert result.events_checked == SIZE["events"] == report.events
    assert result.files_checked == SIZE["evidence"]


def test_the_demo_writes_the_sizes_asked_for(store):
    engine, report = store
    with read_session(engine) as s:
        assert s.exec(select(func.count()).select_from(Recommendation)).one()[0] == SIZE["recommendations"]
        assert s.exec(select(func.count()).select_from(EvidenceItem)).one()[0] == SIZE["evidence"]
        assert s.exec(select(func.count()).select_from(EvidenceFile)).one()[0] == SIZE["evidence"]
        assert s.exec(select(func.count()).select_from(AuditEvent)).one()[0] == SIZE["events"]
    assert (
        report.recommendations == SIZE["recommendations"]
        and sum(report.by_status.values()) == SIZE["recommendations"]
    )


def test_every_demo_status_move_is_one_the_lifecycle_allows(store):
    engine, _ = store
    with read_session(engine) as s:
        rows = s.exec(select(Recommendation.key, Recommendation.status, Recommendation.version)).all()
        linked = {
            k
            for (k,) in s.exec(
                select(Recommendation.key).join(
                    EvidenceLink, EvidenceLink.recommendation_id == Recommendation.id
                )
            ).all()
        }
        events = s.exec(
            select(
                AuditEvent.record_type,
                AuditEvent.record_key,
                AuditEvent.action,
                AuditEvent.status_before,
                AuditEvent.status_after,
                AuditEvent.after,
            ).order_by(AuditEvent.seq)
        ).all()
    state: dict[str, str] = {}
    versions: dict[str, int] = {}
    proposed: dict[str, str] = {}
    evidenced: set[str] = set()
    moves = closures = 0
    for record_type, key, action, before, after, payload in events:
        if record_type == "evidence":
            evidenced.update(json.loads(payload)["recommendations"])
            continue
        if record_type != "recommendation":
            continue
        if action == "create":
            assert key not in state and after == "proposed"
            state[key] = after
        else:
            assert before == state[key], f"{key}: event says it left {before}, it was {state[key]}"
            if action == "closure_proposed":
                target = json.loads(payload)["closure_target"]
                assert before == after and target in lifecycle.TRANSITIONS[before] and key not in proposed
                proposed[key] = target
            elif before != after:
                assert after in lifecycle.TRANSITIONS[before], f"{key}: {before} -> {after} is not allowed"
                if after in lifecycle.CLOSED:  # two people: proposed, then verified by someone else
                    assert action == "closure_accepted" and proposed.pop(key) == after
                    closures += 1
                else:
                    assert action == ("reopen" if lifecycle.is_reopening(before, after) else "status_change")
                    assert key not in proposed, f"{key} moved while a closure was waiting"
                moves += 1
            if after == "implemented" and before != after:
                assert key in evidenced, f"{key} was closed as implemented with no evidence"
            state[key] = after
        versions[key] = json.loads(payload)["version"]
    assert closures > 0
    assert moves > SIZE["recommendations"]  # a real history, not just creates
    for key, status, version in rows:
        assert state[key] == status and versions[key] == version
    assert evidenced <= linked


def test_a_demo_store_is_marked_synthetic_everywhere(store):
    engine, _ = store
    with read_session(engine) as s:
        assert is_synthetic(s)
        recs = s.exec(select(Recommendation.key, Recommendation.title, Recommendation.origin)).all()
        users = s.exec(select(User.username, User.password_hash)).all()
        evidence = s.exec(select(EvidenceItem.title)).all()
    assert all(k.startswith("syn-") and t.startswith("[SYNTHETIC]") and o == "synthetic" for k, t, o in recs)
    assert all(name.startswith("syn-") and pw is None for name, pw in users)
    assert all(t.startswith("[SYNTHETIC]") for (t,) in evidence)
    files = [p for p in (get_settings().data_dir / "evidence").rglob("*") if p.is_file()]
    assert len(files) == SIZE["evidence"]
    assert all(p.read_text().startswith("SYNTHETIC DATA") for p in files)


def test_a_real_store_is_not_synthetic(engine, users):
    from helpers import make_rec

    with read_session(engine) as s:
        assert not is_synthetic(s)
    make_rec(engine, key="rec-a")
    with read_session(engine) as s:
        assert not is_synthetic(s)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'real.db'}"
    return request.getfixturevalue("pg_database")()


def test_a_demo_into_a_store_with_recommendations_is_refused_and_changes_nothing(fresh_url):
    from helpers import make_rec

    upgrade(fresh_url)
    engine = make_engine(fresh_url)
    with write_session(engine) as s:
        s.add(User(username="ed", role="editor"))
    make_rec(engine, key="real-one")
    with pytest.raises(
        DemoRefused, match=r"already holds 1 recommendation\(s\).*only fills a new, empty store"
    ):
        generate(fresh_url, **SIZE)
    with read_session(engine) as s:
        assert s.exec(select(func.count()).select_from(AuditEvent)).one()[0] == 1
        assert not is_synthetic(s)
    engine.dispose()


def test_the_demo_command_refuses_a_filled_store_with_one_clear_line(demo_store):
    url = demo_store[0]
    result = CliRunner().invoke(
        app, ["demo", "--database-url", url, "--recommendations", "10", "--events", "1000"]
    )
    assert result.exit_code == 1
    assert "error: refusing to write synthetic data into" in result.output
    assert "already holds 200 recommendation(s)" in result.output
    assert "Traceback" not in result.output


def test_the_demo_command_fills_a_new_store_and_reports_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(
        app,
        [
            "demo",
            "--database-url",
            url,
            "--recommendations",
            "30",
            "--events",
            "400",
            "--evidence",
            "3",
            "--data-dir",
            str(tmp_path / "data"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "30 recommendations, 400 audit events, 3 evidence files" in result.output
    assert "SYNTHETIC" in result.output


def test_too_few_events_for_the_records_asked_for_is_refused(tmp_path):
    with pytest.raises(DemoRefused, match="--events must be at least"):
        generate(f"sqlite:///{tmp_path / 'x.db'}", recommendations=100, events=50)


def test_the_demo_command_has_help_text():
    result = CliRunner().invoke(app, ["demo", "--help"])
    assert result.exit_code == 0
    assert "SYNTHETIC" in result.output and "--database-url" in result.output
