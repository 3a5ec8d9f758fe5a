"""A draft kept when the officer leaves the Update page (issue 13, part 5): what was typed and not
saved comes back, only those inputs, and a draft a colleague overtook meets their change instead of
overwriting it."""

from __future__ import annotations

from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_update import KEY, colleague_changes, rec
from tests.test_dashboard_update_navigation import away_and_back, signed_in

OFFICE = "SEDENA and SEMAR"  # in the office register (seeds/offices.yaml)


def _typed(at, reason="The exchange moved to SEDENA"):
    at.session_state["detail_key"] = KEY
    at.switch_page("app_pages/update.py").run()
    at.text_input(key="upd_owner").input(OFFICE).run()
    at.text_area(key="upd_reason").input(reason).run()
    return at


def test_what_was_typed_comes_back_after_a_visit_elsewhere_and_saves_only_that(use_store):
    use_store("seeded")
    before = rec()
    at = away_and_back(_typed(signed_in()))
    assert at.text_input(key="upd_owner").value == OFFICE
    assert at.text_area(key="upd_reason").value == "The exchange moved to SEDENA"
    assert at.slider(key="upd_progress").value == before.progress
    assert any("Your unsaved changes to this record" in i.value for i in at.info)
    assert rec().version == before.version  # nothing was saved by leaving
    at.button(key="upd_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = rec()
    assert (after.owner, after.progress, after.status) == (OFFICE, before.progress, before.status)
    away_and_back(at)  # saved: nothing is put back any more
    assert at.text_input(key="upd_owner").value == OFFICE and at.text_area(key="upd_reason").value == ""
    assert not any("Your unsaved changes" in i.value for i in at.info)


def test_a_draft_a_colleague_overtook_shows_their_change_instead_of_overwriting_it(use_store):
    use_store("seeded")
    at = _typed(signed_in())
    at.switch_page("app_pages/overview.py").run()
    colleague_changes(KEY, progress=55)
    at.switch_page("app_pages/update.py").run()
    assert any("saved by someone else since" in i.value for i in at.info)
    assert at.slider(key="upd_progress").value == 55  # a field the officer left shows the store
    at.button(key="upd_save").click().run()
    assert rec().progress == 55 and rec().owner != OFFICE  # not saved over the colleague
    assert at.text_input(key="upd_owner").value == OFFICE  # and the officer's input stays
    assert at.session_state["upd_conflict"]


def test_discarding_the_draft_starts_again_from_the_record(use_store):
    use_store("seeded")
    before = rec()
    at = away_and_back(_typed(signed_in()))
    at.button(key="upd_discard").click().run()
    assert not at.exception
    assert at.text_input(key="upd_owner").value == before.owner and at.text_area(key="upd_reason").value == ""
    away_and_back(at)
    assert at.text_input(key="upd_owner").value == before.owner
