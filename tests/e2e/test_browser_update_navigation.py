"""In Chromium against the real server: an officer opens a record on Update, visits the Overview,
comes back and fixes only the owner. The form must come back on the same record with its stored
values, and the save must change the owner alone (it used to reset progress to 0 and the target
date to today, recorded as the officer's change)."""

from __future__ import annotations

import json
import re

import pytest

from models.reads.trail_page import trail_page
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import make_engine, read_session, write_session
from models.store.schemas import RecommendationUpdate
from tests.e2e.test_browser_update_flow import go, pick_record, settle, sign_in

KEY = "deare09-pme-expansion"
pytestmark = pytest.mark.browser


def stored(url: str):
    engine = make_engine(url)
    with read_session(engine) as s:
        r = get_recommendation(s, KEY)
        last = trail_page(s, record=KEY, limit=1)["rows"][0]
    engine.dispose()
    return r, last


def progress_shown(page) -> str:
    return page.locator('[data-testid="stSlider"] input[type=range]').first.input_value()


def test_leaving_update_and_coming_back_keeps_the_record_and_its_values(server, browser, artifacts):
    url = server["url"]
    engine = make_engine(url)
    with write_session(engine) as s:
        r = get_recommendation(s, KEY)
        update_recommendation(
            s,
            key=KEY,
            actor=get_user(s, "adm"),
            change=RecommendationUpdate(expected_version=r.version, reason="progress reported", progress=40),
        )
    engine.dispose()
    before, _ = stored(url)

    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, server["base"], "ed")
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    assert progress_shown(page) == "40"

    go(page, "Overview", "Overview")
    go(page, "Update", "Update a recommendation")
    picker = page.locator('[data-testid="stSelectbox"]').first
    shown = picker.locator("input").input_value() + picker.inner_text()
    assert KEY in shown, shown
    assert progress_shown(page) == "40"
    owner = page.get_by_label("Owner (office)")
    assert owner.input_value() == before.owner
    owner.fill("SEDENA and SEMAR")
    page.get_by_label("Reason (required)").fill("The PME office now runs the exchange")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(re.compile(f"Saved {KEY}")).wait_for(timeout=30_000)
    settle(page)
    page.screenshot(path=str(artifacts / "debug-update-after-navigation.png"))
    ctx.close()

    after, event = stored(url)
    assert after.owner == "SEDENA and SEMAR"
    assert (after.progress, after.target_date, after.status) == (40, before.target_date, before.status)
    old, new = json.loads(event["before"]), json.loads(event["after"])
    assert {f for f in new if f != "version" and new[f] != old.get(f)} == {"owner"}, (old, new)
