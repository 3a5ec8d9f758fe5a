"""``rectrack``: the command line, a thin layer over the domain functions.

Each command opens the store, calls one or two functions in ``models`` and prints the
result. A refusal becomes one line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from sqlalchemy.exc import OperationalError

from models.catalog_checks import CatalogError, load_catalog
from models.db import make_engine, read_session, write_session
from models.errors import DomainError
from models.settings import REPO_ROOT, get_settings
from models.store import is_initialised, upgrade

app = typer.Typer(help="Recommendation Tracker: track, update and audit defense-cooperation recommendations.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Create or upgrade the store's schema.", no_args_is_help=True)
user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


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


def _actor(session, username: str):
    from models.users import get_user

    return get_user(session, username)


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create the store, or bring its schema up to the latest migration."""
    upgrade()
    typer.echo(f"store is up to date: {get_settings().url.split('@')[-1]}")


def _seed() -> str:
    from models.seeding import seed_catalog
    from models.users import system_user

    settings = get_settings()
    catalog = load_catalog(settings.seeds_dir)
    engine = make_engine()
    with write_session(engine) as session:
        report = seed_catalog(session, catalog=catalog, actor=system_user(session))
    return str(report)


def _first_admin() -> None:
    from models.auth import bootstrap_admin

    with write_session(make_engine()) as session:
        password = bootstrap_admin(session)
    if password:
        typer.echo("first start: created the administrator account\n"
                   f"  username: admin\n  password: {password}\n"
                   "  (shown only this once; sign in and change it, or run: rectrack user reset-password admin)")


@app.command()
@user_errors
def seed() -> None:
    """Load the catalog in seeds/ (adds what is missing; never overwrites edits)."""
    upgrade()
    typer.echo(_seed())


@app.command()
@user_errors
def serve(port: int = typer.Option(8501, help="Port to serve on."),
          address: str = typer.Option("localhost", help="Address to bind."),
          headless: bool = typer.Option(True, help="Do not open a browser.")) -> None:
    """Start the dashboard (creating and seeding the store on first start)."""
    upgrade()
    typer.echo(_seed())
    _first_admin()
    cmd = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
           "--server.port", str(port), "--server.address", address, "--server.headless", str(headless).lower()]
    typer.echo(f"dashboard on http://{address}:{port}")
    raise typer.Exit(subprocess.call(cmd, cwd=REPO_ROOT, env=os.environ.copy()))


@app.command("list")
@user_errors
def list_cmd(status: Optional[str] = typer.Option(None, help="Only this status."),
             as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """List recommendations."""
    from models.queries import list_recommendations
    from models.vocabulary import STATUSES

    if status and status not in STATUSES:
        fail(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    with read_session(engine_ready()) as session:
        recs = list_recommendations(session, status=status)
    for r in recs:
        if as_json:
            typer.echo(r.model_dump_json())
        else:
            typer.echo(f"{r.key:<45} {r.status:<16} {r.title}")
    if not as_json:
        typer.echo(f"{len(recs)} recommendation(s)", err=True)


@app.command()
@user_errors
def show(key: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one recommendation with its citations, evidence and history."""
    from models.queries import recommendation_detail

    with read_session(engine_ready()) as session:
        d = recommendation_detail(session, key)
    if as_json:
        out = d.rec.model_dump(mode="json")
        out["citations"] = [c.label for c in d.citations]
        out["children"] = [c.key for c in d.children]
        out["obstacles"] = [o.key for o in d.obstacles]
        out["institutions"] = [i.key for i in d.institutions]
        out["evidence"] = [{"key": e["item"].key, "title": e["item"].title,
                            "files": [{"name": f.filename, "sha256": f.sha256} for f in e["files"]]} for e in d.evidence]
        out["history"] = [{**h, "recorded_at": h["recorded_at"].isoformat(), "effective_at": h["effective_at"].isoformat()}
                          for h in d.history]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    r = d.rec
    typer.echo(f"{r.key}: {r.title}\nstatus: {r.status} (version {r.version})\nowner: {r.owner}"
               f"{' (inferred)' if r.owner_inferred else ''}\ntheme: {r.theme}; kind: {r.kind}; who must act: {r.who_must_act}")
    if r.parent_key:
        typer.echo(f"part of: {r.parent_key}")
    typer.echo(f"\n{r.summary}\n")
    for c in d.citations:
        typer.echo(f"cites: {c.label}")
    for ch in d.children:
        typer.echo(f"sub-item: {ch.key} [{ch.status}] {ch.title}")
    for e in d.evidence:
        typer.echo(f"evidence: {e['item'].key}: {e['item'].title}")
    for h in d.history:
        typer.echo(f"{h['effective_at']:%Y-%m-%d} #{h['seq']} {h['actor']} {h['action']} -> {h['status_after']}: {h['reason']}")


def _stored_evidence(evidence: Optional[Path]) -> dict | None:
    """Copy a file given with --evidence into the evidence store (before the transaction)."""
    from models.evidence import store_file

    if evidence is None:
        return None
    if not evidence.is_file():
        fail(f"evidence file {str(evidence)!r} does not exist")
    with evidence.open("rb") as fh:
        return store_file(fh, evidence.name)


def _attach_stored(session, key: str, actor, reason: str, stored: dict | None) -> None:
    from models.recommendations import attach_evidence
    from models.schemas import EvidenceCreate

    if stored:
        attach_evidence(session, keys=[key], actor=actor, reason=reason, files=[stored],
                        evidence=EvidenceCreate(title=stored["filename"], kind="file"))


@app.command("set-status")
@user_errors
def set_status(key: str, status: str,
               reason: str = typer.Option(..., "--reason", help="Why the status changes (required)."),
               evidence: Optional[Path] = typer.Option(None, "--evidence", help="A file to attach as evidence first."),
               as_user: str = typer.Option(..., "--as", help="Username acting.")) -> None:
    """Move a recommendation to a new status, checked against the lifecycle rules."""
    from models.recommendations import get_recommendation, update_recommendation
    from models.schemas import RecommendationUpdate
    from models.vocabulary import STATUSES

    if status not in STATUSES:
        fail(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    if not reason.strip():
        fail("a reason is required for every change; pass --reason \"...\"")
    stored = _stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        actor = _actor(session, as_user)
        _attach_stored(session, key, actor, reason, stored)
        rec = get_recommendation(session, key)
        rec = update_recommendation(session, key=key, actor=actor,
                                    change=RecommendationUpdate(expected_version=rec.version, status=status, reason=reason))
    typer.echo(f"{key}: now {rec.status} (version {rec.version})")


@app.command("import")
@user_errors
def import_cmd(file: Path, as_user: str = typer.Option(..., "--as", help="Username acting.")) -> None:
    """Import new recommendations from a CSV file: all rows or none."""
    from models.importing import import_recommendations, parse_recommendations_csv

    if not file.is_file():
        fail(f"file {str(file)!r} does not exist")
    rows = parse_recommendations_csv(file.read_bytes())
    with write_session(engine_ready()) as session:
        created = import_recommendations(session, rows=rows, actor=_actor(session, as_user), filename=file.name)
    typer.echo(f"imported {len(created)} recommendation(s) from {file.name}")


@app.command()
@user_errors
def verify(bundle: Optional[Path] = typer.Option(None, "--bundle", help="Verify an exported zip offline (no database)."),
           files: bool = typer.Option(True, help="Also check every evidence file's SHA-256.")) -> None:
    """Check the trail's hash chain and evidence files, or a bundle offline; exit 0 only when all holds."""
    if bundle is not None:
        from models.exports import verify_bundle

        if not bundle.is_file():
            fail(f"bundle {str(bundle)!r} does not exist")
        report = verify_bundle(bundle)
        if not report.ok:
            for problem in report.problems[1:]:
                typer.echo(f"  also: {problem}", err=True)
            fail(f"bundle does not verify: {report.problems[0]}")
        head = report.manifest["chain_head"]
        typer.echo(f"bundle verified: {report.files_checked} files match the manifest; {report.events_included:,} "
                   f"events verified in a chain of {report.events_in_chain:,} ending at event {head['seq']} "
                   f"{head['hash'][:16]}…; exported {report.manifest['exported_at'][:19]} by {report.manifest['exporter']}")
        return
    from models.verification import verify_store

    with read_session(engine_ready()) as session:
        report = verify_store(session, check_files=files)
    if not report.ok:
        lines = report.lines()
        for extra in lines[1:]:
            typer.echo(f"  also: {extra}", err=True)
        fail(lines[0])
    typer.echo(f"trail {report.summary()}")


def _parse_day(value: Optional[str], name: str):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"--{name} {value!r} is not a date; use YYYY-MM-DD")


@app.command("export")
@user_errors
def export_cmd(out: Path = typer.Option(..., "--out", help="File to write (a .zip for --format bundle)."),
               fmt: str = typer.Option("bundle", "--format", help="csv, jsonl, html or bundle."),
               key: list[str] = typer.Option([], "--key", help="Only these recommendations (repeatable)."),
               owner: Optional[str] = typer.Option(None, help="Only recommendations this office owns."),
               since: Optional[str] = typer.Option(None, help="Events effective on or after YYYY-MM-DD."),
               until: Optional[str] = typer.Option(None, help="Events effective on or before YYYY-MM-DD."),
               as_user: str = typer.Option(..., "--as", help="Username acting (auditor or admin).")) -> None:
    """Export the evidence trail (scoped by recommendation, owner, period); the export is itself audited."""
    from models.exports import Scope, export

    scope = Scope(keys=tuple(key), owner=owner, since=_parse_day(since, "since"), until=_parse_day(until, "until"))
    engine = engine_ready()
    with read_session(engine) as session:
        actor = _actor(session, as_user)
    result = export(engine, fmt=fmt, scope=scope, actor=actor, out_path=out)
    typer.echo(f"wrote {result.path} ({result.fmt}, {result.events:,} events; chain head event {result.head[0]})")


@user_app.command("add")
@user_errors
def user_add(username: str, role: str = typer.Option(..., help="viewer, editor, auditor or admin."),
             office: Optional[str] = typer.Option(None, help="Owning office an editor updates for."),
             name: str = typer.Option("", help="Display name."),
             email: Optional[str] = typer.Option(None, help="E-mail the single sign-on identity maps to."),
             password_stdin: bool = typer.Option(False, "--password-stdin",
                                                 help="Read the password from standard input instead of generating one."),
             no_password: bool = typer.Option(False, "--no-password", help="Single sign-on only: no local password.")) -> None:
    """Add an account; prints a generated password once unless one is given on stdin."""
    from pydantic import ValidationError

    from models.auth import create_user, generate_password
    from models.users import system_user

    password = None if no_password else (sys.stdin.readline().rstrip("\n") if password_stdin else generate_password())
    try:
        with write_session(engine_ready()) as session:
            user = create_user(session, username=username, role=role, office=office, display_name=name,
                               email=email, password=password, actor=system_user(session))
    except ValidationError as e:
        err = e.errors()[0]
        fail(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    typer.echo(f"added {user.username} ({user.role})")
    if password and not password_stdin:
        typer.echo(f"password (shown once): {password}")


def _admin_action(fn, **kwargs):
    from models.users import system_user

    with write_session(engine_ready()) as session:
        return fn(session, actor=system_user(session), **kwargs)


@user_app.command("set-role")
@user_errors
def user_set_role(username: str, role: str) -> None:
    """Give an account another role."""
    from models.auth import set_role

    user = _admin_action(set_role, username=username, role=role)
    typer.echo(f"{user.username} is now {user.role}")


@user_app.command("set-office")
@user_errors
def user_set_office(username: str, office: str = typer.Argument("", help="Office name; empty for none.")) -> None:
    """Assign an editor to an owning office (they then update only its recommendations)."""
    from models.auth import set_office

    user = _admin_action(set_office, username=username, office=office)
    typer.echo(f"{user.username} office: {user.office or '(none)'}")


@user_app.command("disable")
@user_errors
def user_disable(username: str) -> None:
    """Disable an account: it can no longer sign in or act."""
    from models.auth import set_disabled

    _admin_action(set_disabled, username=username, disabled=True)
    typer.echo(f"{username} disabled")


@user_app.command("enable")
@user_errors
def user_enable(username: str) -> None:
    """Re-enable a disabled account."""
    from models.auth import set_disabled

    _admin_action(set_disabled, username=username, disabled=False)
    typer.echo(f"{username} enabled")


@user_app.command("reset-password")
@user_errors
def user_reset_password(username: str) -> None:
    """Set a new generated password (shown once) and lift any lockout."""
    from models.auth import reset_password

    password = _admin_action(reset_password, username=username)
    typer.echo(f"new password for {username} (shown once): {password}")


@user_app.command("list")
@user_errors
def user_list() -> None:
    """List accounts with role, office and state."""
    from sqlmodel import select

    from models.tables import User

    with read_session(engine_ready()) as session:
        for u in session.exec(select(User).where(User.role != "system").order_by(User.username)).all():
            state = "disabled" if u.disabled else "active"
            typer.echo(f"{u.username:<24} {u.role:<8} {state:<9} {u.office or ''}")


closure_app = typer.Typer(help="Two-step closure: an editor proposes, someone else verifies.", no_args_is_help=True)
app.add_typer(closure_app, name="closure")


@closure_app.command("propose")
@user_errors
def closure_propose(key: str, status: str = typer.Argument(..., help="implemented or not_implemented."),
                    reason: str = typer.Option(..., "--reason", help="Why it can be closed (required)."),
                    evidence: Optional[Path] = typer.Option(None, "--evidence", help="A file to attach first."),
                    as_user: str = typer.Option(..., "--as", help="Username acting (an editor).")) -> None:
    """Propose closing a recommendation; it waits for a verifier."""
    from models.closure import propose_closure
    from models.recommendations import get_recommendation

    stored = _stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        actor = _actor(session, as_user)
        _attach_stored(session, key, actor, reason, stored)
        rec = get_recommendation(session, key)
        propose_closure(session, key=key, target=status, reason=reason, expected_version=rec.version, actor=actor)
    typer.echo(f"{key}: closure as {status} proposed; waiting for a verifier")


def _decide(key: str, accept: bool, reason: str, as_user: str) -> None:
    from models.closure import decide_closure

    with write_session(engine_ready()) as session:
        rec = decide_closure(session, key=key, accept=accept, reason=reason, actor=_actor(session, as_user))
    typer.echo(f"{key}: closure {'accepted' if accept else 'returned'}; now {rec.status} (version {rec.version})")


@closure_app.command("accept")
@user_errors
def closure_accept(key: str, reason: str = typer.Option(..., "--reason", help="What you checked."),
                   as_user: str = typer.Option(..., "--as", help="Username acting (a verifier, not the proposer).")) -> None:
    """Accept a proposed closure: the recommendation closes, with its evidence hashes recorded."""
    _decide(key, True, reason, as_user)


@closure_app.command("return")
@user_errors
def closure_return(key: str, reason: str = typer.Option(..., "--reason", help="What is missing."),
                   as_user: str = typer.Option(..., "--as", help="Username acting (a verifier, not the proposer).")) -> None:
    """Return a proposed closure with a reason: the recommendation stays open."""
    _decide(key, False, reason, as_user)


# Commands of larger capabilities live in their own modules and register themselves here.
from models import cli_demo, cli_workflow  # noqa: E402

cli_demo.register(app)
cli_workflow.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
