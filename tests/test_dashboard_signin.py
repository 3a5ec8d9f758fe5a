"""The sign-in page and signing out, through AppTest: one message whatever was wrong, and a signed-out
tab keeps nothing the previous person prepared (downloads, results, export files on the server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from models.rules.auth import REFUSED, authenticate
from models.rules.users import get_user, set_disabled
from models.store.db import make_engine, write_session
from models.store.settings import get_settings
from tests.e2e.seeded_store import PASSWORD
from tests.helpers import shown
from tests.test_dashboard_pages import APP, clear_caches


@pytest.fixture
def pw_store(tmp_path, monkeypatch):
    """A seeded store whose accounts have passwords (built per test: sign-ins write)."""
    from tests.e2e.seeded_store import build_store

    url = build_store(tmp_path / "pw.db", seeded=True, with_passwords=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(tmp_path / "data"))
    clear_caches()
    yield url
    clear_caches()


def sign_in(at: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    return at.button(key="sign_in_submit").click().run()


def test_wrong_locked_and_disabled_show_the_same_words_on_the_sign_in_page(pw_store):
    engine = make_engine(pw_store)
    with write_session(engine) as s:
        set_disabled(s, username="vic", disabled=True, actor=get_user(s, "adm"))
    for _ in range(
        get_settings().lockout_threshold
    ):  # lock "ed" for this client ("local": a browser on this machine)
        try:
            with write_session(engine) as s:
                authenticate(s, username="ed", password="a wrong guess", client="local")
        except Exception:
            pass
    engine.dispose()
    messages = {}
    for who, password in (
        ("aud", "not the password"),
        ("ed", PASSWORD),
        ("vic", PASSWORD),
        ("nobody", PASSWORD),
    ):
        at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), who, password)
        assert "username" not in at.session_state
        messages[who] = [shown(e.value) for e in at.error]
    assert all(v == [REFUSED] for v in messages.values()), messages


def test_signing_out_leaves_nothing_the_previous_person_prepared(pw_store):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ed")
    at.switch_page("app_pages/bulk.py").run()
    at.button(key="bulk_prepare").click().run()
    assert at.session_state["bulk_export"]["n"] > 0 and at.get("download_button")
    at.button(key="sign_out").click().run()
    assert "username" not in at.session_state and "bulk_export" not in at.session_state
    assert any("You signed out" in i.value for i in at.info)

    sign_in(at, "nc")  # the next person at the same tab
    at.switch_page("app_pages/bulk.py").run()
    assert not at.exception
    assert not at.get("download_button"), "the previous user's prepared file is still offered"


def test_signing_out_removes_the_export_files_made_for_the_session(pw_store):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "aud")
    at.switch_page("app_pages/trail.py").run()
    at.radio(key="exp_format").set_value("csv")
    at.button(key="exp_run").click().run()
    path = Path(at.session_state["exp_result"]["path"])
    assert path.is_file()
    at.button(key="sign_out").click().run()
    assert not path.exists() and "exp_result" not in at.session_state
