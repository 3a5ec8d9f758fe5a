"""Round-trip bulk edits: export recommendations to CSV or Excel, edit, import the changes back.

The exported file has the editable columns (``status``, ``owner``, ``target_date``,
``progress``), the row ``version`` it was exported at, read-only context (``title``, ``theme``,
``kind``, ``who_must_act``, ``parent``) and an empty ``reason`` column. Importing it (read by
:mod:`models.workflow.edit_files`) applies
each changed row through :func:`models.rules.recommendations.update_recommendation`, the one write
path, so every rule holds: permissions, the lifecycle (closing still needs the two-step
verified closure), a reason for every change, and optimistic versions: a row whose
recommendation changed since the export is refused naming who changed it. A row the user did
not edit is left alone even if the store moved on since the export (its values are compared
with the values at the row's version, rebuilt from the trail), so an old file only conflicts
where it really disagrees.

The optional ``obstacles`` column is the set of obstacles blocking the record: keys added are
linked and keys removed unlinked through :mod:`models.rules.obstacles` (the same functions the
CLI calls), after the row's field change and in the same savepoint, so a row is applied whole or
not at all. Each link or unlink is its own audited event with the row's reason.

All rows or none by default: every row is checked and tried, each in a savepoint, and any
refusal raises :class:`EditsRefused` listing every problem by CSV line or worksheet row, so the
caller's write transaction rolls back. With ``partial=True`` the good rows are applied and the
refused ones reported. An unchanged file changes nothing: no events, no version bumps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.rules.lifecycle import RuleViolation
from models.rules.obstacles import link_obstacle, unlink_obstacle
from models.rules.offices import UnknownOffice
from models.rules.recommendations import update_recommendation
from models.store.errors import DomainError, NotFound, StaleVersion
from models.store.schemas import RecommendationUpdate
from models.store.tables import AuditEvent, Obstacle, Recommendation, RecommendationObstacle, User
from models.workflow.bulk_export import (
    EDITABLE,
    OBSTACLE_SEPARATOR,
    OBSTACLES,
    Progress,
)
from models.workflow.csv_import import RowProblem, RowsRefused
from models.workflow.edit_files import EditFile, EditRow


class EditsRefused(RowsRefused):
    """Rows the import refused; ``problems`` lists each with its line or row and field."""

    outcome = "nothing applied"


@dataclass
class AppliedEdit:
    number: int
    key: str
    changes: dict  # field -> (before, after)
    version: int  # the recommendation's version after the change


@dataclass
class EditReport:
    unit: str
    applied: list[AppliedEdit] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def summary(self, filename: str) -> str:
        return f"applied {len(self.applied)} change(s) from {filename}; {self.unchanged} row(s) unchanged" + (
            f"; {len(self.problems)} row(s) refused" if self.problems else ""
        )


def _snapshot(rec: Recommendation) -> dict:
    return {f: getattr(rec, f) for f in EDITABLE}


def _blocking(session: Session, keys: list[str]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for rk, ok in session.exec(
        select(Recommendation.key, Obstacle.key)
        .join(RecommendationObstacle, col(RecommendationObstacle.recommendation_id) == Recommendation.id)
        .join(Obstacle, col(Obstacle.id) == RecommendationObstacle.obstacle_id)
        .where(RecommendationObstacle.state == "blocking", col(Recommendation.key).in_(keys))
    ):
        out.setdefault(rk, set()).add(ok)
    return {k: frozenset(v) for k, v in out.items()}


def _values_at(
    session: Session, rec: Recommendation, version: int, blocking: frozenset[str] = frozenset()
) -> dict | None:
    """The editable values (and the blocking obstacles) as they were at ``version``, rebuilt by
    undoing later events; None if unknown."""
    values = _snapshot(rec)
    links = set(blocking)
    events = session.exec(
        select(AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.record_type == "recommendation", AuditEvent.record_key == rec.key)
        .order_by(col(AuditEvent.seq).desc())
    ).all()
    reached = rec.version
    for before, after in events:
        if reached <= version:
            break
        after_d, before_d = json.loads(after or "{}"), json.loads(before or "{}")
        if after_d.get("version") != reached:
            continue
        for k in EDITABLE:
            if k in before_d:
                values[k] = (
                    date.fromisoformat(before_d[k]) if k == "target_date" and before_d[k] else before_d[k]
                )
        if "obstacle" in before_d:  # a link, unlink or resolution (models.rules.obstacles)
            if before_d.get("obstacle_state") == "blocking":
                links.add(before_d["obstacle"])
            else:
                links.discard(before_d["obstacle"])
        reached = before_d.get("version", reached - 1)
    values[OBSTACLES] = frozenset(links)
    return values if reached == version else None


def _chunks(items: list, n: int = 500):
    for i in range(0, len(items), n):
        yield items[i : i + n]


def apply_edits(
    session: Session,
    *,
    parsed: EditFile,
    actor: User,
    partial: bool = False,
    progress: Progress | None = None,
) -> EditReport:
    """Apply the changed rows of an edit file in the caller's write transaction.

    Without ``partial``, any problem raises :class:`EditsRefused` (listing every one) so the caller's
    transaction rolls back and nothing is applied. ``progress(done, total)`` is called after each row.
    """
    report = EditReport(parsed.unit, problems=list(parsed.problems))
    unit = parsed.unit
    keys = sorted({r.key for r in parsed.rows})
    parent = aliased(Recommendation)
    store: dict[str, tuple[Recommendation, str]] = {}
    links: dict[str, frozenset[str]] = {}
    for chunk in _chunks(keys):
        for rec, parent_key in session.exec(
            select(Recommendation, parent.key)
            .join(parent, col(Recommendation.parent_id) == parent.id, isouter=True)
            .where(col(Recommendation.key).in_(chunk))
        ):
            store[rec.key] = (rec, parent_key or "")
        if any(r.obstacles is not None for r in parsed.rows):
            links.update(_blocking(session, chunk))
    first_seen: dict[str, int] = {}
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        problem = _apply_row(session, row, unit, store, links, first_seen, actor, report)
        if problem:
            report.problems.append(problem)
        if progress:
            progress(done, total)
    report.problems.sort(key=lambda p: p.number)
    if report.problems and not partial:
        raise EditsRefused(report.problems)
    return report


def _apply_row(
    session: Session,
    row: EditRow,
    unit: str,
    store: dict,
    links: dict,
    first_seen: dict,
    actor: User,
    report: EditReport,
) -> RowProblem | None:
    def refuse(name: str, message: str) -> RowProblem:
        return RowProblem(row.number, name, message, unit=unit)

    if row.key in first_seen:
        return refuse(
            "key", f"{row.key!r} appears twice (also on {unit} {first_seen[row.key]}); keep one row per key"
        )
    first_seen[row.key] = row.number
    if row.key not in store:
        return refuse(
            "key",
            f"unknown key {row.key!r}: no recommendation has it (this file edits existing "
            "recommendations; add new ones with rectrack import)",
        )
    rec, parent_key = store[row.key]
    current = {
        "title": rec.title,
        "theme": rec.theme,
        "kind": rec.kind,
        "who_must_act": rec.who_must_act,
        "parent": parent_key,
    }
    for column, value in row.context.items():
        if value != (current[column] or "").strip():
            return refuse(
                column,
                f"is read-only here and was changed (the file has {value!r}, the store has "
                f"{current[column]!r}); only status, owner, target_date and progress can be edited",
            )
    now = _snapshot(rec)
    diff = {k: v for k, v in row.values.items() if now[k] != v}
    blocking = links.get(row.key, frozenset())
    wanted = blocking if row.obstacles is None else row.obstacles
    to_link, to_unlink = sorted(wanted - blocking), sorted(blocking - wanted)
    if not diff and not to_link and not to_unlink:
        report.unchanged += 1
        return None
    if row.version != rec.version:
        at_export = _values_at(session, rec, row.version, blocking) if row.version < rec.version else None
        if (
            at_export is not None
            and all(at_export[k] == v for k, v in row.values.items())
            and at_export[OBSTACLES] == wanted
        ):
            report.unchanged += 1  # not edited in the file; the store moved on since the export
            return None
    changed = [*diff, *([OBSTACLES] if to_link or to_unlink else [])]
    if not row.reason:
        return refuse(
            "reason", f"is empty but the row changes {', '.join(changed)}; say why in the reason column"
        )
    try:
        change = (
            RecommendationUpdate(expected_version=row.version, reason=row.reason, **diff) if diff else None
        )
    except ValidationError as e:
        err = e.errors()[0]
        return refuse(".".join(map(str, err["loc"])) or "(row)", err["msg"])
    savepoint = session.begin_nested()
    expected, name = row.version, "(row)"
    try:
        if change is not None:
            expected = update_recommendation(session, key=row.key, change=change, actor=actor).version
        name = OBSTACLES
        for write, obstacle_key in [(unlink_obstacle, k) for k in to_unlink] + [
            (link_obstacle, k) for k in to_link
        ]:
            write(
                session,
                key=row.key,
                obstacle_key=obstacle_key,
                actor=actor,
                reason=row.reason,
                expected_version=expected,
            )
            expected = rec.version
        savepoint.commit()
    except StaleVersion as e:
        savepoint.rollback()
        return refuse("version", str(e))
    except DomainError as e:
        savepoint.rollback()
        if isinstance(e, NotFound) and name == OBSTACLES:
            return refuse(OBSTACLES, f"{e}; leave the keys the export listed, or add existing ones")
        if "status" in diff and isinstance(e, RuleViolation):
            name = "status"
        if isinstance(e, UnknownOffice):
            name = "owner"
        return refuse(name, str(e))
    changes = {k: (now[k], v) for k, v in diff.items()}
    if to_link or to_unlink:
        changes[OBSTACLES] = (
            OBSTACLE_SEPARATOR.join(sorted(blocking)) or None,
            OBSTACLE_SEPARATOR.join(sorted(wanted)) or None,
        )
    report.applied.append(AppliedEdit(row.number, row.key, changes, rec.version))
    return None
