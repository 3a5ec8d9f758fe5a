"""What every ``rectrack`` command shares: the root app, turning refusals into one line, opening
the store, finding the acting user, and storing a file given with ``--evidence``.

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
    """Turn every refusal the domain layer makes into one clear line and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
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


def actor_for(session, username: str):
    from models.rules.users import get_user

    return get_user(session, username)


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
