"""Obstacles an officer maintains and the action plan: through the one write path, audited, in
"as of", in the Overview's figures and the detail, and verified."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from models.reads.figures import blocking_obstacles
from models.reads.plans import obstacles_of, overdue_steps, plan_summary, steps_of
from models.reads.records import recommendation_view
from models.rules.obstacles import create_obstacle, link_obstacle, resolve_obstacle, unlink_obstacle
from models.rules.recommendations import attach_evidence
from models.rules.steps import add_step, update_step, use_step_progress
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, PermissionDenied
from models.store.schemas import EvidenceCreate, ObstacleCreate, StepCreate, StepUpdate
from models.store.tables import AuditEvent, Obstacle, Source, User
from models.trail.history import obstacle_links_as_of, recommendation_as_of
from models.trail.verify import verify_store
from tests.helpers import change, make_rec, read_rec

CITE = {"source_id": "src-a", "section": "Chapter 2", "line_start": 10, "line_end": 14}


def _user(s, name):
    return s.exec(select(User).where(User.username == name)).one()


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
        s.add(Obstacle(key="ob-old", title="An existing obstacle", category="political", side="us"))
    make_rec(engine, "rec-a")
    make_rec(engine, "rec-b", theme="counter_drug")
    return engine


def _new_obstacle(s, actor="ed", key="ob-new", **kw):
    data = ObstacleCreate(
        key=key,
        title="Budget line missing",
        category="budgetary",
        side="mexico",
        summary="No budget line funds it.",
    )
    return create_obstacle(s, data=data, actor=_user(s, actor), reason="seen in the report", **kw)


def test_editor_links_an_existing_obstacle_and_creates_a_cited_one(store):
    before = datetime.now(UTC)
    with write_session(store) as s:
        link_obstacle(s, key="rec-a", obstacle_key="ob-old", actor=_user(s, "ed"), reason="blocks it")
        _new_obstacle(s, citations=[CITE])
        link_obstacle(s, key="rec-a", obstacle_key="ob-new", actor=_user(s, "ed"), reason="also this")
    with read_session(store) as s:
        linked = {o["key"]: o["state"] for o in obstacles_of(s, "rec-a")}
        view = recommendation_view(s, "rec-a")
        figures = {b["obstacle"]: b["open"] for b in blocking_obstacles(s)}
        then = obstacle_links_as_of(s, before)
        now = obstacle_links_as_of(s, datetime.now(UTC) + timedelta(seconds=1))
        events = s.exec(select(AuditEvent.action).order_by(AuditEvent.seq)).all()
        report = verify_store(s)
    assert linked == {"ob-old": "blocking", "ob-new": "blocking"}
    assert {o["key"] for o in view["obstacles"]} == {"ob-old", "ob-new"}
    assert figures == {"ob-old": 1, "ob-new": 1}
    assert "rec-a" not in then and now["rec-a"] == linked
    assert events[-3:] == ["obstacle_linked", "obstacle_created", "obstacle_linked"]
    assert report.ok, report.summary()
    assert read_rec(store, "rec-a").version == 3  # created, then two links


def test_overview_as_of_before_the_link_does_not_count_it(store):
    with write_session(store) as s:
        link_obstacle(s, key="rec-b", obstacle_key="ob-old", actor=_user(s, "ed"), reason="blocks it")
    with read_session(store) as s:
        cut = s.exec(select(AuditEvent.effective_at).order_by(AuditEvent.seq.desc())).first()
        before = {b["obstacle"] for b in blocking_obstacles(s, cut - timedelta(microseconds=1))}
        after = {b["obstacle"] for b in blocking_obstacles(s, cut)}
    assert before == set() and after == {"ob-old"}


def test_an_obstacle_needs_a_citation_or_evidence_and_a_real_source(store):
    with write_session(store) as s:
        with pytest.raises(InvalidInput, match="attested"):
            _new_obstacle(s)
        with pytest.raises(InvalidInput, match="no source"):
            _new_obstacle(s, citations=[{**CITE, "source_id": "nope"}])
        with pytest.raises(InvalidInput, match="already in use"):
            _new_obstacle(s, key="ob-old", citations=[CITE])


def test_obstacle_with_the_officers_evidence(store, tmp_path):
    with write_session(store) as s:
        ed = _user(s, "ed")
        item = attach_evidence(
            s,
            keys=["rec-a"],
            evidence=EvidenceCreate(title="Memo", kind="citation"),
            actor=ed,
            reason="memo",
            citations=[CITE],
        )
        ob = _new_obstacle(s, evidence_key=item.key)
    with read_session(store) as s:
        row = s.exec(select(Obstacle).where(Obstacle.key == ob.key)).one()
        assert row.origin == "user" and row.evidence_id == item.id and row.created_by == "ed"


def test_viewer_may_not_create_or_link_and_a_scoped_editor_only_for_its_office(store):
    make_rec(store, "rec-other", owner="Another Office")
    with write_session(store) as s:
        with pytest.raises(PermissionDenied):
            _new_obstacle(s, actor="vic", citations=[CITE])
        with pytest.raises(PermissionDenied):
            link_obstacle(s, key="rec-a", obstacle_key="ob-old", actor=_user(s, "vic"), reason="x")
        with pytest.raises(PermissionDenied):
            link_obstacle(s, key="rec-other", obstacle_key="ob-old", actor=_user(s, "scoped"), reason="x")


def test_resolve_for_one_recommendation_with_evidence_then_unlink(store):
    with write_session(store) as s:
        ed = _user(s, "ed")
        for key in ("rec-a", "rec-b"):
            link_obstacle(s, key=key, obstacle_key="ob-old", actor=ed, reason="blocks")
        with pytest.raises(InvalidInput, match="needs evidence"):
            resolve_obstacle(s, key="rec-a", obstacle_key="ob-old", actor=ed, reason="done", evidence_key="")
        item = attach_evidence(
            s,
            keys=["rec-a"],
            evidence=EvidenceCreate(title="Law", kind="citation"),
            actor=ed,
            reason="law passed",
            citations=[CITE],
        )
        with pytest.raises(InvalidInput, match="does not support"):
            resolve_obstacle(
                s, key="rec-b", obstacle_key="ob-old", actor=ed, reason="x", evidence_key=item.key
            )
        resolve_obstacle(
            s,
            key="rec-a",
            obstacle_key="ob-old",
            actor=ed,
            reason="law passed",
            evidence_key=item.key,
            state="no_longer_blocking",
        )
    with read_session(store) as s:
        cut = datetime.now(UTC)
        assert [o["state"] for o in obstacles_of(s, "rec-a")] == ["no_longer_blocking"]
        assert [o["state"] for o in obstacles_of(s, "rec-b")] == ["blocking"]
        assert {b["obstacle"]: b["open"] for b in blocking_obstacles(s)} == {"ob-old": 1}
    with write_session(store) as s:
        unlink_obstacle(
            s, key="rec-b", obstacle_key="ob-old", actor=_user(s, "ed"), reason="linked by mistake"
        )
        with pytest.raises(InvalidInput, match="not linked"):
            unlink_obstacle(s, key="rec-b", obstacle_key="ob-old", actor=_user(s, "ed"), reason="again")
    with read_session(store) as s:
        assert obstacles_of(s, "rec-b") == []
        then = obstacle_links_as_of(s, cut)
        assert then["rec-b"] == {"ob-old": "blocking"} and then["rec-a"] == {"ob-old": "no_longer_blocking"}
        assert verify_store(s).ok


def test_four_steps_one_done_is_25_percent_and_rolls_up_to_the_parent(store):
    make_rec(store, "rec-parent")
    make_rec(store, "rec-child", parent_key="rec-parent")
    make_rec(store, "rec-child2", parent_key="rec-parent")
    with write_session(store) as s:
        ed = _user(s, "ed")
        for i in range(4):
            add_step(
                s,
                key="rec-child",
                step=StepCreate(title=f"Step {i + 1}", office="J5"),
                actor=ed,
                reason="plan",
            )
        update_step(
            s,
            key="rec-child",
            position=2,
            change=StepUpdate(expected_version=1, reason="done", status="done"),
            actor=ed,
        )
    with read_session(store) as s:
        child = plan_summary(s, "rec-child")
        parent = plan_summary(s, "rec-parent")
        as_of = recommendation_as_of(s, "rec-child", datetime.now(UTC))
        assert verify_store(s).ok
    assert child["progress"] == 25 and child["from_steps"] == 25 and not child["explicit"]
    assert parent["children"] == 2 and parent["children_progress"] == round((25 + 0) / 2)
    assert as_of["progress"] == 25


def test_dropped_steps_do_not_count_and_an_officers_figure_stands(store):
    with write_session(store) as s:
        ed = _user(s, "ed")
        for status in ("done", "dropped", "not_started"):
            add_step(s, key="rec-a", step=StepCreate(title="A step", status=status), actor=ed, reason="plan")
    assert read_rec(store, "rec-a").progress == 50
    change(store, "rec-a", progress=70)
    with write_session(store) as s:
        add_step(
            s,
            key="rec-a",
            step=StepCreate(title="Another", status="done"),
            actor=_user(s, "ed"),
            reason="plan",
        )
    assert read_rec(store, "rec-a").progress == 70
    with write_session(store) as s:
        use_step_progress(s, key="rec-a", actor=_user(s, "ed"), reason="steps say it better")
    assert read_rec(store, "rec-a").progress == 67


def test_a_stale_step_version_is_refused_and_overdue_steps_are_listed(store):
    yesterday = date.today() - timedelta(days=1)
    with write_session(store) as s:
        ed = _user(s, "ed")
        add_step(s, key="rec-a", step=StepCreate(title="Late", due_date=yesterday), actor=ed, reason="plan")
        add_step(
            s,
            key="rec-a",
            step=StepCreate(title="Done late", due_date=yesterday, status="done"),
            actor=ed,
            reason="plan",
        )
        update_step(
            s,
            key="rec-a",
            position=1,
            change=StepUpdate(expected_version=1, reason="x", status="in_progress"),
            actor=ed,
        )
        with pytest.raises(InvalidInput, match="while you were editing"):
            update_step(
                s,
                key="rec-a",
                position=1,
                change=StepUpdate(expected_version=1, reason="x", status="done"),
                actor=ed,
            )
    with read_session(store) as s:
        late = overdue_steps(s, today=date.today())
        steps = steps_of(s, "rec-a", today=date.today())
    assert [(k, st.position) for k, st in late] == [("rec-a", 1)]
    assert [st["overdue"] for st in steps] == [True, False]
