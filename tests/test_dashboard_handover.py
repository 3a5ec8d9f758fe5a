"""The Handover page (issue 13, part 4), through AppTest: an admin picks an office and a successor,
sees how many open records will move, saves, and downloads the report; a refusal is shown under
the button and nothing moves."""

from __future__ import annotations

from sqlmodel import select

from models.store.db import read_session
from models.store.tables import AuditEvent, Recommendation
from models.trail.verify import verify_store
from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_workflow import engine, page, texts

OFFICE = "U.S. Southern Command"  # owns several open seeded recommendations


def open_records(owner: str) -> list[str]:
    e = engine()
    with read_session(e) as s:
        keys = s.exec(
            select(Recommendation.key)
            .where(Recommendation.owner == owner)
            .where(Recommendation.status.not_in(("implemented", "not_implemented")))
            .order_by(Recommendation.key)
        ).all()
    e.dispose()
    return list(keys)


def test_an_admin_previews_saves_and_downloads_the_report(use_store):
    use_store("seeded")
    expected = open_records(OFFICE)
    assert len(expected) > 1
    at = page("handover")
    at.selectbox(key="ho_office").select(OFFICE).run()
    at.selectbox(key="ho_to").select("ed").run()
    preview = texts(at)
    assert f"{len(expected)} open recommendations of **{OFFICE}** will move to **ed**." in preview
    at.text_area(key="ho_reason").input("Col Nc rotates out in January").run()
    at.button(key="ho_save").click().run()
    assert not at.exception
    assert f"{len(expected)} open recommendation(s) handed over to ed" in texts(at)
    assert at.text_area(key="ho_reason").value == "" and at.selectbox(key="ho_to").value is None
    e = engine()
    with read_session(e) as s:
        moved = s.exec(
            select(AuditEvent.record_key)
            .where(AuditEvent.action == "handover")
            .order_by(AuditEvent.record_key)
        ).all()
        assert verify_store(s).ok
    e.dispose()
    assert list(moved) == expected
    (download,) = [el for el in at.get("download_button")]
    assert "handover report" in download.proto.label.lower()


def test_a_refusal_is_shown_under_the_button_and_nothing_moves(use_store):
    use_store("seeded")
    at = page("handover")
    at.selectbox(key="ho_office").select(OFFICE).run()
    at.selectbox(key="ho_to").select("ed").run()
    at.text_area(key="ho_reason").input("first batch").run()
    at.button(key="ho_save").click().run()
    assert not at.error
    seq = _handover_events()
    at = page("handover")  # a second admin's tab, opened before the first batch landed
    at.selectbox(key="ho_office").select(OFFICE).run()
    at.selectbox(key="ho_to").select("ed").run()
    assert f"No open recommendation of **{OFFICE}** is left to move to **ed**." in texts(at)
    at.text_area(key="ho_reason").input("again").run()
    at.button(key="ho_save").click().run()
    (error,) = [e.value for e in at.error]
    assert error.startswith("Not handed over:")
    assert "owns no open recommendation that is not already handed to ed" in error
    assert _handover_events() == seq, "nothing moved"


def _handover_events() -> int:
    e = engine()
    with read_session(e) as s:
        n = len(s.exec(select(AuditEvent.seq).where(AuditEvent.action == "handover")).all())
    e.dispose()
    return n


def test_a_missing_reason_is_named_under_the_reason_box(use_store):
    use_store("seeded")
    at = page("handover")
    at.selectbox(key="ho_office").select(OFFICE).run()
    at.selectbox(key="ho_to").select("ed").run()
    at.button(key="ho_save").click().run()
    (error,) = [e.value for e in at.error]
    assert "Say why the records move" in error
    e = engine()
    with read_session(e) as s:
        assert not s.exec(select(AuditEvent.seq).where(AuditEvent.action == "handover")).first()
    e.dispose()


def test_the_successor_finds_the_records_in_my_items_and_the_detail_names_them(use_store):
    use_store("seeded")
    at = page("handover")
    at.selectbox(key="ho_office").select(OFFICE).run()
    at.selectbox(key="ho_to").select("ed").run()
    at.text_area(key="ho_reason").input("Col Sc rotates out").run()
    at.button(key="ho_save").click().run()
    keys = open_records(OFFICE)
    mine = page("my_items", "ed")
    assert any(s.value == f"Handed to me ({len(keys)})" for s in mine.subheader)
    table = next(d.value for d in mine.dataframe if set(keys) <= set(d.value["key"]))
    assert len(table) == len(keys)
    detail = page("recommendations", "vic", detail_key=keys[0])
    assert "Responsible: **ed**" in [c.value for c in detail.caption]
