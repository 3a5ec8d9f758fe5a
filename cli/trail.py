"""``rectrack verify``, ``export``, ``checkpoint`` and ``key show``: checking the evidence trail,
exporting it, signing its head, and giving auditors the public key that checks the signatures."""

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
    checkpoints: list[Path] = typer.Option(
        [],
        "--checkpoints",
        help="A folder of checkpoint files kept elsewhere, checked instead of the data dir's (repeatable).",
    ),
    key: Path | None = typer.Option(
        None,
        "--key",
        help="A public key (PEM, from rectrack key show) to trust instead of this installation's.",
    ),
    fingerprint: str | None = typer.Option(
        None, "--fingerprint", help="With --bundle: the SHA-256 fingerprint of the key to trust (hex)."
    ),
) -> None:
    """Check the trail's hash chain, signed checkpoints, evidence files and every row against the
    trail, or a bundle offline; exit 0 only when all holds."""
    if bundle is not None:
        _verify_bundle(bundle, key, fingerprint)
        return
    from models.trail.verdicts import full_verdict
    from models.trail.verify import verify_store

    trusted = [_public_key(key)] if key is not None else None
    with read_session(engine_ready()) as session:
        report = verify_store(
            session, check_files=files, checkpoint_dirs=checkpoints or None, trusted_keys=trusted
        )
        if (
            files and not checkpoints and key is None
        ):  # the trail page reads this verdict instead of verifying the store itself
            full_verdict(session, report, by="rectrack verify")
    if not report.ok:
        lines = report.lines()
        for extra in lines[1:]:
            typer.echo(f"  also: {extra}", err=True)
        fail(lines[0])
    typer.echo(f"trail {report.summary()}")


def _verify_bundle(bundle: Path, key: Path | None, fingerprint: str | None) -> None:
    from models.trail.bundle_verify import verify_bundle

    if not bundle.is_file():
        fail(f"bundle {str(bundle)!r} does not exist")
    report = verify_bundle(
        bundle, trusted_key=_public_key(key) if key else None, trusted_fingerprint=fingerprint
    )
    if not report.ok:
        for problem in report.problems[1:]:
            typer.echo(f"  also: {problem}", err=True)
        fail(f"bundle does not verify: {report.problems[0]}")
    m, head = report.manifest, report.manifest["chain_head"]
    typer.echo(
        f"bundle verified: {report.files_checked} files match the signed manifest; {report.events_included:,} "
        f"events verified in a chain of {report.events_in_chain:,} ending at event {head['seq']} "
        f"{head['hash'][:16]}…; {', '.join(report.regenerated)} regenerated from the events byte for byte; "
        f"{report.evidence_checked} evidence file(s) hash to what their events recorded; exported "
        f"{m['exported_at'][:19]} by {m['exporter']}"
    )
    if report.not_covered:
        typer.echo(
            f"not covered (signed, but not checked against the events): {', '.join(report.not_covered)}"
        )
    typer.echo(report.authenticity())


def _public_key(path: Path):
    from models.trail.keys import load_public_pem

    if not path.is_file():
        fail(f"public key {str(path)!r} does not exist")
    return load_public_pem(path.read_bytes())


@app.command()
@user_errors
def checkpoint() -> None:
    """Sign the chain head now, write it under the data dir's checkpoints/ and, when SMTP is set, mail
    it to the auditors (meant for cron, after rectrack verify: `rectrack verify && rectrack checkpoint`)."""
    from models.trail.checkpoints import write_checkpoint
    from models.workflow.checkpoint_mail import mail_checkpoint
    from models.workflow.mail import MailError

    with read_session(engine_ready()) as session:
        written = write_checkpoint(session, why="rectrack checkpoint")
        if written is None:
            typer.echo("the trail is empty: nothing to sign yet")
            return
        typer.echo(
            f"checkpoint {written.path}: event {written.seq} {written.head_hash[:16]}… signed with key "
            f"{written.fingerprint[:16]}…"
        )
        try:
            to = mail_checkpoint(session, written)
        except MailError as e:
            fail(f"the checkpoint was written but not mailed to the auditors: {e}")
    if to:
        typer.echo(f"mailed to {len(to)} auditor(s): {', '.join(to)}")


key_app = typer.Typer(help="The installation's signing key.", no_args_is_help=True)
app.add_typer(key_app, name="key")


@key_app.command("show")
@user_errors
def key_show() -> None:
    """Print the installation's public key (PEM) and its SHA-256 fingerprint, for auditors to keep
    (the key is created on first use; the private half never leaves its 0600 file)."""
    from models.trail.keys import fingerprint, installation_public, public_pem

    public = installation_public()
    typer.echo(public_pem(public), nl=False)
    typer.echo(f"fingerprint (SHA-256): {fingerprint(public)}")


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
    for warning in result.warnings:
        typer.echo(f"warning: {warning}; no checkpoint was signed", err=True)
