"""``rectrack handover``: an admin names a successor for an office's (or a person's) open records."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import actor_for, app, engine_ready, user_errors
from models.store.db import write_session


@app.command("handover")
@user_errors
def handover(
    office: str = typer.Option(None, "--office", help="Hand over every open record this office owns."),
    to_user: str = typer.Option(..., "--to", help="The successor: an enabled editor or admin."),
    from_user: str = typer.Option(
        None, "--from", help="Only the records this person answers for (with --office: in that office)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why (required); every record's event carries it."),
    as_user: str = typer.Option(..., "--as", help="Username acting (an admin)."),
    report: Path = typer.Option(
        None, "--report", help="Write the handover report (HTML) here; default handover-SEQ.html."
    ),
) -> None:
    """Make USER responsible for every open recommendation of an office or a person, in one batch
    with an event per record, and write the report for the incoming officer (admins only)."""
    from models.rules.handover import hand_over
    from models.workflow.handover_report import write_handover_report

    engine = engine_ready()
    with write_session(engine) as session:
        result = hand_over(
            session,
            to_user=to_user,
            reason=reason,
            actor=actor_for(session, as_user),
            office=office,
            from_user=from_user,
        )
    path = report or Path(f"handover-{result.first_seq}.html")
    write_handover_report(engine, first_seq=result.first_seq, path=path)
    whose = " and ".join(
        p for p in (office and f"office {office}", from_user and f"{from_user}'s records") if p
    )
    typer.echo(
        f"handed {result.moved} open recommendation{'s' if result.moved != 1 else ''} of {whose} to "
        f"{result.to_user} (events {result.first_seq}-{result.first_seq + result.moved - 1})"
    )
    if result.office_set:
        typer.echo(f"{result.to_user} now edits for {result.office}")
    typer.echo(f"report written to {path}")
