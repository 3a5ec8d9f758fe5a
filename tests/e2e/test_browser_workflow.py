"""End to end, in a real browser against `rectrack serve`: roles and offices hold in the pages,
the verified-closure workflow runs between an editor and an auditor (propose, return, propose
again, accept), bulk edits refuse another office's rows, and an auditor's bundle export
verifies offline. Every step is saved as a screenshot (docs/screenshots/workflow-*.png …)."""

from __future__ import annotations

import csv
import io
import re
import time

import pytest

from models.reads.records import recommendation_view
from models.rules.records import get_recommendation
from models.store.db import make_engine, read_session
from models.trail.bundle_verify import verify_bundle
from tests.e2e.conftest import publish_screenshots
from tests.e2e.seeded_store import PASSWORD
from tests.e2e.test_browser_update_flow import choose, pick_record, settle

pytestmark = pytest.mark.browser
KEY = "ssi02-expand-tsc-support"  # seeded in_progress, with evidence
OTHER = "deare09-pme-expansion"  # not owned by NORTHCOM
MINE = "martinez14-support-iaafa"  # owned by NORTHCOM
TIMINGS: dict[str, float] = {}


def new_page(browser, height=900):
    ctx = browser.new_context(viewport={"width": 1280, "height": height}, accept_downloads=True)
    return ctx, ctx.new_page()


def sign_in(page, base, user, path=""):
    page.goto(base + path)
    page.get_by_label("Username", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def go(page, name, heading):
    t = time.perf_counter()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(name, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
    settle(page)
    TIMINGS[name] = round(time.perf_counter() - t, 2)


def shot(page, artifacts, name, full=False):
    """Streamlit scrolls inside its own container, so a "full" shot is taken in a taller window."""
    if not full:
        page.screenshot(path=str(artifacts / name))
        return
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 1700})
    page.wait_for_timeout(600)
    page.screenshot(path=str(artifacts / name))
    page.set_viewport_size(size)
    page.wait_for_timeout(300)


def wait_text(page, text, artifacts, debug, timeout=30_000):
    try:
        page.get_by_text(text).first.wait_for(timeout=timeout)
    except Exception:
        print("ALERTS:", page.locator('[data-testid="stAlert"]').all_inner_texts())
        page.screenshot(path=str(artifacts / f"debug-{debug}.png"), full_page=True)
        raise
    settle(page)


def history(url, key):
    engine = make_engine(url)
    with read_session(engine) as s:
        acts = [h["action"] for h in recommendation_view(s, key)["history"]]
        status = get_recommendation(s, key).status
        progress = get_recommendation(s, key).progress
    engine.dispose()
    return acts, status, progress


# ------------------------------------------------------------------ (a) a viewer cannot reach the update page


def test_a_viewer_does_not_see_the_update_page_and_its_url_refuses(server, browser, artifacts):
    base = server["base"]
    ctx, page = new_page(browser)
    sign_in(page, base, "vic")
    page.get_by_role("heading", name="Overview").wait_for(timeout=30_000)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for hidden in ("Update", "Verify closures", "Bulk edits", "Evidence trail", "Users"):
        assert nav.get_by_text(hidden, exact=True).count() == 0, hidden
    assert nav.get_by_text("My items", exact=True).count() == 1
    ctx.close()

    ctx, page = new_page(browser, 600)
    sign_in(page, base, "vic", "/update")  # typed by hand: the link survives signing in, the page refuses
    wait_text(page, "does not give access to the update page", artifacts, "viewer-refused")
    assert page.get_by_role("heading", name="Update a recommendation").count() == 0
    shot(page, artifacts, "access-1-viewer-refused.png")
    ctx.close()


# ------------------------------------------------------------------ (b) an office editor and another office's record


def test_an_office_editor_cannot_change_another_offices_recommendation(server, browser, artifacts, tmp_path):
    base, url = server["base"], server["url"]
    ctx, page = new_page(browser)
    sign_in(page, base, "nc")
    go(page, "Update", "Update a recommendation")
    box = (
        page.locator('[data-testid="stSelectbox"]')
        .filter(has=page.locator('[data-testid="stWidgetLabel"]', has_text="Recommendation"))
        .first
    )
    box.locator("input").click()
    page.keyboard.type(OTHER, delay=10)
    page.wait_for_timeout(500)
    assert page.get_by_role("option").filter(has_text=OTHER).count() == 0, (
        "another office's record is offered"
    )
    page.keyboard.press("Escape")
    settle(page)
    shot(page, artifacts, "access-2-office-editor-update.png")

    # bulk edits: download every office's rows, change one of ours and one of theirs, upload
    go(page, "Bulk edits", "Bulk edits")
    choose(page, "Owner", "All")
    page.get_by_role("button", name="Prepare the file").click()
    settle(page)
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile("Download recommendations-edit.csv")).click()
    raw = dl.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert {r["key"] for r in rows} >= {OTHER, MINE}
    for r in rows:
        if r["key"] == MINE:
            r["progress"], r["reason"] = "20", "Kick-off with IAAFA held"
        if r["key"] == OTHER:
            r["progress"], r["reason"] = "35", "Trying to change another office's record"
    edited = tmp_path / "edited.csv"
    with edited.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(edited))
    page.get_by_text("edited.csv").first.wait_for(timeout=15_000)
    settle(page)
    page.get_by_role("button", name="Apply edits").click()
    wait_text(page, "Nothing applied from edited.csv", artifacts, "bulk-refused")
    assert page.get_by_text("Refused rows (1)").count() == 1  # the table itself is a canvas
    shot(page, artifacts, "bulk-1-all-or-nothing-refused.png", full=True)
    assert history(url, MINE)[2] != 20 and history(url, OTHER)[2] != 35

    page.get_by_text("Apply the good rows only (refused").click()
    settle(page)
    page.get_by_role("button", name="Apply edits").click()
    wait_text(page, "Applied 1 change(s) from edited.csv", artifacts, "bulk-partial")
    shot(page, artifacts, "bulk-2-good-rows-applied.png", full=True)
    assert history(url, MINE)[2] == 20 and history(url, OTHER)[2] != 35

    go(page, "My items", "My items")
    shot(page, artifacts, "my-items.png")
    ctx.close()


# ------------------------------------------------------------------ (c) verified closure between two people


def propose(page, artifacts, reason, evidence=None, shot_name=None):
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    form = page.locator('[data-testid="stForm"]').filter(has_text="Propose closure").first
    form.scroll_into_view_if_needed()
    form.get_by_text("Implemented", exact=True).click()
    form.get_by_label("Why it can be closed (required)").fill(reason)
    if evidence is not None:
        form.get_by_label("Evidence title").fill("FY24 security cooperation report")
        form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(evidence))
        form.get_by_text(evidence.name).first.wait_for(timeout=15_000)
    settle(page)
    if shot_name:
        form.screenshot(path=str(artifacts / shot_name))
    form.get_by_role("button", name="Propose closure").click()
    wait_text(page, f"Closure of {KEY} as Implemented proposed", artifacts, "propose")


def verifier_decides(page, artifacts, base, button, reason, done, shot_before=None, shot_after=None):
    go(page, "Verify closures", "Verify closures")
    # the innermost block holding both the key and the buttons: the proposal's card
    card = (
        page.locator('[data-testid="stVerticalBlock"]')
        .filter(has_text=KEY)
        .filter(has=page.get_by_role("button", name="Accept", exact=True))
        .last
    )
    card.wait_for(timeout=15_000)
    assert "SHA-256" in card.inner_text()
    card.get_by_label("Your reason (required)").fill(reason)
    settle(page)
    if shot_before:
        page.get_by_role("heading", name="Verify closures").scroll_into_view_if_needed()
        shot(page, artifacts, shot_before, full=True)
    card.get_by_role("button", name=button, exact=True).click()
    wait_text(page, done, artifacts, f"verify-{button}")
    if shot_after:
        page.get_by_role("heading", name="Verify closures").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        shot(page, artifacts, shot_after)


def test_the_closure_workflow_propose_return_propose_accept(server, browser, artifacts, tmp_path):
    base, url = server["base"], server["url"]
    evidence = tmp_path / "fy24-report.txt"
    evidence.write_text("FY24 report: IMET request for Mexico expanded as recommended.\n")

    ctx, page = new_page(browser)
    sign_in(page, base, "ed")
    propose(
        page,
        artifacts,
        "The IMET request was expanded in the FY24 budget",
        evidence,
        "workflow-1-propose.png",
    )
    page.get_by_text("Waiting for verification").first.wait_for()
    page.get_by_role("heading", name="Update a recommendation").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, artifacts, "workflow-2-waiting.png")
    ctx.close()
    assert history(url, KEY)[0][-1] == "closure_proposed"

    ctx, page = new_page(browser)
    sign_in(page, base, "aud")
    verifier_decides(
        page,
        artifacts,
        base,
        "Return",
        "The report covers the request, not the appropriation",
        f"Returned to ed: {KEY}",
        "workflow-3-verify-queue.png",
        "workflow-4-returned.png",
    )
    ctx.close()
    acts, status, _ = history(url, KEY)
    assert acts[-1] == "closure_returned" and status == "in_progress"

    ctx, page = new_page(browser)
    sign_in(page, base, "ed")
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    page.get_by_text("Closure returned").first.wait_for()
    page.get_by_role("heading", name="Update a recommendation").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, artifacts, "workflow-5-returned-seen-by-editor.png")
    propose(page, artifacts, "The FY24 appropriation matched the request (report p. 4)")
    ctx.close()

    ctx, page = new_page(browser)
    sign_in(page, base, "aud")
    verifier_decides(
        page,
        artifacts,
        base,
        "Accept",
        "Checked the appropriation table on p. 4",
        f"Accepted: {KEY} is now Implemented",
        None,
        "workflow-6-accepted.png",
    )
    go(page, "Recommendations", "Recommendations")
    pick_record(page, "Detail of", KEY)
    page.get_by_role("tab", name=re.compile(r"History")).click()
    page.get_by_text("closure_accepted by aud").first.wait_for(timeout=15_000)
    settle(page)
    page.get_by_text("closure_accepted by aud").first.scroll_into_view_if_needed()
    shot(page, artifacts, "workflow-7-history.png")
    ctx.close()
    acts, status, _ = history(url, KEY)
    assert status == "implemented"
    assert acts.index("closure_proposed") < acts.index("closure_returned") < acts.index("closure_accepted")
    assert acts.count("closure_proposed") == 2


# ------------------------------------------------------------------ (d) an auditor's bundle verifies offline


def test_an_auditor_exports_a_bundle_that_verifies(server, browser, artifacts, tmp_path):
    base = server["base"]
    ctx, page = new_page(browser, 1000)
    sign_in(page, base, "aud")
    go(page, "Evidence trail", "Evidence trail")
    page.get_by_text("Hash chain verified").first.wait_for()
    form = page.locator('[data-testid="stForm"]').filter(has_text="Export the trail").first
    if form.count() == 0:
        form = page.locator('[data-testid="stForm"]').first
    form.scroll_into_view_if_needed()
    form.get_by_role("button", name="Run export").click()
    t = time.perf_counter()
    wait_text(page, re.compile(r"Exported [\d,]+ event\(s\) as bundle"), artifacts, "export")
    TIMINGS["Bundle export (whole trail)"] = round(time.perf_counter() - t, 2)
    with page.expect_download() as dl:
        page.get_by_role("button", name=re.compile(r"Download rectrack-trail-.*\.zip")).click()
    bundle = tmp_path / dl.value.suggested_filename
    dl.value.save_as(bundle)
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert report.events_included > 100
    page.get_by_role("button", name=re.compile(r"Download rectrack-trail")).scroll_into_view_if_needed()
    shot(page, artifacts, "export-1-bundle.png")

    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(bundle))
    page.get_by_text(bundle.name).first.wait_for(timeout=15_000)
    settle(page)
    page.get_by_role("button", name="Verify bundle").click()
    wait_text(page, f"{bundle.name} verifies", artifacts, "verify-bundle")
    shot(page, artifacts, "export-2-bundle-verified.png")
    ctx.close()

    ctx, page = new_page(browser)
    sign_in(page, base, "adm")
    go(page, "Users", "Users")
    shot(page, artifacts, "users.png")
    ctx.close()
    publish_screenshots(artifacts)
    with (artifacts / "timings.txt").open("a") as fh:
        fh.write("".join(f"{k}: {v}s\n" for k, v in TIMINGS.items()))
