"""Staying signed in: the one-time claim code, the cookie token, and everything that ends a
session everywhere (sign-out, idle, maximum age, a disabled account, a new password)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from models.rules.auth import change_password, create_user, reset_password
from models.rules.users import get_user, set_disabled
from models.rules.web_sessions import claim, end_session, look, open_session, resume, still_open
from models.store.db import read_session, write_session
from models.store.settings import get_settings
from models.store.tables import WebSession, utcnow

PASSWORD = "correct horse battery"


def signed_in(engine, username="ed", now=None):
    """A session opened at sign-in and claimed by the browser: (session id, cookie token)."""
    with write_session(engine) as s:
        sid, code = open_session(s, username=username, client="127.0.0.1", now=now)
    with write_session(engine) as s:
        token, max_age = claim(s, code=code, now=now)
    assert get_settings().session_max_hours * 3600 - 5 <= max_age <= get_settings().session_max_hours * 3600
    return sid, token


def back(engine, token, now=None):
    with write_session(engine) as s:
        return resume(s, token=token, now=now)


def test_a_claimed_cookie_signs_the_same_account_back_in(engine, users):
    sid, token = signed_in(engine)
    again = back(engine, token)
    assert (again.username, again.session_id) == ("ed", sid)


def test_the_claim_code_works_once_and_only_for_a_minute(engine, users):
    with write_session(engine) as s:
        _, code = open_session(s, username="ed")
    with write_session(engine) as s:
        assert claim(s, code=code) is not None
    with write_session(engine) as s:
        assert claim(s, code=code) is None  # replayed
    now = utcnow()
    with write_session(engine) as s:
        _, late = open_session(s, username="ed", now=now)
    with write_session(engine) as s:
        assert claim(s, code=late, now=now + timedelta(seconds=61)) is None
    with write_session(engine) as s:
        assert claim(s, code="made-up") is None and claim(s, code="") is None


def test_only_hashes_are_stored_and_no_username_is_in_the_token(engine, users):
    sid, token = signed_in(engine)
    with read_session(engine) as s:
        row = s.exec(select(WebSession).where(WebSession.id == sid)).one()
        stored = " ".join(str(v) for v in row.model_dump().values())
    assert token not in stored and "ed" not in token.lower().split("-")
    assert back(engine, token + "x") is None and back(engine, "") is None


def test_signing_out_ends_the_session_in_every_tab(engine, users):
    sid, token = signed_in(engine)
    with write_session(engine) as s:
        end_session(s, session_id=sid)
    assert back(engine, token) is None
    with read_session(engine) as s:
        assert not look(s, session_id=sid).open


def test_idle_and_maximum_age_end_a_session(engine, users):
    now = utcnow()
    _, token = signed_in(engine, now=now)
    idle = get_settings().session_idle_minutes
    assert back(engine, token, now=now + timedelta(minutes=idle - 1)) is not None  # activity moves it on
    assert back(engine, token, now=now + timedelta(minutes=2 * idle + 1)) is None
    start = utcnow()
    sid, token = signed_in(engine, now=start)
    hours = get_settings().session_max_hours
    t = start
    while t < start + timedelta(hours=hours - 1):  # active all along
        t += timedelta(minutes=idle // 2)
        with write_session(engine) as s:
            assert still_open(s, session_id=sid, now=t)
    assert back(engine, token, now=start + timedelta(hours=hours, minutes=1)) is None


def test_disabling_an_account_ends_its_sessions(engine, users):
    sid, token = signed_in(engine)
    with write_session(engine) as s:
        set_disabled(s, username="ed", disabled=True, actor=get_user(s, "adm"))
    assert back(engine, token) is None
    with write_session(engine) as s:
        set_disabled(s, username="ed", disabled=False, actor=get_user(s, "adm"))
    assert back(engine, token) is None  # enabling again does not revive an ended session


def test_a_new_password_signs_out_every_other_browser(engine, users):
    with write_session(engine) as s:
        create_user(s, username="pat", role="editor", password=PASSWORD, actor=get_user(s, "adm"))
    mine, my_token = signed_in(engine, "pat")
    _, other_token = signed_in(engine, "pat")
    with write_session(engine) as s:
        change_password(
            s, user=get_user(s, "pat"), old_password=PASSWORD, new_password=PASSWORD + "!", keep_session=mine
        )
    assert back(engine, my_token) is not None and back(engine, other_token) is None
    with write_session(engine) as s:
        reset_password(s, username="pat", actor=get_user(s, "adm"))
    assert back(engine, my_token) is None
