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


@app.command("set-status")
@user_errors
def set_status(key: str, status: str,
               reason: str = typer.Option(..., "--reason", help="Why the status changes (required)."),
               evidence: Optional[Path] = typer.Option(None, "--evidence", help="A file to attach as evidence first."),
               as_user: str = typer.Option(..., "--as", help="Username acting.")) -> None:
    """Move a recommendation to a new status, checked against the lifecycle rules."""
    from models.evidence import store_file
    from models.recommendations import attach_evidence, get_recommendation, update_recommendation
    from models.schemas import EvidenceCreate, RecommendationUpdate
    from models.vocabulary import STATUSES

    if status not in STATUSES:
        fail(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    if not reason.strip():
        fail("a reason is required for every change; pass --reason \"...\"")
    stored = None
    if evidence is not None:
        if not evidence.is_file():
            fail(f"evidence file {str(evidence)!r} does not exist")
        with evidence.open("rb") as fh:
            stored = store_file(fh, evidence.name)
    with write_session(engine_ready()) as session:
        actor = _actor(session, as_user)
        rec = get_recommendation(session, key)
        if stored:
            attach_evidence(session, keys=[key], actor=actor, reason=reason, files=[stored],
                            evidence=EvidenceCreate(title=stored["filename"], kind="file"))
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
def verify() -> None:
    """Check the audit trail's hash chain; exit 0 only when it holds."""
    from models.audit import verify_chain

    with read_session(engine_ready()) as session:
        problem = verify_chain(session)
    if problem:
        fail(f"trail broken at {problem}")
    typer.echo("trail verified: the hash chain holds")


@user_app.command("add")
@user_errors
def user_add(username: str, role: str = typer.Option(..., help="viewer, editor, auditor or admin."),
             office: Optional[str] = typer.Option(None, help="Owning office an editor updates for."),
             name: str = typer.Option("", help="Display name.")) -> None:
    """Add an account (run by the local operator)."""
    from pydantic import ValidationError

    from models.schemas import UserCreate
    from models.users import add_user, system_user

    try:
        data = UserCreate(username=username, role=role, office=office, display_name=name)
    except ValidationError as e:
        err = e.errors()[0]
        fail(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    with write_session(engine_ready()) as session:
        user = add_user(session, data=data, actor=system_user(session))
    typer.echo(f"added {user.username} ({user.role})")


if __name__ == "__main__":  # pragma: no cover
    app()
