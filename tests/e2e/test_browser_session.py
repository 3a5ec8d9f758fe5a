"""In Chromium against the real server: a reload, a new tab and a pasted link keep the officer
signed in; the session cookie is HttpOnly and holds no username; signing out in one tab ends the
session in the others."""

from __future__ import annotations

import pytest

from dashboard.session_cookie import COOKIE
from tests.e2e.test_browser_update_flow import settle, sign_in

pytestmark = pytest.mark.browser


def session_cookie(ctx, timeout_s: float = 15):
    page = ctx.pages[0]
    for _ in range(int(timeout_s * 4)):
        got = [c for c in ctx.cookies() if c["name"] == COOKIE and c["value"]]
        if got:
            return got[0]
        page.wait_for_timeout(250)
    return None


def shows_sign_in(page) -> bool:
    page.get_by_label("Username", exact=True).wait_for(timeout=30_000)
    return True


def test_reload_new_tab_and_pasted_link_stay_signed_in_until_sign_out(server, browser, artifacts):
    base = server["base"]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    first = ctx.new_page()
    sign_in(first, base, "ed")
    cookie = session_cookie(ctx)
    assert cookie is not None, "no session cookie was set after signing in"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "ed" not in cookie["value"].lower().split("_") and len(cookie["value"]) >= 40
    assert COOKIE not in first.evaluate("document.cookie")  # page scripts cannot read it

    first.reload()
    first.get_by_role("heading", name="Overview").wait_for(timeout=30_000)
    settle(first)
    assert first.get_by_label("Username", exact=True).count() == 0

    second = ctx.new_page()  # a new tab with a pasted link to a page
    second.goto(f"{base}/update")
    second.get_by_role("heading", name="Update a recommendation").wait_for(timeout=30_000)
    settle(second)
    second.screenshot(path=str(artifacts / "debug-session-new-tab.png"))

    second.get_by_role("button", name="Sign out").click()
    assert shows_sign_in(second)
    settle(second)
    # the first tab, still open on its own connection, is signed out at its next step
    first.locator('[data-testid="stSidebarNav"]').get_by_text("Recommendations", exact=True).click()
    assert shows_sign_in(first)
    first.reload()
    assert shows_sign_in(first)
    settle(first)
    assert first.get_by_role("heading", name="Overview").count() == 0
    ctx.close()

    # a browser that never signed in is not signed in by someone else's session
    other = browser.new_context(viewport={"width": 1280, "height": 900})
    page = other.new_page()
    page.goto(f"{base}/update")
    assert shows_sign_in(page)
    other.close()
