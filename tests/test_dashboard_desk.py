"""What a viewer sees of the officers' obstacles and action plans (issue 13, parts 1-2): the detail
view lists linked obstacles with who linked them and why, and the steps with the progress they
give; the Overview and Obstacles pages count officer-created obstacles and links, and "as of" a
date before a link does not show it; My items and the reminders count overdue steps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from models.rules.obstacles import create_obstacle, link_obstacle
from models.rules.steps import add_step, update_step
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.schemas import ObstacleCreate, StepCreate, StepUpdate
from models.trail.verify import verify_store
from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_workflow import engine, page, texts

CHILD, PARENT = "martinez14-support-iaafa", "martinez14-enhance-pme-bpc-platforms"  # NORTHCOM, proposed
TITLE = "No standing budget line for the exchange"
CITE = {
    "source_id": "2014-martinez-nps-thesis-building-trust",
    "section": "Chapter IV",
    "line_start": 10,
    "line_end": 12,
}
LINKED_AT = datetime.now(UTC) - timedelta(days=30)


def officer_records_an_obstacle_and_a_plan() -> None:
    e = engine()
    with write_session(e) as s:
        ed = get_user(s, "ed")
        create_obstacle(
            s,
            data=ObstacleCreate(
                key="ed-budget-line",
                title=TITLE,
                category="budgetary",
                side="us",
                summary="The thesis notes the exchange has no budget line of its own.",
            ),
            actor=ed,
            reason="reported by J5",
            citations=[CITE],
            effective_at=LINKED_AT,
        )
        link_obstacle(
            s,
            key=CHILD,
            obstacle_key="ed-budget-line",
            actor=ed,
            reason="funding stalls the IAAFA seats",
            effective_at=LINKED_AT,
        )
        link_obstacle(
            s,
            key=CHILD,
            obstacle_key="budget-constraints",
            actor=ed,
            reason="the catalog's budget obstacle too",
            effective_at=LINKED_AT,
        )
        for i, due in enumerate((date.today() - timedelta(days=5), None, None, None), start=1):
            add_step(
                s,
                key=CHILD,
                step=StepCreate(title=f"Step {i}", office="J5", due_date=due),
                actor=ed,
                reason="plan",
            )
        update_step(
            s,
            key=CHILD,
            position=2,
            change=StepUpdate(expected_version=1, reason="held", status="done"),
            actor=ed,
        )
    with read_session(e) as s:
        assert verify_store(s).ok
    e.dispose()


def test_a_viewer_sees_the_linked_obstacles_who_linked_them_and_why_and_the_steps(use_store):
    use_store("seeded")
    officer_records_an_obstacle_and_a_plan()
    at = page("recommendations", "vic", detail_key=CHILD)
    labels = [t.label for t in at.tabs]
    assert "Obstacles (2)" in labels and "Action plan (4)" in labels
    shown = texts(at)
    assert TITLE in shown and "Limited budgets and resources for cooperation" in shown
    assert f"Linked by ed on {LINKED_AT:%d %b %Y}: “funding stalls the IAAFA seats”" in shown
    assert "Progress 25% comes from the steps: 1 done of 4" in shown
    assert next(m.value for m in at.get("metric") if m.label == "Progress") == "25%"
    steps = next(d.value for d in at.dataframe if "overdue" in d.value.columns)
    assert list(steps["title"]) == ["Step 1", "Step 2", "Step 3", "Step 4"]
    assert list(steps["status"]) == ["Not started", "Done", "Not started", "Not started"]
    assert list(steps["overdue"])[0] == "overdue" and "overdue" not in list(steps["overdue"])[1:]
    # the parent rolls its three sub-items up: (25 + 0 + 0) / 3
    at = page("recommendations", "vic", detail_key=PARENT)
    assert any("mean progress 8%" in m.value for m in at.markdown)


def test_overview_and_obstacles_count_the_officers_obstacle_and_as_of_before_the_link_hides_it(use_store):
    use_store("seeded")
    officer_records_an_obstacle_and_a_plan()
    at = page("obstacles", "vic")
    register = at.dataframe[0].value
    row = register[register["key"] == "ed-budget-line"]
    assert list(row["title"]) == [TITLE] and list(row["open recs blocked"]) == [1]
    # the Overview ranks the 15 obstacles blocking most: the catalog's budget obstacle gains the link
    budget = "Limited budgets and resources for cooperation"

    def budget_segment(at) -> str:
        return next(o for o in at.selectbox(key="dd_obstacle_segment").options if o.startswith(budget))

    def listed(at) -> list[str]:
        at.selectbox(key="dd_obstacle_segment").set_value(budget_segment(at)).run()
        return [o.split(" — ")[0] for o in at.selectbox(key="dd_obstacle_pick").options]

    at = page("overview", "vic")
    now = int(budget_segment(at).rsplit("(", 1)[1].split()[0])
    assert CHILD in listed(at)
    at.date_input(key="as_of").set_value(LINKED_AT.date() - timedelta(days=1)).run()
    assert not at.exception
    assert budget_segment(at) == f"{budget} ({now - 1} open)" and CHILD not in listed(at)
    at.date_input(key="as_of").set_value(LINKED_AT.date() + timedelta(days=1)).run()
    assert budget_segment(at) == f"{budget} ({now} open)" and CHILD in listed(at)


def test_my_items_and_the_reminder_count_overdue_steps(use_store):
    use_store("seeded")
    officer_records_an_obstacle_and_a_plan()
    at = page("my_items", "nc")
    metrics = {m.label: int(m.value) for m in at.get("metric")}
    assert metrics["Overdue steps"] == 1
    assert at.selectbox(key="my_overdue_steps_pick").value == CHILD
    from models.reads.digests import digest_for
    from models.workflow.reminders import render_text

    e = engine()
    with read_session(e) as s:
        text = render_text(digest_for(s, "U.S. Northern Command", date.today()))
    e.dispose()
    due = (date.today() - timedelta(days=5)).isoformat()
    assert "Overdue steps of the action plans (1)" in text
    assert f"{CHILD} [proposed]" in text and f"step 1: Step 1, J5, due {due}, 5 days overdue" in text
