"""Browser tests: the real server (`rectrack serve`) on a free port, driven in Debian's
Chromium through Playwright's sync API. Never downloads a browser."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    root = Path(os.environ.get("RECTRACK_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A seeded store with one password account per role, served for real; killed at the end."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from tests.e2e.seeded_store import build_store

    root = tmp_path_factory.mktemp("e2e")
    url = build_store(root / "e2e.db", seeded=True, with_passwords=True)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "RECTRACK_DATA_DIR": str(root / "data"),
        "RECTRACK_BANNER": "UNCLASSIFIED // TEST",
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
    yield {"base": base, "url": url, "root": root, "data_dir": root / "data"}
    os.killpg(proc.pid, 15)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def publish_screenshots(artifacts: Path) -> None:
    """Copy the current screenshots to docs/screenshots (committed)."""
    docs = REPO / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    for png in artifacts.glob("*.png"):
        if png.name.startswith("debug-"):
            continue
        shutil.copy(png, docs / png.name)
