"""Events that record an action on the trail itself rather than a change to a record: an export
(written before the export, so the export holds its own record), a leadership briefing (recorded with
the PDF's hash as the file is put in place) and a reminder digest sent."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from models.rules.permissions import require
from models.store.tables import AuditEvent, ReminderLog, User
from models.trail.chain import append_event

REMINDER_ACTOR = "reminders"  # the trail's actor for digests sent by `rectrack remind`


def record_export(session: Session, *, actor: User, fmt: str, scope: dict) -> AuditEvent:
    require(actor, "trail.export")
    return append_event(
        session,
        actor=actor.username,
        action="export",
        record_type="export",
        record_key=fmt,
        reason=f"{fmt} export of the trail",
        after={"format": fmt, "scope": scope},
    )


def record_briefing(
    session: Session, *, actor: User, scope: dict, sha256: str, pages: int, destination: str
) -> AuditEvent:
    """A leadership briefing produced: who, for what scope and dates, and the PDF's hash and pages,
    so a copy in circulation can be matched to its record. Anyone who may read may brief."""
    require(actor, "briefing.export")
    return append_event(
        session,
        actor=actor.username,
        action="export",
        record_type="export",
        record_key="briefing",
        reason=f"leadership briefing (PDF) of {scope.get('scope')}, as of {scope.get('as_of')}",
        after={
            "format": "briefing",
            "scope": scope,
            "sha256": sha256,
            "pages": pages,
            "destination": destination[:500],
        },
    )


def record_digest_sent(
    session: Session,
    *,
    key: str,
    label: str,
    digest_date: date,
    channel: str,
    destination: str,
    items: int,
    details: dict,
    period: str = "daily",
) -> None:
    """One digest delivered: a log row (unique per digest and day, so it never goes out twice) and
    its event. Sent by the reminder job, not a person, so there is no role to check."""
    session.add(
        ReminderLog(
            owner=key, digest_date=digest_date, channel=channel, destination=destination[:500], items=items
        )
    )
    append_event(
        session,
        actor=REMINDER_ACTOR,
        action="reminder_sent",
        record_type="reminder",
        record_key=key[:80],
        reason=f"{period} reminder digest for {label}",
        after={
            **details,
            "digest_date": digest_date,
            "channel": channel,
            "destination": destination,
            "items": items,
        },
    )
    session.flush()
