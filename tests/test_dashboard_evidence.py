"""Evidence on the update page: a citation can support several recommendations at once, and a
correction supersedes an item without editing it (both stay in the trail)."""

from __future__ import annotations

from sqlmodel import select

from models.rules.records import evidence_count, get_recommendation
from models.store.db import make_engine, read_session
from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceItem, EvidenceLink
from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_update import KEY, update_page

OTHER = "deare09-bwg-revival"


def _items(key: str):
    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        rec = get_recommendation(s, key)
        items = s.exec(
            select(EvidenceItem)
            .join(EvidenceLink, EvidenceLink.evidence_id == EvidenceItem.id)
            .where(EvidenceLink.recommendation_id == rec.id)
            .order_by(EvidenceItem.id)
        ).all()
        count = evidence_count(s, rec.id)
        actions = [
            e.action
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.record_type == "evidence").order_by(AuditEvent.seq)
            ).all()
        ]
    engine.dispose()
    return items, count, actions


def cite(at, prefix: str, title: str):
    at.text_input(key=f"{prefix}_ev_title").input(title)
    at.selectbox(key=f"{prefix}_cite_source").set_value("2014-martinez-nps-thesis-building-trust")
    at.text_input(key=f"{prefix}_cite_section").input("Chapter IV")
    at.number_input(key=f"{prefix}_cite_start").set_value(840)
    at.number_input(key=f"{prefix}_cite_end").set_value(856)


def test_one_citation_attached_from_the_page_supports_two_recommendations(use_store):
    use_store("seeded")
    at = update_page()
    cite(at, "upd", "Table 2, PME students FY08-FY12")
    at.multiselect(key="upd_ev_also").select(OTHER)
    at.text_area(key="upd_reason").input("the table covers both")
    at.button(key="upd_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    for key in (KEY, OTHER):
        items, _, _ = _items(key)
        assert items[-1].title == "Table 2, PME students FY08-FY12"


def test_a_correction_from_the_page_supersedes_the_item_and_both_stay(use_store):
    use_store("seeded")
    at = update_page()
    cite(at, "upd", "Draft table")
    at.text_area(key="upd_reason").input("first attempt")
    at.button(key="upd_save").click().run()
    before, count_before, _ = _items(KEY)
    draft = before[-1]
    at = update_page()
    at.selectbox(key="fix_old").set_value(draft.key)
    at.text_area(key="fix_reason").input("wrong lines cited")
    cite(at, "fix", "Table 2 (corrected lines)")
    at.button(key="fix_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after, count_after, actions = _items(KEY)
    assert [i.key for i in after[:-1]] == [i.key for i in before]
    assert after[-1].supersedes_id == draft.id and after[-1].title == "Table 2 (corrected lines)"
    assert count_after == count_before and actions[-1] == "evidence_supersede"


def test_a_correction_without_a_reason_is_refused(use_store):
    use_store("seeded")
    at = update_page()
    cite(at, "fix", "Anything")
    at.button(key="fix_save").click().run()
    assert any("reason is required to correct evidence" in e.value for e in at.error)
