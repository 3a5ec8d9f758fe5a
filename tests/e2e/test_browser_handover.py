"""End to end, in Chromium against `rectrack serve`: an admin hands an office's open records to a
successor on the Handover page, sees the count before saving, saves, and downloads the report that
lists every record moved; the successor's My items lists them."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select

from models.store.db import make_engine, read_session
from models.store.tables import Recommendation
from tests.e2e.test_browser_session import session_cookie
from tests.e2e.test_browser_update_flow import choose, settle, sign_in

OFFICE = "U.S. Southern Command"
pytestmark = pytest.mark.browser


def open_keys(url: str, owner: str) -> list[str]:
    engine = make_engine(url)
    with read_session(engine) as s:
        keys = s.exec(
            select(Recommendation.key)
            .where(Recommendation.owner == owner)
            .where(col(Recommendation.status).not_in(("implemented", "not_implemented")))
            .order_by(Recommendation.key)
        ).all()
        responsible = {
            r.responsible for r in s.exec(select(Recommendation).where(Recommendation.owner == owner))
        }
    engine.dispose()
    return list(keys), responsible


def test_an_admin_hands_an_office_to_a_successor_and_downloads_the_report(
    server, browser, artifacts, tmp_path
):
    base = server["base"]
    keys, before = open_keys(server["url"], OFFICE)
    assert keys and before == {None}
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    sign_in(page, base, "adm")
    assert session_cookie(ctx) is not None  # set before the page is opened by its address
    page.goto(f"{base}/handover")  # the sidebar folds its last pages under "View more"; the session stays
    page.get_by_role("heading", name="Handover").first.wait_for(timeout=30_000)
    settle(page)
    choose(page, "Office", OFFICE)
    choose(page, "Successor", "ed")
    main = page.locator('[data-testid="stMain"]')
    assert f"{len(keys)} open recommendations of {OFFICE} will move to ed." in main.inner_text()
    page.get_by_label("Reason for the handover").fill("Col Sc rotates out in January")
    page.get_by_label("Reason for the handover").press("Control+Enter")
    settle(page)
    page.get_by_role("button", name="Hand over").click()
    page.get_by_text(re.compile(r"handed over to ed")).wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(artifacts / "handover.png"))
    with page.expect_download() as got:
        page.get_by_role("button", name="Download the handover report (HTML)").click()
    report = tmp_path / "report.html"
    got.value.save_as(report)
    assert re.findall(r'<section id="([^"]+)">', report.read_text()) == keys
    assert open_keys(server["url"], OFFICE)[1] <= {"ed", None}

    ed = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    sign_in(ed, base, "ed")
    ed.locator('[data-testid="stSidebarNav"]').get_by_text("My items", exact=True).click()
    ed.get_by_role("heading", name=f"Handed to me ({len(keys)})").wait_for(timeout=30_000)
