"""What every ``rectrack`` command shares: the root app, turning refusals into one line, opening
the store, signing in the user a command acts as, and storing a file given with ``--evidence``.

Who did it is who did it: a command given ``--as USER`` acts for USER only after USER signs in,
with their password on standard input (prompted for at a terminal) or with a token from
``rectrack login`` in ``RECTRACK_TOKEN``; the sign-in is in the trail like a browser's. Commands
without ``--as`` (accounts, seeding, verifying, reminders) act as the operator, named by OS account
and host in every event they write (:func:`models.rules.users.operator_user`). No one can act as
the catalog loader's identity.

Command modules import this one and nothing else from ``cli``; :mod:`cli.main` imports them all,
so registration has no cycle.
"""

from __future__ import annotations

import functools
from pathlib import Path

import typer
from sqlalchemy.exc import OperationalError

from models.catalog.checks import CatalogError
from models.store.db import make_engine
from models.store.errors import DomainError
from models.store.settings import get_settings
from models.store.upgrade import is_initialised

app = typer.Typer(
    help="Recommendation Tracker: track, update and audit defense-cooperation recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def user_errors(fn):
    """Turn every refusal the domain layer makes into one clear line and exit 1; a command with
    ``--as`` signs its user in first."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        _signed_in.clear()
        try:
            if "as_user" in kwargs:
                sign_in(kwargs["as_user"])
            return fn(*args, **kwargs)
        except (DomainError, CatalogError) as e:
            fail(str(e))
        except OperationalError as e:
            fail(f"cannot reach the database ({get_settings().url.split('@')[-1]}): {e.orig}")

    return wrapper


def engine_ready():
    engine = make_engine()
    if not is_initialised(engine):
        fail("the store has no schema yet; run: rectrack db upgrade")
    return engine


_signed_in: set[str] = set()


def sign_in(username: str, *, issue_token: bool = False) -> str | None:
    """Establish that the person running the command is ``username`` (see the module docstring);
    with ``issue_token`` (``rectrack login``) always by password, returning a new session token."""
    import os
    import sys

    import click

    from models.rules.auth import authenticate
    from models.rules.users import SYSTEM_USERNAME, get_user, operator_identity
    from models.rules.web_sessions import open_token, use_token
    from models.store.db import write_session

    if username == SYSTEM_USERNAME:
        fail(
            f"{SYSTEM_USERNAME!r} is the catalog loader's identity and acts only while the catalog is "
            "loaded; no one can act as it. Use --as with your own username"
        )
    who, host = operator_identity()
    token = "" if issue_token else os.environ.get("RECTRACK_TOKEN", "").strip()
    password = None
    if not token:
        try:  # a prompt at a terminal; a script pipes the password in, one line, no prompt
            if sys.stdin.isatty():
                password = click.prompt(f"password for {username}", hide_input=True, err=True)
            else:
                password = sys.stdin.readline().rstrip("\r\n") or None
        except (click.exceptions.Abort, EOFError):
            password = None
        if not password:
            fail(
                f"--as {username} needs {username}'s password on standard input, or a token from "
                "`rectrack login` in RECTRACK_TOKEN"
            )
    with write_session(engine_ready()) as session:
        if token:
            found = use_token(session, token=token)
            if found is None:
                fail(
                    "RECTRACK_TOKEN is not an open session (signed out, expired, idle or revoked); "
                    f"run: rectrack login --as {username}"
                )
            if found.username != username:
                fail(f"RECTRACK_TOKEN signs in {found.username!r}, not {username!r}")
        else:
            authenticate(
                session,
                username=username,
                password=password or "",
                client=f"cli {who}@{host}",
                how=f"at the command line (OS user {who!r} on {host!r})",
            )
        get_user(session, username)
        issued = open_token(session, username=username, client=f"cli {who}@{host}") if issue_token else None
    _signed_in.add(username)
    return issued


def actor_for(session, username: str):
    """The signed-in user a command acts as (``user_errors`` signed them in)."""
    from models.rules.users import get_user

    if username not in _signed_in:
        raise RuntimeError(f"{username!r} acts without signing in; wrap the command in user_errors")
    return get_user(session, username)


def operator(session):
    """The operator running a command that acts for no person: named by OS account and host."""
    from models.rules.users import operator_user

    return operator_user(session)


def stored_evidence(evidence: Path | None) -> dict | None:
    """Copy a file given with --evidence into the evidence store (before the transaction)."""
    from models.rules.evidence_files import store_file

    if evidence is None:
        return None
    if not evidence.is_file():
        fail(f"evidence file {str(evidence)!r} does not exist")
    with evidence.open("rb") as fh:
        return store_file(fh, evidence.name)


def attach_stored(session, key: str, actor, reason: str, stored: dict | None) -> None:
    from models.rules.recommendations import attach_evidence
    from models.store.schemas import EvidenceCreate

    if stored:
        attach_evidence(
            session,
            keys=[key],
            actor=actor,
            reason=reason,
            files=[stored],
            evidence=EvidenceCreate(title=stored["filename"], kind="file"),
        )
