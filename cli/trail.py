"""``rectrack verify`` and ``export``: checking the evidence trail and exporting it."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import actor_for, app, engine_ready, fail, user_errors
from models.store.db import read_session


@app.command()
@user_errors
def verify(
    bundle: Path | None = typer.Option(
        None, "--bundle", help="Verify an exported zip offline (no database)."
    ),
    files: bool = typer.Option(True, help="Also check every evidence file's SHA-256."),
) -> None:
    """Check the trail's hash chain and evidence files, or a bundle offline; exit 0 only when all holds."""
    if bundle is not None:
        from models.trail.bundle import verify_bundle

        if not bundle.is_file():
            fail(f"bundle {str(bundle)!r} does not exist")
        report = verify_bundle(bundle)
        if not report.ok:
            for problem in report.problems[1:]:
                typer.echo(f"  also: {problem}", err=True)
            fail(f"bundle does not verify: {report.problems[0]}")
        head = report.manifest["chain_head"]
        typer.echo(
            f"bundle verified: {report.files_checked} files match the manifest; {report.events_included:,} "
            f"events verified in a chain of {report.events_in_chain:,} ending at event {head['seq']} "
            f"{head['hash'][:16]}…; exported {report.manifest['exported_at'][:19]} by {report.manifest['exporter']}"
        )
        return
    from models.trail.verdicts import full_verdict
    from models.trail.verify import verify_store

    with read_session(engine_ready()) as session:
        report = verify_store(session, check_files=files)
        if files:  # the trail page reads this verdict instead of verifying the store itself
            full_verdict(session, report, by="rectrack verify")
    if not report.ok:
        lines = report.lines()
        for extra in lines[1:]:
            typer.echo(f"  also: {extra}", err=True)
        fail(lines[0])
    typer.echo(f"trail {report.summary()}")


def _parse_day(value: str | None, name: str):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--{name} {value!r} is not a date; use YYYY-MM-DD")


@app.command("export")
@user_errors
def export_cmd(
    out: Path = typer.Option(..., "--out", help="File to write (a .zip for --format bundle)."),
    fmt: str = typer.Option("bundle", "--format", help="csv, jsonl, html or bundle."),
    key: list[str] = typer.Option([], "--key", help="Only these recommendations (repeatable)."),
    owner: str | None = typer.Option(None, help="Only recommendations this office owns."),
    since: str | None = typer.Option(None, help="Events effective on or after YYYY-MM-DD."),
    until: str | None = typer.Option(None, help="Events effective on or before YYYY-MM-DD."),
    as_user: str = typer.Option(..., "--as", help="Username acting (auditor or admin)."),
) -> None:
    """Export the evidence trail (scoped by recommendation, owner, period); the export is itself audited."""
    from models.trail.export_formats import Scope
    from models.trail.exports import export

    scope = Scope(
        keys=tuple(key), owner=owner, since=_parse_day(since, "since"), until=_parse_day(until, "until")
    )
    engine = engine_ready()
    with read_session(engine) as session:
        actor = actor_for(session, as_user)
    result = export(engine, fmt=fmt, scope=scope, actor=actor, out_path=out)
    typer.echo(
        f"wrote {result.path} ({result.fmt}, {result.events:,} events; chain head event {result.head[0]})"
    )
