"""Leadership in Chromium at 1440 × 900: signed in as a viewer, the four headline items, their
obstacles and the period's changes are on the first screen without a click; an editor's status
change shows in "what changed" and in the status delta, and not with "since" after it; the
Briefing (PDF) button hands over a PDF with the banner on every page and records it; the browser's
print drops the sidebar and widgets and repeats the banner on every page; at 390 px the Overview
still fits the width."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import make_engine, read_session, write_session
from models.store.schemas import RecommendationUpdate
from models.store.tables import AuditEvent, Obstacle, Recommendation, RecommendationObstacle
from tests.e2e.conftest import publish_screenshots
from tests.e2e.test_browser_update_flow import settle, sign_in

pytestmark = pytest.mark.browser
BANNER = "UNCLASSIFIED // TEST"
HEADLINE = [
    "deare09-unified-defense-ministry",
    "deare09-bwg-revival",
    "deare09-pme-expansion",
    "deare09-dto-issue-team",
]
MOVED = "ssi02-expand-tsc-support"  # a seeded in_progress item, not on the priority list
TIMINGS: dict[str, float] = {}


def headline_obstacles(url) -> dict[str, list[str]]:
    engine = make_engine(url)
    with read_session(engine) as s:
        out = {
            k: list(
                s.exec(
                    select(Obstacle.title)
                    .join(RecommendationObstacle)
                    .join(Recommendation)
                    .where(Recommendation.key == k)
                ).all()
            )
            for k in HEADLINE
        }
    engine.dispose()
    return out


def set_date(page, label: str, day: date) -> None:
    for part, value in (("year", f"{day.year}"), ("month", f"{day.month:02d}"), ("day", f"{day.day:02d}")):
        page.get_by_role("spinbutton", name=f"{part}, {label}").click()
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    page.get_by_role("heading", name="Overview").click()
    settle(page)


def pdf_pages(path) -> list[str]:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is missing: apt-get install -y poppler-utils")
    out = subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")[:-1]


def test_a_viewer_sees_the_headline_items_their_obstacles_and_the_changes_on_one_screen(
    server, browser, artifacts
):
    base, url = server["base"], server["url"]
    obstacles = headline_obstacles(url)
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    page.goto(base)
    page.get_by_label("Username", exact=True).fill("vic")
    from tests.e2e.seeded_store import PASSWORD

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    t = time.perf_counter()
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="headline-card"]').nth(3).wait_for(timeout=60_000)
    page.locator('[data-testid="changes-counts"]').wait_for(timeout=60_000)
    TIMINGS["sign-in to the answer (s)"] = round(time.perf_counter() - t, 2)
    settle(page)
    cards = page.locator('[data-testid="headline-card"]')
    assert sorted(cards.nth(i).get_attribute("data-key") for i in range(cards.count())) == sorted(HEADLINE)
    for i in range(4):
        card = cards.nth(i)
        box = card.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 900, (
            f"card {i} is not on the first screen: {box}"
        )
        key = card.get_attribute("data-key")
        blocked = card.locator('[data-testid="headline-obstacles"]')
        assert blocked.is_visible()
        for title in obstacles[key]:
            assert title in blocked.inner_text(), (key, title)
        text = card.inner_text()
        assert "Owner" in text and "days in status" in text and "Last change" in text and "To close" in text
    changes = page.locator('[data-testid="changes-counts"]').bounding_box()
    assert changes["y"] + changes["height"] <= 900, f"the changes are below the first screen: {changes}"
    assert page.get_by_text(BANNER).first.is_visible()
    page.screenshot(path=str(artifacts / "overview-leadership.png"))
    ctx.close()


def test_an_editors_status_change_shows_in_what_changed_and_the_delta_and_not_after_since(
    server, browser, artifacts
):
    base, url = server["base"], server["url"]
    ten_days_ago = datetime.now(UTC) - timedelta(days=10)
    engine = make_engine(url)
    with write_session(engine) as s:
        rec = get_recommendation(s, MOVED)
        update_recommendation(
            s,
            key=MOVED,
            actor=get_user(s, "ed"),
            effective_at=ten_days_ago,
            change=RecommendationUpdate(
                expected_version=rec.version,
                status="on_hold",
                reason="Funding paused by the partner ministry",
            ),
        )
    engine.dispose()
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, "vic")
    set_date(page, "Since", (ten_days_ago - timedelta(days=2)).date())
    listed = page.locator('[data-testid="changes-list"]')
    listed.wait_for(timeout=30_000)
    assert re.search(rf"status\s*moves?:?\s*{MOVED}\s+In progress → On hold", listed.inner_text()), (
        listed.inner_text()
    )
    chips = page.locator('[data-testid="status-chips"]').inner_text()
    assert re.search(r"On hold\s+\d+\s+\(\+1\)", chips), chips
    assert re.search(r"Status moves\s+1\b", page.locator('[data-testid="changes-counts"]').inner_text())
    page.screenshot(path=str(artifacts / "overview-changes.png"))

    set_date(page, "Since", (ten_days_ago + timedelta(days=3)).date())
    page.get_by_text(re.compile(r"changes since")).first.wait_for()
    counts = page.locator('[data-testid="changes-counts"]').inner_text()
    assert "Status moves" not in counts
    assert MOVED not in page.locator("body").inner_text().split("Recommendations by status")[0]
    chips = page.locator('[data-testid="status-chips"]').inner_text()
    assert not re.search(r"On hold\s+\d+\s+\(", chips), chips
    ctx.close()


def test_the_briefing_button_hands_over_a_marked_pdf_and_records_it(server, browser, artifacts, tmp_path):
    base, url = server["base"], server["url"]
    ctx = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = ctx.new_page()
    sign_in(page, base, "vic")
    t = time.perf_counter()
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name=re.compile("Briefing \\(PDF\\)")).click()
    path = tmp_path / "briefing.pdf"
    info.value.save_as(str(path))
    TIMINGS["briefing from the button (s)"] = round(time.perf_counter() - t, 2)
    assert path.read_bytes()[:5] == b"%PDF-"
    pages = pdf_pages(path)
    assert len(pages) >= 5
    for i, text in enumerate(pages, 1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert lines[0] == BANNER and lines[-1] == BANNER, f"page {i}"
    engine = make_engine(url)
    with read_session(engine) as s:
        e = s.exec(
            select(AuditEvent).where(AuditEvent.record_key == "briefing").order_by(AuditEvent.seq.desc())
        ).first()
    engine.dispose()
    assert e.actor == "vic" and json.loads(e.after)["destination"] == "download from the Overview"
    ctx.close()


def test_printing_the_overview_drops_the_sidebar_and_widgets_and_repeats_the_banner(
    server, browser, artifacts, tmp_path
):
    ctx = browser.new_context(viewport={"width": 1440, "height": 900})
    page = ctx.new_page()
    sign_in(page, server["base"], "vic")
    page.locator('[data-testid="headline-card"]').first.wait_for()
    page.wait_for_timeout(1500)  # the charts draw
    page.emulate_media(media="print")
    out = tmp_path / "printed.pdf"
    page.pdf(path=str(out), format="A4", print_background=True)
    pages = pdf_pages(out)
    assert len(pages) >= 2
    for i, text in enumerate(pages, 1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert lines[0] == BANNER, f"printed page {i} opens with {lines[:1]}"
        assert lines[-1].startswith(BANNER), f"printed page {i} ends with {lines[-1:]}"
        assert f"Page {i} of {len(pages)}" in text
        for widget_text in ("Sign out", "Briefing (PDF)", "My account", "Open a record"):
            assert widget_text not in text, f"printed page {i} shows {widget_text!r}"
    assert "Reestablish the U.S.-Mexico Bilateral Working" in pages[0]
    ctx.close()


def test_at_390_pixels_the_overview_fits_the_width(server, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=1)
    page = ctx.new_page()
    sign_in(page, server["base"], "vic")
    page.locator('[data-testid="headline-card"]').first.wait_for()
    page.wait_for_timeout(1500)
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= 390, f"the page is {width}px wide at 390px"
    for i in range(4):
        box = page.locator('[data-testid="headline-card"]').nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.get_by_text(BANNER).first.is_visible()
    page.screenshot(path=str(artifacts / "overview-390.png"))
    ctx.close()
    publish_screenshots(artifacts)
    (artifacts / "timings-leadership.txt").write_text(
        "\n".join(f"{k}: {v}" for k, v in TIMINGS.items()) + "\n"
    )
