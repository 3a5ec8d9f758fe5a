"""Single sign-on against a real OpenID Connect provider, in Chromium.

The suite starts panva's OpenID-certified ``oidc-provider`` (npm, vendored in tests/oidc, run by
Debian's Node.js) on 127.0.0.1 and ``rectrack serve`` with the README's secrets.toml. As that
provider ships, the e-mail is in UserInfo rather than the ID token and ``prompt=select_account``
(Streamlit's default) is refused. Checked: a mapped identity gets its account's role; an unknown
identity, an unverified e-mail and an identity with no e-mail are refused in words and in the
trail; the provider's own refusal (Streamlit's default prompt) is shown and recorded; signing out
ends the app's session and the provider's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from sqlmodel import select

from models.rules.auth import create_user
from models.rules.users import operator_user
from models.store.db import make_engine, read_session, write_session
from models.store.tables import AuditEvent
from tests.e2e.conftest import REPO, free_port
from tests.e2e.seeded_store import build_store

pytestmark = pytest.mark.browser
OIDC_DIR = REPO / "tests" / "oidc"
ACCOUNTS = {  # the provider's identities (login -> claims); "nobody" has none, so no e-mail
    "rosa": {"email": "Rosa@Example.mil", "email_verified": True},
    "stranger": {"email": "stranger@example.mil", "email_verified": True},
    "vera": {"email": "vera@example.mil", "email_verified": False},
}


def wait_for(url: str, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.time() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"{what} did not start: {log.read_text()[-2000:]}")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """The provider, and two dashboards using it: one with the README's settings and one with
    Streamlit's defaults (no client_kwargs), on one store."""
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the OpenID provider is not installed: run ./tracker test (it runs npm ci in tests/oidc)")
    root = tmp_path_factory.mktemp("sso")
    url = build_store(root / "sso.db", seeded=False, with_passwords=True)
    engine = make_engine(url)
    with write_session(engine) as s:  # single-sign-on-only accounts, by e-mail
        create_user(
            s,
            username="rosa",
            role="auditor",
            password=None,
            actor=operator_user(s),
            email="rosa@example.mil",
        )
        create_user(
            s, username="vera", role="viewer", password=None, actor=operator_user(s), email="vera@example.mil"
        )
    engine.dispose()

    op_port, apps = free_port(), {"documented": free_port(), "defaults": free_port()}
    callbacks = [f"http://127.0.0.1:{p}/oauth2callback" for p in apps.values()]
    config = {
        "port": op_port,
        "accounts": ACCOUNTS,
        "clients": [
            {
                "client_id": "rectrack",
                "client_secret": "a-test-client-secret-of-some-length",
                "redirect_uris": callbacks,
                "post_logout_redirect_uris": callbacks,
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
            }
        ],
    }
    (root / "op.json").write_text(json.dumps(config))
    procs, logs = [], []
    op_log = root / "op.log"
    logs.append(open(op_log, "w"))
    op = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs"), str(root / "op.json")],
        cwd=OIDC_DIR,
        stdout=logs[-1],
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    procs.append(op)
    issuer = f"http://127.0.0.1:{op_port}"
    wait_for(f"{issuer}/.well-known/openid-configuration", op, op_log, "the OpenID provider")

    bases = {}
    for name, port in apps.items():
        secrets = root / f"secrets-{name}.toml"
        extra = (
            'expose_tokens = ["access"]\nclient_kwargs = { prompt = "consent", scope = "openid email profile" }\n'
            if name == "documented"
            else ""
        )
        secrets.write_text(
            f'[auth]\nredirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "a-long-random-string-for-the-test-{name}"\nclient_id = "rectrack"\n'
            'client_secret = "a-test-client-secret-of-some-length"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n{extra}'
        )
        log = root / f"app-{name}.log"
        logs.append(open(log, "w"))
        env = {**os.environ, "DATABASE_URL": url, "RECTRACK_DATA_DIR": str(root / "data")}
        proc = subprocess.Popen(
            [
                str(REPO / ".venv" / "bin" / "rectrack"),
                "serve",
                "--port",
                str(port),
                "--address",
                "127.0.0.1",
                "--secrets",
                str(secrets),
            ],
            cwd=REPO,
            env=env,
            stdout=logs[-1],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        bases[name] = f"http://127.0.0.1:{port}"
        wait_for(f"{bases[name]}/_stcore/health", proc, log, f"the dashboard ({name})")
    yield {"issuer": issuer, "url": url, **bases, "root": root}
    for p in procs:
        stop(p)
    for f in logs:
        f.close()


def settle(page, ms=800):
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(ms)


def provider_login(page, login: str) -> None:
    """The provider's own sign-in form (any password), then its consent screen when it asks."""
    page.locator('input[name="login"]').wait_for(timeout=30_000)
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any password the test provider accepts")
    page.locator('button[type="submit"]').first.click()
    page.wait_for_load_state()
    consent = page.get_by_role("button", name="Continue")
    if consent.count():
        consent.first.click()
    page.wait_for_load_state()


def start_sso(page, base: str) -> None:
    page.goto(base)
    page.get_by_role("button", name="Sign in with single sign-on").click()


def trail(url: str, key: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    with read_session(engine) as s:
        rows = s.exec(
            select(AuditEvent.action, AuditEvent.reason)
            .where(AuditEvent.record_key == key)
            .order_by(AuditEvent.seq)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def alert_text(page) -> str:
    box = page.locator('[data-testid="stAlert"]').first
    box.wait_for(timeout=30_000)
    return box.inner_text().replace("\u2060", "")


def test_a_mapped_identity_gets_its_role_and_signing_out_ends_both_sessions(sso, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    start_sso(page, sso["documented"])
    provider_login(page, "rosa")
    page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
    settle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert "auditor" in sidebar.inner_text()
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Evidence trail", exact=True).count() == 1
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Users", exact=True).count() == 0
    assert trail(sso["url"], "rosa")[-1] == (
        "signin",
        "signed in through single sign-on (e-mail from the UserInfo)",
    )
    page.screenshot(path=str(artifacts / "sso-1-signed-in.png"))

    sidebar.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Yes, sign me out").click(timeout=30_000)  # the provider ends its session
    page.get_by_role("button", name="Sign in with single sign-on").wait_for(timeout=60_000)
    settle(page)
    assert page.get_by_role("heading", name="Overview").count() == 0
    # signing in again asks the provider's sign-in form: its session is gone too
    page.get_by_role("button", name="Sign in with single sign-on").click()
    page.locator('input[name="login"]').wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "sso-2-provider-asks-again.png"))
    ctx.close()


@pytest.mark.parametrize(
    "login, words, recorded",
    [
        (
            "stranger",
            "stranger@example.mil has no access yet",
            ("stranger@example.mil", "has no local account"),
        ),
        (
            "vera",
            "the identity provider says it is not verified that vera@example.mil is yours",
            ("vera@example.mil", "not verified by the provider"),
        ),
        ("nobody", "the provider sent no e-mail address for you", ("sso:nobody", "no e-mail")),
    ],
)
def test_unknown_unverified_and_mail_less_identities_are_refused_in_words_and_recorded(
    sso, browser, login, words, recorded, artifacts
):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    start_sso(page, sso["documented"])
    provider_login(page, login)
    text = alert_text(page)
    assert words in text, text
    assert page.get_by_role("heading", name="Overview").count() == 0
    key, why = recorded
    assert any(a == "signin_refused" and why in r for a, r in trail(sso["url"], key)), trail(sso["url"], key)
    page.screenshot(path=str(artifacts / f"sso-refused-{login}.png"))
    ctx.close()


def test_the_providers_refusal_of_streamlits_default_prompt_is_shown_and_recorded(sso, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    start_sso(page, sso["defaults"])  # no client_kwargs: Streamlit asks for prompt=select_account
    text = alert_text(page)
    assert "single sign-on did not complete: the identity provider answered" in text, text
    assert "invalid_request" in text and "client_kwargs.prompt" in text
    assert any(a == "signin_refused" and "invalid_request" in r for a, r in trail(sso["url"], "sso"))
    page.screenshot(path=str(artifacts / "sso-provider-refused-prompt.png"))
    ctx.close()
