"""The Notifications page and the watch buttons (issue 13 part 3): a viewer watches a record from
its detail, a colleague changes it, the sidebar counts it unread, the page says what changed, who
and when, and marking one or all read counts down; the mail preference is set on the page."""

from __future__ import annotations

from models.reads.notifications import mail_preference, notifications_page, watches_of
from models.store.db import read_session
from tests.helpers import change
from tests.test_dashboard_pages import templates, use_store  # noqa: F401  (fixtures)
from tests.test_dashboard_workflow import engine, page, texts

KEY = "deare09-unified-defense-ministry"


def sidebar_count(at) -> str:
    return next(c.value for c in at.sidebar.caption if "unread notification" in c.value)


def test_watching_a_record_then_seeing_a_colleagues_change_and_marking_it_read(use_store):
    use_store("seeded")
    at = page("recommendations", "vic", detail_request=KEY)
    assert sidebar_count(at) == ":material/notifications: 0 unread notifications"
    at.button(key="watch_rec").click().run()
    assert not at.exception
    assert at.button(key="watch_rec").label == "Stop watching this recommendation"
    with read_session(engine()) as s:
        assert watches_of(s, "vic") == [("recommendation", KEY)]
    for p in (10, 20):
        change(engine(), KEY, actor="ed", progress=p, reason="the office reported")
    at = page("notifications", "vic")
    assert sidebar_count(at) == ":material/notifications: 2 unread notifications"
    shown = texts(at)
    assert f"**{KEY}** · progress: 10 → 20 · **unread**" in shown
    assert "by ed on " in shown and "the office reported" in shown
    with read_session(engine()) as s:
        first = notifications_page(s, "vic")["rows"][0]
    at.button(key=f"ntf_read_{first.id}").click().run()
    assert sidebar_count(at) == ":material/notifications: 1 unread notification"
    at.button(key="ntf_all_read").click().run()
    assert sidebar_count(at) == ":material/notifications: 0 unread notifications"
    assert "Marked 1 notification(s) read." in texts(at)
    at.button(key="ntf_unwatch_recommendation_" + KEY).click().run()
    with read_session(engine()) as s:
        assert watches_of(s, "vic") == []


def test_the_page_sets_how_mail_comes(use_store):
    use_store("seeded")
    at = page("notifications", "vic")
    assert "Nothing here yet" in texts(at)
    at.radio(key="ntf_mode").set_value("digest")
    at.button(key="ntf_prefs_save").click().run()
    assert not at.exception
    assert "Saved how notifications reach you." in texts(at)
    with read_session(engine()) as s:
        assert mail_preference(s, "vic")["mode"] == "digest"


def test_the_actor_sees_nothing_of_their_own_change(use_store):
    use_store("seeded")
    at = page("recommendations", "ed", detail_request=KEY)
    at.button(key="watch_rec").click().run()
    change(engine(), KEY, actor="ed", progress=15)
    at = page("notifications", "ed")
    assert sidebar_count(at) == ":material/notifications: 0 unread notifications"
