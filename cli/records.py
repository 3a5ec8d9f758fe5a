"""``rectrack list``, ``show``, ``set-status`` and ``import``: reading and changing recommendations."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cli.common import actor_for, app, attach_stored, engine_ready, fail, stored_evidence, user_errors
from models.store.db import read_session, write_session


@app.command("list")
@user_errors
def list_cmd(
    status: str | None = typer.Option(None, help="Only this status."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """List recommendations."""
    from models.reads.records import list_recommendations
    from models.store.vocabulary import STATUSES

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
    from models.reads.plans import obstacles_of, steps_of
    from models.reads.records import recommendation_detail

    with read_session(engine_ready()) as session:
        d = recommendation_detail(session, key)
        links, steps = obstacles_of(session, key), steps_of(session, key)
    if as_json:
        out = d.rec.model_dump(mode="json")
        out["citations"] = [c.label for c in d.citations]
        out["children"] = [c.key for c in d.children]
        out["obstacles"] = [o.key for o in d.obstacles]
        out["obstacle_states"] = {o["key"]: o["state"] for o in links}
        out["steps"] = [{**st, "due_date": st["due_date"] and st["due_date"].isoformat()} for st in steps]
        out["institutions"] = [i.key for i in d.institutions]
        out["evidence"] = [
            {
                "key": e["item"].key,
                "title": e["item"].title,
                "files": [{"name": f.filename, "sha256": f.sha256} for f in e["files"]],
            }
            for e in d.evidence
        ]
        out["history"] = [
            {**h, "recorded_at": h["recorded_at"].isoformat(), "effective_at": h["effective_at"].isoformat()}
            for h in d.history
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    r = d.rec
    typer.echo(
        f"{r.key}: {r.title}\nstatus: {r.status} (version {r.version})\nowner: {r.owner}"
        f"{' (inferred)' if r.owner_inferred else ''}\ntheme: {r.theme}; kind: {r.kind}; who must act: {r.who_must_act}"
    )
    if r.parent_key:
        typer.echo(f"part of: {r.parent_key}")
    if r.responsible:  # named by a handover; the owner office stays
        typer.echo(f"responsible: {r.responsible}")
    typer.echo(f"\n{r.summary}\n")
    for c in d.citations:
        typer.echo(f"cites: {c.label}")
    for ch in d.children:
        typer.echo(f"sub-item: {ch.key} [{ch.status}] {ch.title}")
    for o in links:
        typer.echo(f"obstacle: {o['key']} [{o['state']}] {o['title']}")
    for st in steps:
        due = f" due {st['due_date']}" if st["due_date"] else ""
        typer.echo(f"step {st['position']}: [{st['status']}] {st['title']} ({st['office'] or '—'}{due})")
    for e in d.evidence:
        typer.echo(f"evidence: {e['item'].key}: {e['item'].title}")
    for h in d.history:
        typer.echo(
            f"{h['effective_at']:%Y-%m-%d} #{h['seq']} {h['actor']} {h['action']} -> {h['status_after']}: {h['reason']}"
        )


@app.command("set-status")
@user_errors
def set_status(
    key: str,
    status: str,
    reason: str = typer.Option(..., "--reason", help="Why the status changes (required)."),
    evidence: Path | None = typer.Option(None, "--evidence", help="A file to attach as evidence first."),
    as_user: str = typer.Option(..., "--as", help="Username acting."),
) -> None:
    """Move a recommendation to a new status, checked against the lifecycle rules."""
    from models.rules.recommendations import update_recommendation
    from models.rules.records import get_recommendation
    from models.store.schemas import RecommendationUpdate
    from models.store.vocabulary import STATUSES

    if status not in STATUSES:
        fail(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    if not reason.strip():
        fail('a reason is required for every change; pass --reason "..."')
    stored = stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        actor = actor_for(session, as_user)
        attach_stored(session, key, actor, reason, stored)
        rec = get_recommendation(session, key)
        rec = update_recommendation(
            session,
            key=key,
            actor=actor,
            change=RecommendationUpdate(expected_version=rec.version, status=status, reason=reason),
        )
    typer.echo(f"{key}: now {rec.status} (version {rec.version})")


@app.command("import")
@user_errors
def import_cmd(file: Path, as_user: str = typer.Option(..., "--as", help="Username acting.")) -> None:
    """Import new recommendations from a CSV file: all rows or none."""
    from models.workflow.csv_import import import_in_batches, parse_recommendations_csv

    if not file.is_file():
        fail(f"file {str(file)!r} does not exist")
    rows = parse_recommendations_csv(file.read_bytes())
    engine = engine_ready()
    with read_session(engine) as session:
        name = actor_for(session, as_user).username

    def progress(done: int, total: int) -> None:
        if total > done:  # a long import says how far it is, on stderr
            typer.echo(f"imported {done:,} of {total:,}…", err=True)

    created = import_in_batches(engine, rows=rows, actor_name=name, filename=file.name, progress=progress)
    typer.echo(f"imported {created} recommendation(s) from {file.name}")
