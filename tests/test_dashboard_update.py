"""The update form enforces the rules: only allowed moves are offered, a reason is required,
a colleague's concurrent change is shown as a conflict with the officer's input kept, and a
good change is saved once, with its evidence, and shows up everywhere."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from models.rules.lifecycle import allowed_next
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import make_engine, read_session, write_session
from models.store.schemas import RecommendationUpdate
from models.store.settings import get_settings
from tests.test_dashboard_pages import APP, templates, use_store  # noqa: F401  (fixtures)

KEY = "ssi02-expand-tsc-support"  # seeded in_progress (SSI 2002 reports the IMET request doubled)


def update_page(key: str = KEY, user: str = "ed") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = user
    at.session_state["detail_key"] = key
    at.run().switch_page("app_pages/update.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="upd_key").value == key
    return at


def rec(key: str = KEY):
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        r = get_recommendation(s, key)
    engine.dispose()
    return r


def colleague_changes(key: str = KEY, **fields):
    engine = make_engine(get_settings().url)
    with write_session(engine) as s:
        r = get_recommendation(s, key)
        update_recommendation(
            s,
            key=key,
            actor=get_user(s, "adm"),
            change=RecommendationUpdate(expected_version=r.version, reason="colleague", **fields),
        )
    engine.dispose()


def test_only_the_moves_the_lifecycle_allows_are_offered(use_store):
    use_store("seeded")
    at = update_page()
    status = rec().status
    options = at.selectbox(key="upd_status").options
    assert options[0].startswith("Keep")
    from dashboard.ui import status_label

    assert options[1:] == [status_label(s) for s in allowed_next(status)]


def test_an_empty_reason_is_refused_and_nothing_is_saved(use_store):
    use_store("seeded")
    at = update_page()
    before = rec()
    at.selectbox(key="upd_status").set_value("on_hold")
    at.text_area(key="upd_reason").input("   ")
    at.button(key="upd_save").click().run()
    assert not at.exception
    assert any("reason is required" in e.value for e in at.error)
    assert rec().version == before.version and rec().status == before.status


def test_closing_as_implemented_needs_evidence_and_says_so(use_store):
    use_store("seeded")
    from models.reads.records import recommendation_choices, recommendation_state

    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        key = next(
            c["key"]
            for c in recommendation_choices(s)
            if c["status"] == "proposed" and recommendation_state(s, c["key"])["evidence_count"] == 0
        )
    engine.dispose()
    colleague_changes(key, status="accepted")
    colleague_changes(key, status="in_progress")
    at = update_page(key)
    at.selectbox(key="upd_status").set_value("implemented")
    at.text_area(key="upd_reason").input("done")
    at.button(key="upd_save").click().run()
    assert not at.exception
    assert any("needs at least one evidence item" in e.value for e in at.error)
    assert rec(key).status == "in_progress"


def test_a_status_change_with_a_reason_is_saved_once_and_the_form_resets(use_store):
    use_store("seeded")
    at = update_page()
    before = rec()
    at.selectbox(key="upd_status").set_value("on_hold")
    at.text_area(key="upd_reason").input("budget freeze")
    at.button(key="upd_save").click().run()
    assert not at.exception
    assert any("Saved" in s.value for s in at.success)
    after = rec()
    assert after.status == "on_hold" and after.version == before.version + 1
    assert at.text_area(key="upd_reason").value == ""
    assert at.selectbox(key="upd_status").options[1:] == ["In progress", "Not implemented"]


def test_a_citation_is_attached_as_evidence_with_the_change(use_store):
    use_store("seeded")
    from models.reads.records import recommendation_state

    at = update_page()
    at.text_input(key="upd_owner").input("U.S. Southern Command")
    at.text_area(key="upd_reason").input("new owner per tasking")
    at.text_input(key="upd_ev_title").input("Tasking memo summary")
    at.selectbox(key="upd_cite_source").set_value("2009-deare-ndu-strategic-forum-243")
    at.text_input(key="upd_cite_section").input("Recommendations")
    at.number_input(key="upd_cite_start").set_value(10)
    at.number_input(key="upd_cite_end").set_value(12)
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        n_before = recommendation_state(s, KEY)["evidence_count"]
    at.button(key="upd_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    with read_session(engine) as s:
        state = recommendation_state(s, KEY)
    assert state["owner"] == "U.S. Southern Command" and state["evidence_count"] == n_before + 1


def test_a_bad_citation_range_is_refused(use_store):
    use_store("seeded")
    at = update_page()
    at.text_area(key="upd_reason").input("x")
    at.text_input(key="upd_ev_title").input("t")
    at.selectbox(key="upd_cite_source").set_value("2009-deare-ndu-strategic-forum-243")
    at.text_input(key="upd_cite_section").input("s")
    at.number_input(key="upd_cite_start").set_value(20)
    at.number_input(key="upd_cite_end").set_value(10)
    at.button(key="upd_save").click().run()
    assert any("line range" in e.value for e in at.error)


def test_a_colleagues_concurrent_change_shows_a_conflict_and_keeps_the_input(use_store):
    use_store("seeded")
    at = update_page()
    loaded_version = rec().version
    colleague_changes(progress=55)  # saved while our officer was typing
    at.selectbox(key="upd_status").set_value("on_hold")
    at.text_input(key="upd_owner").input("SEDENA and SEMAR")
    at.text_area(key="upd_reason").input("my careful reason")
    at.button(key="upd_save").click().run()
    assert not at.exception
    err = " ".join(e.value for e in at.error)
    assert "adm changed this recommendation" in err and f"you loaded version {loaded_version}" in err
    conflict = at.get("dataframe")[0].value
    assert list(conflict["field"]) == ["progress"] and list(conflict["after their change"]) == ["55"]
    # the officer's input is still on screen
    assert at.text_area(key="upd_reason").value == "my careful reason"
    assert at.text_input(key="upd_owner").value == "SEDENA and SEMAR"
    assert at.selectbox(key="upd_status").value == "on_hold"
    assert rec().status == "in_progress" and rec().owner != "SEDENA and SEMAR"
    # reload their version, keep the input, save again
    at.button(key="upd_reload").click().run()
    assert at.text_area(key="upd_reason").value == "my careful reason"
    at.button(key="upd_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = rec()
    assert after.status == "on_hold" and after.owner == "SEDENA and SEMAR" and after.progress == 55


def test_an_editor_scoped_to_an_office_sees_only_its_records(use_store):
    use_store("seeded")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = "scoped"
    at.run().switch_page("app_pages/update.py").run()
    assert not at.exception
    assert any("owned by your office" in i.value for i in at.info)
    assert not at.get("selectbox") or "upd_key" not in [s.key for s in at.get("selectbox")]


def test_nothing_to_change_is_refused(use_store):
    use_store("seeded")
    at = update_page()
    at.text_area(key="upd_reason").input("no-op")
    at.button(key="upd_save").click().run()
    assert any("Nothing to save" in e.value for e in at.error)


@pytest.mark.parametrize("progress", [0, 100])
def test_progress_bounds_are_accepted(use_store, progress):
    use_store("seeded")
    at = update_page()
    current = rec().progress
    at.slider(key="upd_progress").set_value(progress)
    at.text_area(key="upd_reason").input("progress report")
    at.button(key="upd_save").click().run()
    if progress == current:
        assert any("Nothing to save" in e.value for e in at.error)
    else:
        assert not at.error and rec().progress == progress
