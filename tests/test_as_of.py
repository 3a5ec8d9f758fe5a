""" "As of" reconstruction: for random sequences of updates, the state rebuilt from events at each
step equals the state observed at that step."""

from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from models.rules.lifecycle import TRANSITIONS
from models.rules.recommendations import attach_evidence, create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.store.db import read_session, write_session
from models.store.errors import DomainError
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate
from models.store.tables import User
from models.trail.history import recommendation_as_of, status_counts_as_of

T0 = datetime(2030, 1, 1, tzinfo=UTC)
_keys = count()

step = st.tuples(st.sampled_from(["status", "owner", "progress", "evidence"]), st.integers(0, 100))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_as_of_equals_what_was_observed_at_each_step(engine, users, steps):
    key = f"prop-{next(_keys)}"
    when = T0 + timedelta(days=next(_keys) * 100)
    observed = []
    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        rec = create_recommendation(
            s,
            data=RecommendationCreate(
                key=key, title="t", summary="s", theme="research", who_must_act="us", owner="O"
            ),
            actor=ed,
            reason="r",
            effective_at=when,
        )
        observed.append(
            (
                when,
                {"status": rec.status, "owner": rec.owner, "progress": rec.progress, "version": rec.version},
            )
        )
    for i, (kind, n) in enumerate(steps, start=1):
        at = when + timedelta(hours=i)
        with write_session(engine) as s:
            ed = s.exec(select(User).where(User.username == "ed")).one()
            rec = get_recommendation(s, key)
            try:
                if kind == "evidence":
                    attach_evidence(
                        s,
                        keys=[key],
                        actor=ed,
                        reason="r",
                        evidence=EvidenceCreate(title="e", kind="citation"),
                        citations=[],
                        files=[
                            {
                                "filename": "a.txt",
                                "stored_path": "evidence/x",
                                "sha256": "0" * 64,
                                "size_bytes": 1,
                                "media_type": "text/plain",
                            }
                        ],
                        effective_at=at,
                    )
                    continue
                fields = (
                    {"status": TRANSITIONS[rec.status][n % len(TRANSITIONS[rec.status])]}
                    if kind == "status"
                    else {"owner": f"Office {n % 3}"}
                    if kind == "owner"
                    else {"progress": n}
                )
                rec = update_recommendation(
                    s,
                    key=key,
                    actor=ed,
                    effective_at=at,
                    change=RecommendationUpdate(expected_version=rec.version, reason="r", **fields),
                )
            except DomainError:
                continue
        observed.append(
            (at, {"status": rec.status, "owner": rec.owner, "progress": rec.progress, "version": rec.version})
        )
    with read_session(engine) as s:
        for at, state in observed:
            rebuilt = recommendation_as_of(s, key, at)
            assert {k: rebuilt[k] for k in state} == state
            assert status_counts_as_of(s, at).get(state["status"], 0) >= 1
        assert recommendation_as_of(s, key, when - timedelta(seconds=1)) is None


def test_portfolio_counts_as_of_a_date_before_a_change_show_the_old_state(engine, users):
    from helpers import change, make_rec

    make_rec(engine, key="rec-a")
    make_rec(engine, key="rec-b")
    with read_session(engine) as s:
        before = status_counts_as_of(s, datetime.now(UTC))
    change(engine, "rec-a", status="accepted", reason="agreed")
    with read_session(engine) as s:
        now = status_counts_as_of(s, datetime.now(UTC))
        assert status_counts_as_of(s, T0.replace(year=2000)) == {}
    assert before == {"proposed": 2} and now == {"proposed": 1, "accepted": 1}


def test_owner_and_target_date_as_of_a_date_are_the_values_then(engine, users):
    from datetime import date

    from helpers import change, make_rec

    from models.reads.figures import segment_records, status_breakdown, summary
    from models.trail.history import fields_as_of

    make_rec(engine, key="rec-a", owner="OSD Policy", target_date=date(2020, 1, 1))
    before = datetime.now(UTC)
    change(engine, "rec-a", owner="J5", target_date=date(2049, 1, 1), reason="handed over, new deadline")
    with read_session(engine) as s:
        assert fields_as_of(s, before)["rec-a"] == {"owner": "OSD Policy", "target_date": "2020-01-01"}
        then = [r for r in status_breakdown(s, "owner", before) if r["count"]]
        assert [(r["owner"], r["status"], r["count"]) for r in then] == [("OSD Policy", "proposed", 1)]
        assert summary(s, before)["overdue"] == 1 and summary(s, None)["overdue"] == 0
        rows = segment_records(s, before, owner="OSD Policy")
        assert [(r["key"], r["owner"], r["target_date"]) for r in rows] == [
            ("rec-a", "OSD Policy", date(2020, 1, 1))
        ]
        assert segment_records(s, before, owner="J5") == []
        assert [r["key"] for r in segment_records(s, before, overdue=True)] == ["rec-a"]
