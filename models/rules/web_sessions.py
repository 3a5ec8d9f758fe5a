"""Signed-in browsers: what keeps an officer signed in through a reload, a new tab or a pasted link,
and what ends that everywhere.

The mechanism (the dashboard side is :mod:`dashboard.session_cookie`): a successful sign-in opens a
session here and gets a one-time *claim code*, valid for a minute. The page makes the browser fetch
``/_rectrack/session/claim?code=...`` from the server, which exchanges the code for a random token
and sets it as an ``HttpOnly; SameSite=Strict`` cookie: page scripts cannot read it (Streamlit's
scripts cannot set cookies, and anything they put in the page is readable, so the token itself never
passes through the page). A new browser connection presents the cookie; :func:`resume` maps it back
to the account. Only SHA-256 hashes of the code and the token are stored, so a copy of the database
signs nobody in. The cookie holds no username.

A session ends on sign-out, when the account is disabled or its password changes
(:func:`end_all_for`), after ``session_idle_minutes`` without activity and after
``session_max_hours`` in any case. Session rows are bookkeeping beside the sign-in and account events
the trail already records (:mod:`models.rules.auth`, :mod:`models.rules.users`), so opening or ending
one appends no event of its own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select, update

from models.rules.permissions import NOT_PEOPLE
from models.store.settings import get_settings
from models.store.tables import User, WebSession, utcnow

CLAIM_SECONDS = 60
TOUCH_SECONDS = 60  # last_seen_at is written at most this often per session
PRUNE_AFTER = timedelta(days=30)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Resumed:
    username: str
    session_id: str


def open_session(session: Session, *, username: str, client: str | None = None, now: datetime | None = None):
    """After a successful sign-in: a new session and its one-time claim code, as (id, code)."""
    now = now or utcnow()
    s = get_settings()
    code = secrets.token_urlsafe(32)
    row = WebSession(
        id=secrets.token_hex(16),
        username=username,
        claim_hash=_digest(code),
        claim_expires_at=now + timedelta(seconds=CLAIM_SECONDS),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=s.session_max_hours),
        client=(client or None) and client[:200],
    )
    session.add(row)
    session.exec(delete(WebSession).where(col(WebSession.expires_at) < now - PRUNE_AFTER))
    return row.id, code


def open_token(session: Session, *, username: str, client: str, now: datetime | None = None) -> str:
    """A command-line session (``rectrack login``): the token is handed out at once, since there is
    no page to keep it from; it ends, expires and idles out like a browser's."""
    now = now or utcnow()
    sid, _code = open_session(session, username=username, client=client, now=now)
    row = session.get(WebSession, sid)
    assert row is not None
    token = secrets.token_urlsafe(32)
    row.token_hash, row.claim_hash, row.claim_expires_at = _digest(token), None, None
    session.add(row)
    return token


def use_token(session: Session, *, token: str | None, now: datetime | None = None) -> Resumed | None:
    """A command presenting ``RECTRACK_TOKEN``: whose session it is, if still open (and it stays
    alive for another idle period)."""
    now = now or utcnow()
    found = resume(session, token=token, now=now)
    if found is not None:
        row = session.get(WebSession, found.session_id)
        assert row is not None
        row.last_seen_at = now
        session.add(row)
    return found


def end_token(session: Session, *, token: str) -> bool:
    """``rectrack logout``: end the session a command-line token opened; False if already over."""
    found = resume(session, token=token)
    if found is None:
        return False
    end_session(session, session_id=found.session_id)
    return True


def claim(session: Session, *, code: str, now: datetime | None = None) -> tuple[str, int] | None:
    """Exchange a claim code (once, within a minute) for the cookie token; (token, max-age seconds)."""
    now = now or utcnow()
    if not code or len(code) > 200:
        return None
    row = session.exec(select(WebSession).where(WebSession.claim_hash == _digest(code))).first()
    if row is None:
        return None
    row.claim_hash = None  # one use, whatever happens next
    session.add(row)
    if row.ended_at is not None or row.claim_expires_at is None or now > row.claim_expires_at:
        return None
    token = secrets.token_urlsafe(32)
    row.token_hash, row.claim_expires_at = _digest(token), None
    return token, max(0, int((row.expires_at - now).total_seconds()))


def _ended_why(session: Session, row: WebSession | None, now: datetime) -> str | None:
    """Why the session can no longer be used, or None while it can."""
    if row is None or row.ended_at is not None:
        return row.ended_why or "ended" if row is not None else "unknown"
    if now >= row.expires_at:
        return "expired"
    if now - row.last_seen_at > timedelta(minutes=get_settings().session_idle_minutes):
        return "idle"
    user = session.exec(select(User).where(User.username == row.username)).first()
    if user is None or user.disabled or user.role in NOT_PEOPLE:
        return "account unavailable"
    return None


def _still_open(session: Session, row: WebSession | None, now: datetime) -> bool:
    """End the session if it has expired or its account may no longer sign in; touch it otherwise."""
    why = _ended_why(session, row, now)
    if why:
        if row is not None and row.ended_at is None:
            row.ended_at, row.ended_why = now, why
            session.add(row)
        return False
    assert row is not None
    if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        row.last_seen_at = now
        session.add(row)
    return True


@dataclass(frozen=True)
class Look:
    """A session as a page run sees it, read without writing (most runs need no write)."""

    open: bool
    needs_write: bool  # it must be ended, or last_seen_at is due to be touched
    claimed: bool


def look(session: Session, *, session_id: str, now: datetime | None = None) -> Look:
    now = now or utcnow()
    row = session.get(WebSession, session_id)
    why = _ended_why(session, row, now)
    if why or row is None:
        return Look(False, row is not None and row.ended_at is None, False)
    touch = (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS
    return Look(True, touch, row.token_hash is not None)


def resume(session: Session, *, token: str | None, now: datetime | None = None) -> Resumed | None:
    """A browser connection presenting a session cookie: whose it is, if the session is still open."""
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).first()
    if not _still_open(session, row, now):
        return None
    assert row is not None
    return Resumed(row.username, row.id)


def still_open(session: Session, *, session_id: str, now: datetime | None = None) -> bool:
    """On every page run: False once the session was ended anywhere (another tab signed out, say)."""
    return _still_open(session, session.get(WebSession, session_id), now or utcnow())


def end_session(session: Session, *, session_id: str, why: str = "signed out", now: datetime | None = None):
    """Sign-out: the cookie stops working in every tab of that browser."""
    session.exec(
        update(WebSession)
        .where(col(WebSession.id) == session_id, col(WebSession.ended_at).is_(None))
        .values(ended_at=now or utcnow(), ended_why=why)
    )


def end_all_for(
    session: Session, *, username: str, why: str, except_id: str | None = None, now: datetime | None = None
) -> None:
    """Every open session of an account (disabled, password changed or reset), but ``except_id``."""
    q = update(WebSession).where(col(WebSession.username) == username, col(WebSession.ended_at).is_(None))
    if except_id:
        q = q.where(col(WebSession.id) != except_id)
    session.exec(q.values(ended_at=now or utcnow(), ended_why=why))
