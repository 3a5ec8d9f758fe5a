"""``rectrack closure propose|accept|return``: the two-step verified closure."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import actor_for, app, attach_stored, engine_ready, stored_evidence, user_errors
from models.store.db import write_session

closure_app = typer.Typer(
    help="Two-step closure: an editor proposes, someone else verifies.", no_args_is_help=True
)
app.add_typer(closure_app, name="closure")


@closure_app.command("propose")
@user_errors
def closure_propose(
    key: str,
    status: str = typer.Argument(..., help="implemented or not_implemented."),
    reason: str = typer.Option(..., "--reason", help="Why it can be closed (required)."),
    evidence: Path | None = typer.Option(None, "--evidence", help="A file to attach first."),
    as_user: str = typer.Option(..., "--as", help="Username acting (an editor)."),
) -> None:
    """Propose closing a recommendation; it waits for a verifier."""
    from models.rules.closure import propose_closure
    from models.rules.records import get_recommendation

    stored = stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        actor = actor_for(session, as_user)
        attach_stored(session, key, actor, reason, stored)
        rec = get_recommendation(session, key)
        propose_closure(
            session, key=key, target=status, reason=reason, expected_version=rec.version, actor=actor
        )
    typer.echo(f"{key}: closure as {status} proposed; waiting for a verifier")


def _decide(key: str, accept: bool, reason: str, as_user: str) -> None:
    from models.rules.closure import decide_closure

    with write_session(engine_ready()) as session:
        rec = decide_closure(
            session, key=key, accept=accept, reason=reason, actor=actor_for(session, as_user)
        )
    typer.echo(
        f"{key}: closure {'accepted' if accept else 'returned'}; now {rec.status} (version {rec.version})"
    )


@closure_app.command("accept")
@user_errors
def closure_accept(
    key: str,
    reason: str = typer.Option(..., "--reason", help="What you checked."),
    as_user: str = typer.Option(..., "--as", help="Username acting (a verifier, not the proposer)."),
) -> None:
    """Accept a proposed closure: the recommendation closes, with its evidence hashes recorded."""
    _decide(key, True, reason, as_user)


@closure_app.command("return")
@user_errors
def closure_return(
    key: str,
    reason: str = typer.Option(..., "--reason", help="What is missing."),
    as_user: str = typer.Option(..., "--as", help="Username acting (a verifier, not the proposer)."),
) -> None:
    """Return a proposed closure with a reason: the recommendation stays open."""
    _decide(key, False, reason, as_user)
