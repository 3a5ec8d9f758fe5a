"""``rectrack changes``, ``brief`` and ``leadership-digest``: what leadership reads, from the command line.

The same reads as the Overview (:mod:`models.reads.changes`, :mod:`models.reads.headline`), so a
figure on the page, in the terminal and in the PDF is the same figure.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from cli.common import actor_for, app, engine_ready, fail, user_errors


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD")


@app.command()
@user_errors
def changes(
    since: str | None = typer.Option(
        None, "--since", help="First day YYYY-MM-DD (default: start of this quarter)."
    ),
    until: str | None = typer.Option(None, "--until", help="Last day YYYY-MM-DD (default: today)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
    limit: int = typer.Option(
        200, "--limit", min=1, max=100_000, help="Most events listed (counts are always whole)."
    ),
) -> None:
    """What changed between two dates, from the trail: status moves, closures, evidence, obstacles,
    priority changes, and items that became overdue."""
    from models.reads.changes import changes_between, end_of_day, quarter_start, start_of_day
    from models.store.db import read_session

    last = _day(until, "--until") or date.today()
    first = _day(since, "--since") or quarter_start(last)
    if first > last:
        fail(f"--since {first} is after --until {last}; swap them")
    with read_session(engine_ready()) as session:
        result = changes_between(session, start_of_day(first), end_of_day(last), limit=limit)
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
        return
    from models.reads.changes import KINDS, OVERDUE_KIND

    labels = {k: v[0] for k, v in KINDS.items()} | {OVERDUE_KIND[0]: OVERDUE_KIND[1]}
    counts = ", ".join(f"{labels[k].lower()} {n}" for k, n in result.counts.items() if n)
    typer.echo(f"changes from {first} to {last}: {counts or 'nothing moved'}")
    for c in result.items:
        typer.echo(f"  {c.line()}")
    if result.truncated:
        typer.echo(f"  ... the newest {limit} are listed; use --limit or narrow the dates for more")


@app.command()
@user_errors
def brief(
    out: Path = typer.Option(..., "--out", help="The PDF to write."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Figures as of this day YYYY-MM-DD (default: today)."
    ),
    since: str | None = typer.Option(
        None, "--since", help="'What changed' from this day (default: start of the quarter)."
    ),
    scope: str = typer.Option("priority", "--scope", help="priority, all, or owner=OFFICE."),
    as_user: str = typer.Option(..., "--as", help="Username producing the briefing (recorded in the trail)."),
) -> None:
    """Write the leadership briefing as a PDF: cover, summary figures, one block per priority item,
    what changed, the longest stuck, and an annex of every recommendation in scope. The handling
    banner heads and foots every page; the export is recorded in the trail."""
    from models.workflow.briefing import BriefingRequest, write_briefing

    day = _day(as_of, "--as-of")
    first = _day(since, "--since")
    request = BriefingRequest.parse(as_of=day, since=first, scope=scope)
    engine = engine_ready()
    from models.store.db import read_session

    with read_session(engine) as session:
        actor = actor_for(session, as_user)
    result = write_briefing(engine, request, actor=actor, out=out)
    typer.echo(
        f"wrote {out}: {result.pages} page(s), scope {request.scope_label}, as of {request.as_of_day}, "
        f"changes since {request.since_day}; recorded as trail event {result.event_seq}"
    )


@app.command("leadership-digest")
@user_errors
def leadership_digest(
    today: str | None = typer.Option(None, "--today", help="Digest date YYYY-MM-DD (default: today)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be sent; send and record nothing."),
) -> None:
    """Send leadership's weekly summary once per week (ISO week): headline items, what changed since
    the last digest, what became overdue, with the briefing PDF attached. By e-mail to enabled
    viewers with an address when RECTRACK_SMTP_HOST is set, otherwise as files under RECTRACK_DIGEST_DIR."""
    from models.workflow.leadership_digest import send_leadership_digest

    day = _day(today, "--today") or date.today()
    outcome = send_leadership_digest(engine_ready(), day, dry_run=dry_run)
    typer.echo(outcome.line())
    if outcome.result == "failed":
        fail("the leadership digest could not be delivered; rerun to retry (nothing was recorded)")
