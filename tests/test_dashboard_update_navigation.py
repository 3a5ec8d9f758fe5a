"""The Update form after the officer leaves the page and comes back: Streamlit forgets a widget's
value when a run does not draw it, so the form used to come back with progress 0, today's date
and the first record of the list, and a save of the owner alone recorded those too."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from models.reads.trail_page import trail_page
from models.store.db import make_engine, read_session
from models.store.settings import get_settings
from tests.test_dashboard_pages import APP, templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_update import KEY, colleague_changes, rec


def signed_in(user: str = "ed") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = user
    at.run()
    return at


def away_and_back(at: AppTest) -> AppTest:
    at.switch_page("app_pages/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("app_pages/update.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def last_event(key: str):
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        row = trail_page(s, record=key, limit=1)["rows"][0]
    engine.dispose()
    return row


def test_saving_only_the_owner_after_leaving_the_page_keeps_progress_and_target_date(use_store):
    use_store("seeded")
    colleague_changes(KEY, progress=40)
    before = rec()
    at = signed_in()
    at.session_state["detail_key"] = KEY
    at.switch_page("app_pages/update.py").run()
    assert at.slider(key="upd_progress").value == 40
    away_and_back(at)
    assert at.selectbox(key="upd_key").value == KEY
    assert at.slider(key="upd_progress").value == 40
    assert at.date_input(key="upd_target").value == before.target_date
    at.text_input(key="upd_owner").input("SEDENA and SEMAR")
    at.text_area(key="upd_reason").input("The PME office now runs the exchange")
    at.button(key="upd_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    after = rec()
    assert after.owner == "SEDENA and SEMAR"
    assert (after.progress, after.target_date, after.status) == (40, before.target_date, before.status)
    assert after.version == before.version + 1
    event = last_event(KEY)
    before_fields, after_fields = json.loads(event["before"]), json.loads(event["after"])
    changed = {f for f in after_fields if f != "version" and after_fields[f] != before_fields.get(f)}
    assert changed == {"owner"}, (before_fields, after_fields)


def test_the_record_picked_on_update_is_still_picked_after_leaving_the_page(use_store):
    use_store("seeded")
    at = signed_in()
    at.switch_page("app_pages/update.py").run()
    box = at.selectbox(key="upd_key")
    other = box.options[len(box.options) // 2].split(" — ")[0]
    assert other != box.value
    box.set_value(other).run()
    assert at.text_input(key="upd_owner").value == rec(other).owner
    away_and_back(at)
    assert at.selectbox(key="upd_key").value == other
    assert at.text_input(key="upd_owner").value == rec(other).owner
    assert at.slider(key="upd_progress").value == rec(other).progress
