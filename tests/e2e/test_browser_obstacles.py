"""End to end, in a real browser against `rectrack serve`: an editor links an obstacle from the
register to a recommendation and records a new one with its source citation; a viewer then finds
both in the recommendation's detail and on the Overview (the records behind the blocking-obstacles
chart), and "as of" yesterday finds neither link; the audit trail still verifies."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from models.reads.plans import obstacles_of
from models.store.db import make_engine, read_session
from models.store.settings import get_settings
from tests.e2e.test_browser_update_flow import choose, go, pick_record, settle, sign_in
from tests.helpers import cli

KEY = "ssi02-expand-tsc-support"  # seeded open (in progress) with no obstacle linked
EXISTING = "martinez14-narrow-program-authorities"  # blocks one other open recommendation when seeded
EXISTING_TITLE = "Narrow purposes of U.S. assistance accounts"
NEW_TITLE = "Short tours of liaison officers"
NEW_KEY = "obs-short-tours-of-liaison-officers"
pytestmark = pytest.mark.browser


def exactly(label: str) -> re.Pattern:
    """A widget label matched whole ("Side" must not pick a label that merely contains it)."""
    return re.compile(rf"^{re.escape(label)}$")


def open_obstacles(page, linked: int):
    """The Update page's Obstacles section is folded; its label carries the count, so it is a new
    element (folded again) after each save. Returns the section, unfolded."""
    section = page.locator('[data-testid="stExpander"]').filter(
        has=page.locator("summary", has_text=f"Obstacles ({linked} linked)")
    )
    section.locator("summary").first.click()
    section.get_by_label("Find an obstacle (key or title words)").wait_for(timeout=15_000)
    return section


def flash(page, text: str, artifacts, name: str) -> None:
    try:
        page.get_by_text(text).first.wait_for(timeout=30_000)
    except Exception:
        page.screenshot(path=str(artifacts / f"debug-{name}.png"), full_page=True)
        print("ALERTS:", page.locator('[data-testid="stAlert"]').all_inner_texts())
        raise
    settle(page)


def drill_down(page):
    """The records behind the blocking-obstacles chart, unfolded."""
    figure = page.locator('[data-testid="stExpander"]').filter(
        has_text="Records behind “Obstacles blocking open recommendations”"
    )
    figure.wait_for(timeout=15_000)
    for _ in range(3):
        if figure.locator("details").first.get_attribute("open") is not None:
            break
        figure.locator("summary").first.click()
        page.wait_for_timeout(500)
    figure.get_by_text("Segment", exact=True).wait_for(timeout=15_000)
    return figure


def options(page, box, typed: str = "") -> list[str]:
    """What a selectbox offers once ``typed`` is typed into it (a click during a rerun can miss)."""
    box.scroll_into_view_if_needed()
    for _ in range(3):
        box.locator("input").click()
        page.keyboard.type(typed, delay=20)
        try:
            page.get_by_role("listbox").wait_for(timeout=5_000)
            break
        except Exception:
            page.keyboard.press("Escape")
            settle(page)
    else:
        raise AssertionError(f"the picker never opened: {box.inner_text()!r}")
    page.wait_for_timeout(300)
    return page.get_by_role("option").all_inner_texts()


def segments(page, typed: str) -> list[str]:
    """The options of the blocking-obstacles drill-down matching ``typed``, as a viewer sees them
    when typing into its segment picker."""
    found = options(page, drill_down(page).locator('[data-testid="stSelectbox"]').first, typed)
    page.keyboard.press("Escape")
    return found


def pick_segment(page, typed: str) -> list[str]:
    """Choose the segment and return the records the drill-down lists for it (the table is drawn
    on a canvas; its "Open a record" picker offers the same rows as text)."""
    options(page, drill_down(page).locator('[data-testid="stSelectbox"]').first, typed)
    page.get_by_role("option").filter(has_text=typed).first.click()
    settle(page)
    figure = drill_down(page)
    shown = figure.get_by_text(re.compile(r"^\d+ record\(s\)$"))
    shown.wait_for(timeout=15_000)
    box = figure.locator('[data-testid="stSelectbox"]').first
    assert typed in box.locator("input").input_value() + box.inner_text()
    rows = options(page, figure.locator('[data-testid="stSelectbox"]').nth(1))
    page.keyboard.press("Escape")
    assert shown.inner_text() == f"{len(rows)} record(s)", (shown.inner_text(), rows)
    return [r.split(" — ")[0] for r in rows]


def set_as_of(page, day: date) -> None:
    for part, value in (("year", f"{day.year}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}")):
        page.get_by_role("spinbutton", name=f"{part}, As of").click()
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    page.get_by_role("heading", name="Overview").click()
    page.get_by_text(f"as of {day:%d %b %Y}").first.wait_for(timeout=30_000)
    settle(page)


def test_an_editor_links_and_records_obstacles_and_a_viewer_sees_them_now_not_before(
    server, browser, artifacts, monkeypatch
):
    base, url = server["base"], server["url"]

    # --- the editor: link one from the register, then record a new one with its citation
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, base, "ed")
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    sec = open_obstacles(page, 0)
    sec.get_by_label("Find an obstacle (key or title words)").fill("narrow purposes")
    sec.get_by_label("Find an obstacle (key or title words)").press("Enter")
    settle(page)
    choose(page, "Obstacle to link", EXISTING_TITLE)
    link_form = sec.locator('[data-testid="stForm"]').filter(
        has=page.get_by_role("button", name="Link", exact=True)
    )
    link_form.get_by_role("button", name="Link", exact=True).click()  # no reason yet
    refusal = link_form.locator('[data-testid="stAlert"]').filter(has_text="A reason is required")
    refusal.wait_for(timeout=15_000)
    expect(refusal).to_be_in_viewport()  # under the button the officer just pressed
    link_form.get_by_label("Why link it (required)").fill(
        "The exchange's funding line cannot pay for the liaison posts"
    )
    link_form.get_by_role("button", name="Link", exact=True).click()
    flash(page, f"Obstacle {EXISTING} linked to {KEY}", artifacts, "obstacle-link")

    sec = open_obstacles(page, 1)
    assert f"{EXISTING_TITLE} ({EXISTING})" in sec.inner_text()
    sec.get_by_label("Obstacle title").fill(NEW_TITLE)
    choose(page, exactly("Category"), "Organizational")
    choose(page, exactly("Side"), "United States")
    sec.get_by_label("Obstacle summary (your own words)").fill(
        "Liaison officers rotate out before the exchange programme settles."
    )
    choose(page, exactly("Cited source"), "Martinez 2014")
    sec.get_by_label("Cited section").fill("Chapter IV")
    sec.get_by_label("First line").fill("840")
    sec.get_by_label("Last line").fill("846")
    sec.get_by_label("Why record it (required)").fill("Seen in the exchange reviews")
    page.screenshot(path=str(artifacts / "update-obstacles.png"), full_page=True)
    sec.get_by_role("button", name="Record and link").click()
    flash(page, f"Obstacle {NEW_KEY} recorded and linked to {KEY}", artifacts, "obstacle-new")
    ctx.close()

    engine = make_engine(url)
    with read_session(engine) as s:
        stored = {o["key"]: o for o in obstacles_of(s, KEY)}
    engine.dispose()
    assert set(stored) == {EXISTING, NEW_KEY} and {o["by"] for o in stored.values()} == {"ed"}

    # --- a viewer: both in the detail, both on the Overview today, neither link as of yesterday
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, base, "vic")
    assert f"{NEW_TITLE} (1 open)" in segments(page, NEW_TITLE)
    assert f"{EXISTING_TITLE} (2 open)" in segments(page, EXISTING_TITLE)
    assert pick_segment(page, NEW_TITLE) == [KEY]
    assert KEY in pick_segment(page, EXISTING_TITLE)
    page.screenshot(path=str(artifacts / "overview-obstacles.png"), full_page=True)

    set_as_of(page, datetime.now(UTC).date() - timedelta(days=1))
    assert not [o for o in segments(page, NEW_TITLE) if NEW_TITLE in o]
    assert f"{EXISTING_TITLE} (1 open)" in segments(page, EXISTING_TITLE)
    [other] = pick_segment(page, EXISTING_TITLE)
    assert other != KEY

    go(page, "Recommendations", "Recommendations")
    pick_record(page, "Detail of", KEY)
    page.get_by_role("tab", name="Obstacles (2)").click()
    panel = page.get_by_role("tabpanel").filter(has_text=NEW_TITLE)
    panel.first.wait_for(timeout=15_000)
    text = panel.first.inner_text()
    assert EXISTING_TITLE in text and "Organizational, United States" in text
    assert "Linked by ed" in text and "The exchange's funding line cannot pay for the liaison posts" in text
    page.screenshot(path=str(artifacts / "recommendation-obstacles.png"), full_page=True)
    ctx.close()

    # --- the audit trail of all this verifies
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(server["data_dir"]))
    get_settings.cache_clear()
    verified = cli("verify")
    assert verified.exit_code == 0, verified.output
