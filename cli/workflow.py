"""``rectrack remind``, ``export-recs`` and ``apply-edits``: daily reminder digests and round-trip
bulk edits."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import actor_for, app, engine_ready, fail, user_errors

PROGRESS_FROM_ROWS = 500  # files with at least this many rows show progress on stderr


@app.command()
@user_errors
def remind(
    today: str | None = typer.Option(None, "--today", help="Digest date YYYY-MM-DD (default: today)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the digests; send and record nothing."),
) -> None:
    """Send each owner's daily digest (overdue, due soon, stale, awaiting verification) once per day:
    by e-mail when RECTRACK_SMTP_HOST is set and the owner has addresses, otherwise as one file per
    owner per day under RECTRACK_DIGEST_DIR (default data/digests)."""
    from datetime import date

    from models.workflow.reminders import render_text, send_reminders

    day = date.today()
    if today:
        try:
            day = date.fromisoformat(today)
        except ValueError:
            fail(f"--today {today!r} is not a date; use YYYY-MM-DD")
    outcomes = send_reminders(engine_ready(), day, dry_run=dry_run)
    if not outcomes:
        typer.echo(f"no reminders for {day}: nothing overdue, due soon, stale or awaiting verification")
        return
    for o in outcomes:
        if dry_run and o.result.startswith("would_"):
            typer.echo(render_text(o.digest))
        typer.echo(o.line())
    counts = {
        r: sum(o.result == r for o in outcomes) for r in ("emailed", "written", "already_sent", "failed")
    }
    if dry_run:
        typer.echo(f"dry run: nothing sent or recorded for {day}")
    elif counts["already_sent"] == len(outcomes):
        typer.echo(f"nothing sent: every digest for {day} already went out")
    else:
        typer.echo(
            f"{counts['emailed']} e-mailed, {counts['written']} written to files, "
            f"{counts['already_sent']} already sent earlier for {day}"
        )
    if counts["failed"]:
        fail(
            f"{counts['failed']} digest(s) could not be delivered (see above); rerun to retry them, "
            "the ones delivered are not sent again"
        )


@app.command("export-recs")
@user_errors
def export_recs(
    out: Path = typer.Option(..., "--out", help="FILE.csv or FILE.xlsx to write."),
    status: str | None = typer.Option(None, help="Only this status."),
    owner: str | None = typer.Option(None, help="Only recommendations this office owns."),
) -> None:
    """Export recommendations to a CSV or Excel file for bulk editing (import it back with apply-edits)."""
    from models.store.db import read_session
    from models.workflow.bulk_export import export_edits_file

    with read_session(engine_ready()) as session:
        n = export_edits_file(session, out, status=status, owner=owner)
    typer.echo(f"wrote {n} recommendation(s) to {out}")


@app.command("apply-edits")
@user_errors
def apply_edits_cmd(
    file: Path = typer.Argument(..., help="An edited export-recs file (.csv or .xlsx)."),
    as_user: str = typer.Option(..., "--as", help="Username acting."),
    partial: bool = typer.Option(False, "--partial", help="Apply the good rows even if others are refused."),
) -> None:
    """Apply the changed rows of an edited export through the lifecycle rules: all rows or none unless --partial."""
    from models.store.db import write_session
    from models.workflow.bulk_edits import apply_edits
    from models.workflow.edit_files import parse_edit_file

    if not file.is_file():
        fail(f"file {str(file)!r} does not exist")
    parsed = parse_edit_file(file.read_bytes(), file.name)
    total = len(parsed.rows)
    step = max(total // 10, 1)

    def show(done: int, of: int) -> None:
        if done % step == 0 or done == of:
            typer.echo(f"  {done:,}/{of:,} rows checked", err=True)

    with write_session(engine_ready()) as session:
        report = apply_edits(
            session,
            parsed=parsed,
            actor=actor_for(session, as_user),
            partial=partial,
            progress=show if total >= PROGRESS_FROM_ROWS else None,
        )
    typer.echo(report.summary(file.name))
    for a in report.applied:
        changes = ", ".join(
            f"{k} {b if b is not None else '(none)'} -> {v if v is not None else '(none)'}"
            for k, (b, v) in a.changes.items()
        )
        typer.echo(f"  {report.unit} {a.number}: {a.key}: {changes} (version {a.version})")
    if report.problems:
        for p in report.problems[1:]:
            typer.echo(f"  also refused: {p}", err=True)
        fail(f"{len(report.problems)} row(s) refused and not applied (the others were): {report.problems[0]}")
