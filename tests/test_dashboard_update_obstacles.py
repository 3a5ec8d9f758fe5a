"""An officer maintains a recommendation's obstacles on the Update page: links one from the register,
records a new one with its citation, and unlinks one, each with a reason and audited."""

from __future__ import annotations

from models.reads.plans import obstacles_of
from models.store.db import make_engine, read_session
from models.store.settings import get_settings
from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_update import KEY, rec, update_page


def linked(key: str = KEY) -> dict[str, dict]:
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        out = {o["key"]: o for o in obstacles_of(s, key)}
    engine.dispose()
    return out


def test_an_editor_links_records_and_unlinks_obstacles_on_the_update_page(use_store):
    use_store("seeded")
    before = linked()
    at = update_page()
    at.text_input(key="obs_q").input("budget").run()
    choice = at.selectbox(key="obs_pick")
    assert choice.options, "the search found no obstacle"
    pick = choice.value
    at.button(key="obs_link").click().run()  # no reason: refused under the button
    assert any("reason is required" in e.value for e in at.error)
    assert pick not in linked()
    at.text_input(key="obs_link_reason").input("The ministry letter names the budget freeze")
    at.button(key="obs_link").click().run()
    assert not at.exception, [e.value for e in at.exception]
    now = linked()
    assert pick in now and now[pick]["by"] == "ed"
    assert now[pick]["reason"] == "The ministry letter names the budget freeze"

    at = update_page()
    at.text_input(key="obs_new_title").input("Rotation of the PME liaison officers")
    at.selectbox(key="obs_new_category").set_value("organizational")
    at.selectbox(key="obs_new_side").set_value("us")
    at.text_area(key="obs_new_summary").input("Liaison posts turn over before programmes settle.")
    at.selectbox(key="obs_new_source").set_value("2014-martinez-nps-thesis-building-trust")
    at.text_input(key="obs_new_section").input("Chapter IV")
    at.number_input(key="obs_new_start").set_value(840)
    at.number_input(key="obs_new_end").set_value(846)
    at.text_input(key="obs_new_reason").input("Seen in the exchange reviews")
    at.button(key="obs_new").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "obs-rotation-of-the-pme-liaison-officers" in linked()

    at = update_page()
    at.selectbox(key="obs_which").set_value(pick)
    at.radio(key="obs_how").set_value("unlink")
    at.text_input(key="obs_change_reason").input("Budget approved in the new year")
    at.button(key="obs_change").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert pick not in linked() and set(before) <= set(linked())
    assert rec().version > 0
