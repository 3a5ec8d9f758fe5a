"""``rectrack obstacle ...`` and ``rectrack step ...``: the obstacles an officer maintains and the
steps of a recommendation's action plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cli.common import actor_for, app, engine_ready, fail, stored_evidence, user_errors
from models.store.db import read_session, write_session

obstacle_app = typer.Typer(help="Record obstacles and link, unlink or resolve them.", no_args_is_help=True)
app.add_typer(obstacle_app, name="obstacle")
step_app = typer.Typer(help="The steps of a recommendation's action plan.", no_args_is_help=True)
app.add_typer(step_app, name="step")

AS = typer.Option(..., "--as", help="Username acting.")
REASON = typer.Option(..., "--reason", help="Why (required).")


def _valid(model, **values):
    """The schema's own check, its first complaint as one line naming the field."""
    from pydantic import ValidationError

    try:
        return model(**values)
    except ValidationError as e:
        err = e.errors()[0]
        fail(f"{'.'.join(map(str, err['loc'])) or 'input'}: {err['msg']}")


def _lines(lines: str) -> tuple[int, int]:
    start, _, end = lines.partition("-")
    try:
        return int(start), int(end or start)
    except ValueError:
        fail(f"--lines {lines!r}: give the line range as START-END, e.g. 120-134")


def _evidence_key(session, key: str, actor, reason: str, stored: dict | None) -> str | None:
    """Attach a file given with --evidence to ``key`` and return the new item's key."""
    from models.rules.recommendations import attach_evidence
    from models.store.schemas import EvidenceCreate

    if not stored:
        return None
    item = attach_evidence(
        session,
        keys=[key],
        actor=actor,
        reason=reason,
        files=[stored],
        evidence=EvidenceCreate(title=stored["filename"], kind="file"),
    )
    return item.key


@obstacle_app.command("add")
@user_errors
def obstacle_add(
    key: str,
    title: str = typer.Option(..., help="What stands in the way, in a line."),
    category: str = typer.Option(..., help="historical, legal_constitutional, institutional, political, ..."),
    side: str = typer.Option(..., help="Whose side it is on: us, mexico, colombia, canada, both, ..."),
    summary: str = typer.Option(..., help="A few sentences in your own words."),
    source: str | None = typer.Option(None, help="Source id of the passage that attests it."),
    section: str | None = typer.Option(None, help="Section of that source."),
    lines: str | None = typer.Option(None, help="Line range in that source, START-END."),
    evidence: Path | None = typer.Option(None, "--evidence", help="Your evidence file (needs --link)."),
    evidence_key: str | None = typer.Option(
        None, "--evidence-key", help="An evidence item already attached."
    ),
    link: str | None = typer.Option(None, "--link", help="Also link it to this recommendation."),
    reason: str = REASON,
    as_user: str = AS,
) -> None:
    """Record a new obstacle with a source citation or your evidence (and optionally link it)."""
    from models.rules.obstacles import create_obstacle, link_obstacle
    from models.store.schemas import ObstacleCreate

    data = _valid(ObstacleCreate, key=key, title=title, category=category, side=side, summary=summary)
    citations = []
    if source or section or lines:
        if not (source and section and lines):
            fail("a citation needs --source, --section and --lines together")
        start, end = _lines(lines)
        citations.append({"source_id": source, "section": section, "line_start": start, "line_end": end})
    if evidence and not link:
        fail("--evidence attaches the file to a recommendation: give --link KEY too, or use --evidence-key")
    stored = stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        actor = actor_for(session, as_user)
        evidence_key = _evidence_key(session, link, actor, reason, stored) or evidence_key
        ob = create_obstacle(
            session, data=data, actor=actor, reason=reason, citations=citations, evidence_key=evidence_key
        )
        if link:
            link_obstacle(session, key=link, obstacle_key=ob.key, actor=actor, reason=reason)
    typer.echo(f"obstacle {ob.key} recorded" + (f" and linked to {link}" if link else ""))


@obstacle_app.command("link")
@user_errors
def obstacle_link(key: str, obstacle: str, reason: str = REASON, as_user: str = AS) -> None:
    """Record that OBSTACLE blocks recommendation KEY."""
    from models.rules.obstacles import link_obstacle

    with write_session(engine_ready()) as session:
        link_obstacle(
            session, key=key, obstacle_key=obstacle, actor=actor_for(session, as_user), reason=reason
        )
    typer.echo(f"{obstacle} now blocks {key}")


@obstacle_app.command("unlink")
@user_errors
def obstacle_unlink(key: str, obstacle: str, reason: str = REASON, as_user: str = AS) -> None:
    """Take OBSTACLE off recommendation KEY (the trail keeps the link)."""
    from models.rules.obstacles import unlink_obstacle

    with write_session(engine_ready()) as session:
        unlink_obstacle(
            session, key=key, obstacle_key=obstacle, actor=actor_for(session, as_user), reason=reason
        )
    typer.echo(f"{obstacle} unlinked from {key}")


@obstacle_app.command("resolve")
@user_errors
def obstacle_resolve(
    key: str,
    obstacle: str,
    no_longer_blocking: bool = typer.Option(
        False,
        "--no-longer-blocking",
        help="It still exists but no longer blocks this one (default: resolved).",
    ),
    evidence: Path | None = typer.Option(None, "--evidence", help="A file that shows it, attached to KEY."),
    evidence_key: str | None = typer.Option(
        None, "--evidence-key", help="An evidence item of KEY that shows it."
    ),
    reason: str = REASON,
    as_user: str = AS,
) -> None:
    """Mark OBSTACLE resolved (or no longer blocking) for recommendation KEY, with evidence."""
    from models.rules.obstacles import resolve_obstacle

    if not evidence and not evidence_key:
        fail("resolving needs evidence: pass --evidence FILE or --evidence-key KEY")
    stored = stored_evidence(evidence)
    state = "no_longer_blocking" if no_longer_blocking else "resolved"
    with write_session(engine_ready()) as session:
        actor = actor_for(session, as_user)
        evidence_key = _evidence_key(session, key, actor, reason, stored) or evidence_key
        resolve_obstacle(
            session,
            key=key,
            obstacle_key=obstacle,
            actor=actor,
            reason=reason,
            evidence_key=evidence_key,
            state=state,
        )
    typer.echo(f"{obstacle} is {state.replace('_', ' ')} for {key}")


@obstacle_app.command("list")
@user_errors
def obstacle_list(
    key: str | None = typer.Argument(None, help="A recommendation: its obstacles and their standing."),
    search: str = typer.Option("", help="Only obstacles whose key or title holds this."),
) -> None:
    """List obstacles (at most 50 matching SEARCH), or one recommendation's with their standing."""
    from models.reads.plans import find_obstacles, obstacles_of

    with read_session(engine_ready()) as session:
        if key:
            for o in obstacles_of(session, key):
                typer.echo(f"{o['key']:<45} {o['state']:<20} {o['title']}")
            return
        for o in find_obstacles(session, search, limit=50):
            typer.echo(f"{o['key']:<45} {o['category']:<22} {o['title']}")


@step_app.command("add")
@user_errors
def step_add(
    key: str,
    title: str = typer.Option(..., help="The step, in a line."),
    office: str = typer.Option("", help="The office responsible for it."),
    due: str | None = typer.Option(None, help="Due date, YYYY-MM-DD."),
    status: str = typer.Option("not_started", help="not_started, in_progress, done or dropped."),
    reason: str = REASON,
    as_user: str = AS,
) -> None:
    """Add a step to recommendation KEY's action plan."""
    from models.rules.steps import add_step
    from models.store.schemas import StepCreate

    step = _valid(StepCreate, title=title, office=office, due_date=_day(due), status=status)
    with write_session(engine_ready()) as session:
        row = add_step(session, key=key, step=step, actor=actor_for(session, as_user), reason=reason)
        rec_progress = _progress(session, key)
    typer.echo(f"{key}: step {row.position} added; progress {rec_progress}%")


@step_app.command("set")
@user_errors
def step_set(
    key: str,
    position: int,
    status: str | None = typer.Option(None, help="not_started, in_progress, done or dropped."),
    title: str | None = typer.Option(None, help="A new title."),
    office: str | None = typer.Option(None, help="A new responsible office."),
    due: str | None = typer.Option(None, help="A new due date, YYYY-MM-DD."),
    evidence: Path | None = typer.Option(None, "--evidence", help="A file that shows it, attached to KEY."),
    reason: str = REASON,
    as_user: str = AS,
) -> None:
    """Change step POSITION of recommendation KEY (status, due date, office, title)."""
    from models.rules.steps import update_step
    from models.store.schemas import StepUpdate

    given = {k: v for k, v in {"status": status, "title": title, "office": office}.items() if v is not None}
    if due is not None:
        given["due_date"] = _day(due)
    stored = stored_evidence(evidence)
    with write_session(engine_ready()) as session:
        from models.reads.plans import steps_of

        actor = actor_for(session, as_user)
        current = {s["position"]: s for s in steps_of(session, key)}
        if position not in current:
            fail(f"{key!r} has no step {position}; it has {len(current)} step(s)")
        change = _valid(StepUpdate, expected_version=current[position]["version"], reason=reason, **given)
        ev = _evidence_key(session, key, actor, reason, stored)
        update_step(session, key=key, position=position, change=change, actor=actor, evidence_key=ev)
        progress = _progress(session, key)
    typer.echo(f"{key}: step {position} saved; progress {progress}%")


@step_app.command("from-steps")
@user_errors
def step_from_steps(key: str, reason: str = REASON, as_user: str = AS) -> None:
    """Let KEY's progress come from its steps again after an officer had set it by hand."""
    from models.rules.steps import use_step_progress

    with write_session(engine_ready()) as session:
        use_step_progress(session, key=key, actor=actor_for(session, as_user), reason=reason)
        progress = _progress(session, key)
    typer.echo(f"{key}: progress now comes from its steps ({progress}%)")


def _day(text: str | None) -> date | None:
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"date {text!r}: write it as YYYY-MM-DD")


def _progress(session, key: str) -> int:
    from models.rules.records import get_recommendation

    return get_recommendation(session, key).progress
