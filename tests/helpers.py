"""Small builders shared by tests."""

from __future__ import annotations

from sqlmodel import select

from models.rules.recommendations import create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import add_user, operator_user
from models.store.db import read_session, write_session
from models.store.schemas import RecommendationCreate, RecommendationUpdate, UserCreate
from models.store.tables import AuditEvent, User

# the password CLI tests sign in with: `cli(..., "--as", NAME)` types it on standard input
CLI_PASSWORD = "correct horse battery staple"


def add_account(session, username: str, role: str, **kw) -> User:
    """An account added by the operator through the one write path (with its ``user_add`` event),
    as an install's first accounts are, so the store still verifies."""
    return add_user(
        session, data=UserCreate(username=username, role=role, **kw), actor=operator_user(session)
    )


def make_rec(engine, key="rec-a", owner="OSD Policy", actor="ed", **kw):
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == actor)).one()
        data = RecommendationCreate(
            key=key,
            title=kw.pop("title", "A title"),
            summary=kw.pop("summary", "A summary"),
            theme=kw.pop("theme", "counter_drug"),
            who_must_act="us",
            owner=owner,
            **kw,
        )
        return create_recommendation(s, data=data, actor=user, reason="test setup")


def change(engine, key, actor="ed", version=None, **fields):
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == actor)).one()
        rec = get_recommendation(s, key)
        fields.setdefault("reason", "because")
        upd = RecommendationUpdate(expected_version=version or rec.version, **fields)
        return update_recommendation(s, key=key, change=upd, actor=user)


def read_rec(engine, key):
    with read_session(engine) as s:
        return get_recommendation(s, key)


def event_count(engine) -> int:
    with read_session(engine) as s:
        return len(s.exec(select(AuditEvent.seq)).all())


def close(engine, key, target="not_implemented", proposer="ed", verifier="aud", reason="checked"):
    """The two-step closure: ``proposer`` proposes, ``verifier`` accepts."""
    from models.rules.closure import decide_closure, propose_closure

    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == proposer)).one()
        rec = get_recommendation(s, key)
        propose_closure(s, key=key, target=target, reason=reason, expected_version=rec.version, actor=user)
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == verifier)).one()
        return decide_closure(s, key=key, accept=True, reason=reason, actor=user)


def cli(*args: str, input: str | None = None):
    """Run ``rectrack`` in-process and return the result (``.exit_code``, ``.output``).

    CLI tests go through here, so how the command line establishes who is acting (see the
    README, "Who a command acts as") is arranged in one place: a command given ``--as`` reads that
    user's password from standard input, and tests' accounts have :data:`CLI_PASSWORD`."""
    from typer.testing import CliRunner

    from cli.main import app

    if input is None and "--as" in args:
        input = CLI_PASSWORD + "\n"
    return CliRunner().invoke(app, list(args), input=input)


def give_cli_password(engine, *usernames: str) -> None:
    """Test setup: accounts made without a password get :data:`CLI_PASSWORD` to sign in with."""
    from models.rules.auth import hash_password

    with write_session(engine) as s:
        for name in usernames:
            user = s.exec(select(User).where(User.username == name)).one()
            user.password_hash = hash_password(CLI_PASSWORD)
            s.add(user)


def shown(markdown: str) -> str:
    """What a reader sees of markdown the dashboard escaped (dashboard.ui.md_escape): the text
    without its backslash escapes."""
    import re

    return re.sub(r"\\(.)", r"\1", str(markdown)).replace("\u2060", "")


def small_trail(engine):
    """16 events: six accounts and the operator who added them (the ``users`` fixture), two
    recommendations moved, evidence with one file (``minutes.txt``), a two-person closure of rec-a
    and rec-b moved to J5."""
    import io

    from models.rules.evidence_files import store_file
    from models.rules.recommendations import attach_evidence
    from models.store.schemas import EvidenceCreate

    make_rec(engine, key="rec-a")
    make_rec(engine, key="rec-b", owner="SOUTHCOM J7")
    change(engine, "rec-a", status="accepted", reason="agreed")
    change(engine, "rec-b", status="under_review", reason="looking")
    change(engine, "rec-a", status="in_progress", reason="started")
    stored = store_file(io.BytesIO(b"signed minutes"), "minutes.txt")
    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        attach_evidence(
            s,
            keys=["rec-a"],
            actor=ed,
            reason="proof",
            files=[stored],
            evidence=EvidenceCreate(title="Minutes"),
        )
    close(engine, "rec-a", "implemented", reason="done")
    change(engine, "rec-b", owner="J5", reason="moved")
    return engine
