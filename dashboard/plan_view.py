"""A recommendation's action plan in the detail view: how its progress is set, and its steps."""

import pandas as pd
import streamlit as st

from dashboard import ui
from models.store.vocabulary import human


def action_plan(v: dict) -> None:
    """``v`` is :func:`models.reads.records.recommendation_view`'s answer."""
    plan = v["plan"]
    if plan["explicit"]:
        st.caption(f"Progress {plan['progress']}% was set by an officer; the steps do not change it.")
    elif plan["from_steps"] is not None:
        st.caption(
            f"Progress {plan['from_steps']}% comes from the steps: {plan['done']} done of "
            f"{plan['steps'] - plan['dropped']} (dropped steps do not count)."
        )
    if not v["steps"]:
        st.caption("No step planned.")
        return
    steps = pd.DataFrame(v["steps"])
    steps["status"] = steps["status"].map(lambda s: human("step_status", s))
    steps["overdue"] = steps["overdue"].map(lambda o: "overdue" if o else "")
    st.dataframe(
        ui.no_blanks(steps[["position", "title", "office", "due_date", "status", "overdue", "evidence"]]),
        hide_index=True,
        width="stretch",
        column_config={"position": st.column_config.NumberColumn("Step"), "title": "Step title"},
    )
