"""Hostile markdown in a real browser: every page, for the roles that see it, with titles,
summaries, owners, offices, names, reasons, evidence, citation sections, file names, a ``?rec=``
link and an uploaded bundle's manifest all carrying markdown images and links to an "attacker"
server on 127.0.0.1 and ``:red[...]`` fake warnings. The attacker server counts every hit and
Playwright logs every request: neither may see one, no page may render a link or image to it,
the text must be on the page as text, and tables offer no raw "Download as CSV"."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from sqlmodel import select

from models.store.db import make_engine, read_session
from models.store.settings import Settings, get_settings
from models.store.tables import User
from models.trail.export_formats import Scope
from models.trail.exports import export
from tests.e2e.conftest import REPO, free_port
from tests.e2e.seeded_store import PASSWORD
from tests.hostile_store import KEY, build_hostile_store, hostile_bundle, payload

pytestmark = pytest.mark.browser
PAGES = {  # url path: (user, heading)
    "": ("adm", "Overview"),
    "my-items": ("hoffice", "My items"),
    "recommendations": ("adm", "Recommendations"),
    "update": ("adm", "Update a recommendation"),
    "verify": ("aud", "Verify closures"),
    "bulk": ("hoffice", "Bulk edits"),
    "obstacles": ("vic", "Obstacles"),
    "indicators": ("vic", "Indicators"),
    "timeline": ("vic", "Timeline"),
    "trail": ("aud", "Evidence trail"),
    "users": ("adm", "Users"),
    "account": ("hoffice", "My account"),
}


class Attacker(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        Attacker.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def attacker():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, attacker):
    root = tmp_path_factory.mktemp("hostile-e2e")
    url, data_dir = build_hostile_store(root, attacker)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RECTRACK_DATA_DIR": str(data_dir),
        "RECTRACK_BANNER": "UNCLASSIFIED",
    }
    log = open(root / "server.log", "w")
    proc = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "rectrack"), "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read().strip() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {(root / 'server.log').read_text()[-2000:]}")
        time.sleep(0.3)
    yield {"base": base, "url": url, "root": root}
    os.killpg(proc.pid, 15)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    log.close()


def settle(page, ms=800):
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(ms)


def open_everything(page):
    """Open every tab and expander, so content that only shows on a click is rendered too."""
    for tab in page.get_by_role("tab").all():
        try:
            tab.click(timeout=3000)
            page.wait_for_timeout(150)
        except Exception:
            pass
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        try:
            summary.click(timeout=3000)
            page.wait_for_timeout(150)
        except Exception:
            pass
    settle(page, 500)


def sign_in(page, base, user, path=""):
    page.goto(f"{base}/{path}")
    page.get_by_label("Username", exact=True).fill(user)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def assert_nothing_rendered_or_fetched(page, attacker, base, requests, where):
    outbound = [u for u in requests if u.startswith(attacker) or "/rel-" in u]
    assert outbound == [], f"{where}: the browser fetched {outbound[:5]}"
    assert Attacker.hits == [], f"{where}: the attacker server was hit: {Attacker.hits[:5]}"
    for sel in (
        f'a[href^="{attacker}"]',
        f'img[src^="{attacker}"]',
        'a[href*="rel-phish"]',
        'img[src*="rel-img"]',
        'a[href*="phish.example"]',
    ):
        assert page.locator(sel).count() == 0, f"{where}: rendered {sel}"
    # each fake warning still reads ":red[ACCOUNT SUSPENDED ...]": rendered as a colour, the ":red[" would be gone
    text = page.locator("body").inner_text().replace("\u2060", "")
    assert text.count("ACCOUNT SUSPENDED") == text.count(":red[ACCOUNT SUSPENDED"), (
        f"{where}: a :red[...] was rendered"
    )


def test_no_page_fetches_or_links_to_what_user_text_names(hostile_server, browser, attacker, artifacts):
    base = hostile_server["base"]
    Attacker.hits.clear()
    for path, (user, heading) in PAGES.items():
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = ctx.new_page()
        requests: list[str] = []
        page.on("request", lambda r, seen=requests: seen.append(r.url))
        # a new page load is a new session: sign in on the page itself (the link survives signing in)
        sign_in(page, base, user, f"recommendations?rec={KEY}" if path == "recommendations" else path)
        page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
        open_everything(page)
        assert_nothing_rendered_or_fetched(page, attacker, base, requests, path or "overview")
        if path == "recommendations":
            # all of it, hidden tabs too, without the word joiners md_escape adds
            body = page.locator("body").text_content().replace("\u2060", "")
            assert payload(attacker, "title") in body and payload(attacker, "section") in body
            page.screenshot(path=str(artifacts / "hostile-markdown-recommendation.png"), full_page=True)
        ctx.close()


def test_a_rec_link_and_a_bundle_manifest_are_shown_as_text(
    hostile_server, browser, attacker, artifacts, tmp_path, monkeypatch
):
    base = hostile_server["base"]
    Attacker.hits.clear()
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    sign_in(page, base, "aud", f"recommendations?rec={urllib.parse.quote(payload(attacker, 'query'))}")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="no recommendation")
    alert.first.wait_for(timeout=30_000)
    assert payload(attacker, "query") in alert.first.inner_text().replace("\u2060", "")
    assert_nothing_rendered_or_fetched(page, attacker, base, requests, "?rec=")

    engine = make_engine(hostile_server["url"])
    with read_session(engine) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    server_key = Settings(data_dir=hostile_server["root"] / "data").key_path  # made by rectrack serve
    monkeypatch.setenv("RECTRACK_KEY_FILE", str(server_key))
    get_settings.cache_clear()
    real = export(
        engine, fmt="bundle", scope=Scope(keys=(KEY,)), actor=aud, out_path=tmp_path / "real.zip"
    ).path
    engine.dispose()
    bundle = hostile_bundle(real, attacker, server_key)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Evidence trail", exact=True).click()
    page.get_by_role("heading", name="Evidence trail").wait_for(timeout=30_000)
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').last.set_input_files(str(bundle))
    settle(page)
    page.get_by_role("button", name="Verify bundle").click()
    page.get_by_text("verifies:").first.wait_for(timeout=60_000)
    settle(page)
    text = page.locator("body").inner_text().replace("\u2060", "")
    assert payload(attacker, "exporter") in text
    assert_nothing_rendered_or_fetched(page, attacker, base, requests, "bundle verification")
    page.screenshot(path=str(artifacts / "hostile-markdown-bundle.png"), full_page=True)
    ctx.close()


def test_tables_offer_no_raw_download_as_csv(hostile_server, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, hostile_server["base"], "aud", "trail")
    page.get_by_role("heading", name="Evidence trail").wait_for(timeout=30_000)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=30_000)
    table.hover()
    page.wait_for_timeout(800)
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    toolbar.wait_for(timeout=10_000)  # the table's toolbar is showing: search and full screen only
    labels = [b.get_attribute("aria-label") or b.inner_text() for b in toolbar.locator("button").all()]
    assert labels and not any("Download" in (x or "") for x in labels), labels
    ctx.close()


def test_a_file_above_ten_megabytes_uploads_on_bulk_edits_and_gets_the_pages_own_answer(
    hostile_server, browser, tmp_path, artifacts
):
    """The page says "up to 20 MB": the server takes 20 MB too (it refused at 10 MB with an Axios
    error), and the file then meets the import's own checks."""
    big = tmp_path / "edits.csv"
    with big.open("w") as fh:
        fh.write("key,colour\n")
        line = "rec-x," + "y" * 1000 + "\n"
        for _ in range(12 * 1024):  # 12 MB
            fh.write(line)
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = ctx.new_page()
    sign_in(page, hostile_server["base"], "ed", "bulk")
    page.get_by_role("heading", name="Bulk edits").wait_for(timeout=30_000)
    page.get_by_text("up to 20 MB").first.wait_for(timeout=30_000)  # the uploader states the one limit
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(big))
    page.get_by_text("edits.csv").first.wait_for(timeout=60_000)
    settle(page)
    text = page.locator("body").inner_text()
    assert "AxiosError" not in text and "413" not in text and "larger than" not in text, text[-500:]
    page.get_by_role("button", name="Apply edits").click()
    error = page.locator('[data-testid="stAlert"]').filter(has_text="Nothing applied")
    error.first.wait_for(timeout=60_000)
    assert "missing column(s)" in error.first.inner_text()
    page.screenshot(path=str(artifacts / "bulk-3-large-file-checked.png"))
    ctx.close()
