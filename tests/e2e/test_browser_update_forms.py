"""In Chromium against the real server: the Update form says what is wrong where it is wrong (the
missing reason under the reason box, a refused file by name with its size and the limit under Save),
clears the evidence inputs after a save, and refuses the same file twice with a link to the item."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser_update_flow import go, pick_record, settle, sign_in

KEY = "deare09-pme-expansion"
pytestmark = pytest.mark.browser


def alert(page, text):
    box = page.locator('[data-testid="stAlert"]').filter(has_text=text).first
    box.wait_for(timeout=30_000)
    return box


def top(locator) -> float:
    return locator.bounding_box()["y"]


def attach_and_save(page, form, path, title, reason):
    form.get_by_label("Evidence title").fill(title)
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.locator("[data-testid=stFileUploader]").get_by_text(path.name).first.wait_for(timeout=30_000)
    settle(page, timeout=60_000)  # the upload reaches the server, as an officer sees it finish
    page.get_by_label("Reason (required)").fill(reason)
    page.get_by_role("button", name="Save").click()


def test_update_form_errors_sit_next_to_their_cause(server, browser, artifacts, tmp_path):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    sign_in(page, server["base"], "ed")
    go(page, "Update", "Update a recommendation")
    pick_record(page, "Recommendation", KEY)
    form = page.locator(".st-key-upd_form")  # the update form (a keyed container, so drafts survive)
    save = page.get_by_role("button", name="Save")

    # no reason: the error is under the reason box, above Save
    page.get_by_label("Owner (office)").fill("PME office")
    save.click()
    settle(page)
    missing = alert(page, "A reason is required")
    reason_box = page.get_by_label("Reason (required)")
    assert top(reason_box) < top(missing) < top(save), (top(reason_box), top(missing), top(save))
    page.get_by_label("Owner (office)").fill("")
    page.get_by_label("Owner (office)").fill(page.get_by_label("Owner (office)").input_value())

    # a file over the limit: named, with its size and the limit, right under Save
    big = tmp_path / "big-scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))
    attach_and_save(page, form, big, "Scanned annex", "the annex")
    settle(page, timeout=60_000)
    too_big = alert(page, "big-scan.pdf is 21.0 MB, larger than the 20 MB limit")
    assert 0 < top(too_big) - top(save) < 250, (top(save), top(too_big))
    page.screenshot(path=str(artifacts / "debug-update-file-refused.png"))

    # a good file saves, and the evidence inputs start empty again
    page.reload()
    page.get_by_role("heading", name="Update a recommendation").wait_for(timeout=30_000)
    settle(page)
    pick_record(page, "Recommendation", KEY)
    letter = tmp_path / "pause-letter.txt"
    letter.write_text("Letter: the PME exchange is paused until the budget is approved.\n")
    attach_and_save(page, form, letter, "Ministry letter", "the ministry paused the exchange")
    page.get_by_text(re.compile(f"Saved {KEY}")).wait_for(timeout=30_000)
    settle(page)
    assert form.get_by_label("Evidence title").input_value() == ""
    assert page.locator("[data-testid=stFileUploader]").first.get_by_text("pause-letter.txt").count() == 0

    # the same file again: refused, with a link to the item that holds it
    attach_and_save(page, form, letter, "Ministry letter again", "attaching it again")
    settle(page)
    again = alert(page, "is already evidence for")
    assert "pause-letter.txt" in again.inner_text()
    link = page.get_by_role("link", name=re.compile(f"Open {KEY} \\(evidence"))
    link.first.wait_for(timeout=15_000)
    assert link.count() == 1 and f"rec={KEY}" in (link.get_attribute("href") or "")
    page.screenshot(path=str(artifacts / "debug-update-duplicate.png"))
    ctx.close()
