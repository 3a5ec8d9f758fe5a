"""End to end, in Chromium against `rectrack serve`: a viewer watches a recommendation from its
detail; an editor then changes it; the viewer's sidebar counts one unread notification, the
Notifications page says what changed and who did it, opens the record, and marks it read."""

from __future__ import annotations

import re

import pytest

from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import make_engine, write_session
from models.store.schemas import RecommendationUpdate
from tests.e2e.test_browser_update_flow import settle, sign_in

KEY = "deare09-unified-defense-ministry"
pytestmark = pytest.mark.browser


def editor_changes_progress(url: str) -> None:
    engine = make_engine(url)
    with write_session(engine) as s:
        rec = get_recommendation(s, KEY)
        change = RecommendationUpdate(
            expected_version=rec.version, reason="ministry drafted a plan", progress=35
        )
        update_recommendation(s, key=KEY, change=change, actor=get_user(s, "ed"))
    engine.dispose()


def test_a_viewer_watches_a_record_and_sees_the_editors_change(server, browser, artifacts):
    base = server["base"]
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(page, base, "vic")
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "0 unread notifications" in sidebar.inner_text()
    page.goto(f"{base}/recommendations?rec={KEY}")
    watch = page.get_by_role("button", name="Watch this recommendation")
    watch.wait_for(timeout=30_000)
    watch.scroll_into_view_if_needed()
    watch.click()
    settle(page)
    page.get_by_role("button", name="Stop watching this recommendation").wait_for(timeout=30_000)

    editor_changes_progress(server["url"])

    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_text(re.compile(r"^Notifications")).click()
    page.get_by_role("heading", name="Notifications").first.wait_for(timeout=30_000)
    settle(page)
    assert "1 unread notification" in sidebar.inner_text()
    assert "Notifications (1 unread)" in nav.inner_text()
    main = page.locator('[data-testid="stMain"]')
    body = main.inner_text()
    assert f"{KEY} · progress: 0 → 35 · unread" in body
    assert "by ed on " in body and "ministry drafted a plan" in body
    page.screenshot(path=str(artifacts / "notifications.png"))

    main.get_by_role("button", name="Open record").first.click()
    page.get_by_role("button", name="Stop watching this recommendation").wait_for(timeout=30_000)
    settle(page)
    assert page.url.endswith(f"recommendations?rec={KEY}")
    assert "0 unread notifications" in sidebar.inner_text()  # opening it marked it read
