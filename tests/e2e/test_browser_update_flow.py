"""End to end, in a real browser against `rectrack serve`: an editor moves a recommendation
with a file as evidence; a viewer then sees the change on the overview and in the history;
"as of" a date before the change shows the old state. Screenshots of every page are saved."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest

from models.reads.figures import summary
from models.store.db import make_engine, read_session
from tests.e2e.conftest import publish_screenshots
from tests.e2e.seeded_store import PASSWORD

KEY = "ssi02-expand-tsc-support"  # seeded in_progress, so "On hold" is an allowed move
pytestmark = pytest.mark.browser
TIMINGS: dict[str, float] = {}


def settle(page, timeout=30_000):
    """Wait until Streamlit has finished the current run."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.match(/Running|Connecting/)",
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def sign_in(page, base, user):
    page.goto(base)
    page.get_by_label("Username", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for(timeout=30_000)
    settle(page)


def go(page, name, heading, shots=None):
    t = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    settle(page)
    TIMINGS[name] = round(time.perf_counter() - t, 2)
    if shots is not None:
        page.screenshot(path=str(shots / f"{name.lower().replace(' ', '-')}.png"))


def pick_record(page, label, key):
    """A record picker (dashboard/picker.py): search for the key, then choose it among the matches."""
    search = page.get_by_label("Find a recommendation (key prefix or title words)").first
    search.scroll_into_view_if_needed()
    search.fill(key)
    search.press("Enter")
    settle(page)
    choose(page, label, key)


def choose(page, label, text):
    """Pick an option in a Streamlit selectbox by typing part of it and pressing Enter."""
    box = (
        page.locator('[data-testid="stSelectbox"]')
        .filter(has=page.locator('[data-testid="stWidgetLabel"]', has_text=label))
        .first
    )
    box.scroll_into_view_if_needed()
    box.locator("input").click()
    page.keyboard.type(text, delay=20)
    page.get_by_role("option").filter(has_text=text).first.click()
    settle(page)
    shown = box.locator("input").input_value() + box.inner_text()
    assert text in shown, f"{label}: {shown!r}"


def on_hold_count(url) -> int:
    engine = make_engine(url)
    with read_session(engine) as s:
        n = summary(s)["by_status"]["on_hold"]
    engine.dispose()
    return n


def test_an_editor_moves_a_recommendation_with_a_file_and_a_viewer_sees_it(
    server, browser, artifacts, tmp_path
):
    base, url = server["base"], server["url"]
    before = on_hold_count(url)
    evidence = tmp_path / "pause-letter.txt"
    evidence.write_text("Letter: the PME exchange is paused until the budget is approved.\n")

    # --- the editor
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, "ed")
    assert page.get_by_text("UNCLASSIFIED // TEST").first.is_visible()
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    choose(page, "New status", "On hold")
    page.get_by_label("Reason (required)").fill("Partner ministry paused the exchange pending budget")
    form = page.locator(".st-key-upd_form")  # the update form (a keyed container, so drafts survive)
    form.get_by_label("Evidence title").fill("Ministry letter pausing the PME exchange")
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(evidence))
    try:
        page.locator("[data-testid=stFileUploader]").get_by_text("letter.txt").first.wait_for(timeout=15_000)
    except Exception:
        print("UPLOADER:", page.locator("[data-testid=stFileUploader]").first.inner_text())
        page.locator("[data-testid=stFileUploader]").first.scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "debug-upload.png"))
        raise
    page.screenshot(path=str(artifacts / "update.png"))
    page.get_by_role("button", name="Save").click()
    try:
        page.get_by_text(re.compile(f"Saved {KEY}")).wait_for(timeout=30_000)
    except Exception:
        print("ALERTS:", page.locator('[data-testid="stAlert"]').all_inner_texts())
        raise
    settle(page)
    ctx.close()
    assert on_hold_count(url) == before + 1
    stored = list((server["data_dir"] / "evidence").rglob("*"))
    assert any(p.is_file() for p in stored), "the uploaded file was not stored"

    # --- a viewer
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    t = time.perf_counter()
    sign_in(page, base, "vic")
    TIMINGS["Overview (after sign-in)"] = round(time.perf_counter() - t, 2)
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert (
        nav.get_by_text("Update", exact=True).count() == 0 and nav.get_by_text("Evidence trail").count() == 0
    )
    body = page.locator("body").inner_text()
    assert re.search(rf"On hold\s+{before + 1}\b", body), "overview does not show the new count"
    page.screenshot(path=str(artifacts / "overview.png"))
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.wait_for_timeout(800)
    page.screenshot(
        path=str(artifacts / "overview-figures.png"), clip={"x": 300, "y": 700, "width": 980, "height": 1300}
    )
    page.set_viewport_size({"width": 1280, "height": 900})

    # "as of" a day before the change: the old state
    then = date.today() - timedelta(days=1)
    for part, value in (("year", f"{then.year}"), ("month", f"{then.month:02d}"), ("day", f"{then.day:02d}")):
        page.get_by_role("spinbutton", name=f"{part}, As of").click()
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    page.get_by_role("heading", name="Overview").click()
    try:
        page.get_by_text(f"as of {then:%d %b %Y}").first.wait_for(timeout=30_000)
    except Exception:
        page.screenshot(path=str(artifacts / "debug-as-of.png"))
        raise
    settle(page)
    body = page.locator("body").inner_text()
    assert re.search(rf"On hold\s+{before}\b", body), "as-of view does not show the old count"
    page.screenshot(path=str(artifacts / "overview-as-of.png"))

    # the recommendation's history
    go(page, "Recommendations", "Recommendations")
    pick_record(page, "Detail of", KEY)
    page.get_by_role("tab", name=re.compile(r"History")).click()
    try:
        page.get_by_text("Partner ministry paused the exchange pending budget").first.wait_for(timeout=15_000)
    except Exception:
        page.get_by_role("tab", name=re.compile(r"History")).scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / "debug-history.png"))
        raise
    page.get_by_role("tab", name=re.compile(r"Evidence")).click()
    page.get_by_text("Ministry letter pausing the PME exchange").first.wait_for(timeout=15_000)
    assert page.get_by_role("button", name=re.compile("Download pause-letter.txt")).count() == 1
    page.screenshot(path=str(artifacts / "recommendations.png"))
    for name, heading in (("Obstacles", "Obstacles"), ("Indicators", "Indicators"), ("Timeline", "Timeline")):
        go(page, name, heading, artifacts)
    ctx.close()

    # --- an auditor sees the trail, and the chain holds
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, "aud")
    go(page, "Evidence trail", "Evidence trail", artifacts)
    assert page.get_by_text("Hash chain verified").first.is_visible()
    ctx.close()

    # the sign-in page
    ctx = browser.new_context(viewport={"width": 1280, "height": 700})
    page = ctx.new_page()
    page.goto(base)
    page.get_by_label("Username", exact=True).wait_for()
    settle(page)
    page.screenshot(path=str(artifacts / "sign-in.png"))
    ctx.close()
    publish_screenshots(artifacts)
    (artifacts / "timings.txt").write_text("\n".join(f"{k}: {v}s" for k, v in TIMINGS.items()) + "\n")
