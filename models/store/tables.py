"""The store: SQLModel table classes.

Input and output shapes live in :mod:`models.store.schemas`; these classes add ids, keys, foreign
keys, versions and timestamps. Columns that charts group by (status, theme, owner, event
action) are real indexed columns so summaries aggregate in SQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import DateTime, Index, MetaData, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic migrations work alike on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on the way in and out, also on SQLite (which stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kw):
    return Field(sa_type=UTCDateTime, **kw)


def _long(**kw):
    return Field(sa_type=Text, **kw)


class Source(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=80)
    short: str = Field(max_length=80)
    title: str = Field(max_length=300)
    author: str = Field(max_length=300)
    publisher: str = Field(max_length=300)
    published: str = Field(max_length=10)
    file: str = Field(max_length=200)
    reproduction: str = Field(max_length=40)
    coverage_note: str | None = _long(default=None)


class Office(SQLModel, table=True):
    """An office that can own recommendations. ``Recommendation.owner`` holds an office's ``name``, so
    every owner filter and chart groups one office under one spelling (migration 0011)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=300, unique=True)
    created_at: datetime = _ts(default_factory=utcnow)
    created_by: str = Field(default="", max_length=80)


class Recommendation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    summary: str = _long()
    kind: str = Field(max_length=40, index=True)
    confidence: str = Field(max_length=10)
    theme: str = Field(max_length=60, index=True)
    who_must_act: str = Field(max_length=20, index=True)
    owner: str = Field(max_length=300, index=True)
    owner_inferred: bool = True
    # the person answering for the record, named by a handover (models.rules.handover); the owner
    # stays the office (migration 0012)
    responsible: str | None = Field(default=None, max_length=80, index=True)
    parent_id: int | None = Field(default=None, foreign_key="recommendation.id", index=True)
    primary_source_id: str | None = Field(default=None, foreign_key="source.id", index=True)
    status: str = Field(default="proposed", max_length=20, index=True)
    target_date: date | None = None
    progress: int = Field(default=0, ge=0, le=100)
    # True once an officer sets progress by hand; until then it is derived from the action plan's
    # steps by count (done / (all - dropped)), see models.rules.steps (migration 0009)
    progress_explicit: bool = Field(default=False)
    # leadership's priority list (who set it, when and why is the trail's) and, for each item,
    # the owner's short statement of what it takes to close it (migration 0006)
    priority: bool = Field(default=False, index=True)
    close_plan: str | None = Field(default=None, max_length=1000)
    origin: str = Field(default="user", max_length=20)
    version: int = Field(default=1)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow, index=True)
    updated_by: str = Field(default="", max_length=80)


class Citation(SQLModel, table=True):
    """Where a record comes from: one row per (record, source passage)."""

    __table_args__ = (Index("ix_citation_record", "record_type", "record_id"),)
    id: int | None = Field(default=None, primary_key=True)
    record_type: str = Field(max_length=30)
    record_id: int
    source_id: str = Field(foreign_key="source.id", index=True)
    section: str = Field(max_length=300)
    line_start: int
    line_end: int


class Obstacle(SQLModel, table=True):
    """An obstacle from the catalog (``origin`` catalog) or recorded by an officer (``user``, with
    a citation or the officer's evidence item); officers' obstacles are versioned like records."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    summary: str | None = _long(default=None)
    category: str = Field(max_length=40, index=True)
    side: str = Field(max_length=20)
    origin: str = Field(default="catalog", max_length=20)
    evidence_id: int | None = Field(default=None, foreign_key="evidenceitem.id")
    created_by: str = Field(default="", max_length=80)
    version: int = Field(default=1)


class RecommendationObstacle(SQLModel, table=True):
    """An obstacle blocking one recommendation; ``state`` becomes resolved or no_longer_blocking
    (with the evidence that shows it) for that recommendation alone. Unlinking deletes the row;
    the trail keeps every link, unlink and resolution (migration 0009)."""

    recommendation_id: int = Field(foreign_key="recommendation.id", primary_key=True)
    obstacle_id: int = Field(foreign_key="obstacle.id", primary_key=True, index=True)
    state: str = Field(default="blocking", max_length=20, index=True)
    evidence_id: int | None = Field(default=None, foreign_key="evidenceitem.id")


class ActionStep(SQLModel, table=True):
    """One step of a recommendation's action plan (UNDP's "key actions"); ``position`` numbers the
    steps of one recommendation from 1 and names them in the trail (migration 0009)."""

    __table_args__ = (UniqueConstraint("recommendation_id", "position", name="uq_actionstep_position"),)
    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(foreign_key="recommendation.id", index=True)
    position: int
    title: str = Field(max_length=300)
    office: str = Field(default="", max_length=300)
    due_date: date | None = Field(default=None, index=True)
    status: str = Field(default="not_started", max_length=20, index=True)
    evidence_id: int | None = Field(default=None, foreign_key="evidenceitem.id")
    version: int = Field(default=1)
    updated_at: datetime = _ts(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=80)


class Institution(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=300)
    acronym: str | None = Field(default=None, max_length=40)
    kind: str = Field(max_length=30)
    country: str = Field(max_length=20)
    summary: str | None = _long(default=None)


class RecommendationInstitution(SQLModel, table=True):
    recommendation_id: int = Field(foreign_key="recommendation.id", primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", primary_key=True, index=True)


class EvidenceItem(SQLModel, table=True):
    """A piece of evidence; never edited in place (a correction supersedes it)."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    summary: str = _long(default="")
    kind: str = Field(max_length=20)  # source_report | file | citation
    observed_on: date | None = None
    observed_precision: str = Field(default="day", max_length=5)
    status_claim: str | None = Field(default=None, max_length=20)
    supersedes_id: int | None = Field(default=None, foreign_key="evidenceitem.id")
    created_at: datetime = _ts(default_factory=utcnow)
    created_by: str = Field(max_length=80)


class EvidenceLink(SQLModel, table=True):
    evidence_id: int = Field(foreign_key="evidenceitem.id", primary_key=True)
    recommendation_id: int = Field(foreign_key="recommendation.id", primary_key=True, index=True)


class EvidenceFile(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    evidence_id: int = Field(foreign_key="evidenceitem.id", index=True)
    filename: str = Field(max_length=255)
    stored_path: str = Field(max_length=300)  # relative to the data dir
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int
    media_type: str = Field(max_length=100)
    uploaded_at: datetime = _ts(default_factory=utcnow)


class Indicator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=300)
    unit: str = Field(max_length=100)
    country: str = Field(max_length=20)
    category: str = Field(max_length=100)
    description: str | None = _long(default=None)
    parent_id: int | None = Field(default=None, foreign_key="indicator.id")


class IndicatorValue(SQLModel, table=True):
    """One cited figure. Two rows for one (indicator, period, country) from different passages
    are a recorded conflict, never merged."""

    __table_args__ = (
        UniqueConstraint(
            "indicator_id", "period", "country", "source_id", "line_start", name="uq_indicatorvalue_cited"
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    period: str = Field(max_length=100)
    year: int | None = None  # None where the source gives no year
    value: float
    country: str = Field(max_length=20)
    source_id: str = Field(foreign_key="source.id")
    section: str = Field(max_length=300)
    line_start: int
    line_end: int
    note: str | None = _long(default=None)
    conflict_note: str | None = _long(default=None)


class TimelineEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True, index=True)
    occurred_on: date = Field(index=True)
    precision: str = Field(max_length=5)
    title: str = Field(max_length=300)
    summary: str | None = _long(default=None)
    country: str = Field(max_length=20, index=True)
    category: str = Field(max_length=100)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=254, unique=True)
    role: str = Field(max_length=20)
    office: str | None = Field(default=None, max_length=300)
    password_hash: str | None = Field(default=None, max_length=300)
    disabled: bool = False
    can_verify: bool = False  # a designated verifier of closures (auditors and admins always may)
    failed_logins: int = 0
    first_failed_at: datetime | None = _ts(default=None)
    locked_until: datetime | None = _ts(default=None)
    last_login_at: datetime | None = _ts(default=None)
    created_at: datetime = _ts(default_factory=utcnow)
    version: int = 1


class SigninThrottle(SQLModel, table=True):
    """Failed sign-ins counted per client (``client <address>``) and per account at one client
    (``pair <address> <username>``), so one client's guesses pause that client, never the account
    for everyone else (see :mod:`models.rules.auth`). Rows past their window are pruned."""

    key: str = Field(primary_key=True, max_length=400)
    failures: int = 0
    first_failed_at: datetime | None = _ts(default=None)
    blocked_until: datetime | None = _ts(default=None)


class WebSession(SQLModel, table=True):
    """A signed-in browser, so a reload, a new tab or a pasted link stays signed in.

    Only hashes are stored: ``claim_hash`` of the one-time code the page hands the browser right
    after sign-in, then ``token_hash`` of the cookie the server sets in exchange for it (see
    :mod:`models.rules.web_sessions`). Ending a session (sign-out, disabled account, new password,
    idle or absolute expiry) sets ``ended_at``; the row stays until it is pruned."""

    id: str = Field(primary_key=True, max_length=32)
    username: str = Field(max_length=80, index=True)
    claim_hash: str | None = Field(default=None, max_length=64, unique=True)
    claim_expires_at: datetime | None = _ts(default=None)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    expires_at: datetime = _ts()
    ended_at: datetime | None = _ts(default=None)
    ended_why: str | None = Field(default=None, max_length=40)
    client: str | None = Field(default=None, max_length=200)


class ClosureProposal(SQLModel, table=True):
    """An editor's proposal to close a recommendation, waiting for someone else to verify it."""

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(foreign_key="recommendation.id", index=True)
    target_status: str = Field(max_length=20)
    state: str = Field(
        default="pending", max_length=10, index=True
    )  # pending | accepted | returned | withdrawn
    proposed_by: str = Field(max_length=80)
    proposed_at: datetime = _ts(default_factory=utcnow)
    reason: str = _long()
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = _ts(default=None)
    decision_reason: str | None = _long(default=None)
    evidence_hashes: str | None = _long(default=None)  # canonical JSON of the evidence in force at acceptance


class ReminderLog(SQLModel, table=True):
    """One digest per owner per day: sending is recorded so it never goes out twice."""

    __table_args__ = (UniqueConstraint("owner", "digest_date", name="uq_reminderlog_owner_day"),)
    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=300)
    digest_date: date
    channel: str = Field(max_length=10)  # email | file
    destination: str = Field(max_length=500)
    items: int
    sent_at: datetime = _ts(default_factory=utcnow)


class Watch(SQLModel, table=True):
    """A user watching a recommendation, an owner office or an obstacle (``kind``, ``target`` the
    key or office name). Not audited: a watch changes no record (migration 0010)."""

    __table_args__ = (Index("ix_watch_target", "kind", "target"),)
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    kind: str = Field(max_length=20, primary_key=True)  # recommendation | office | obstacle
    target: str = Field(max_length=300, primary_key=True)
    created_at: datetime = _ts(default_factory=utcnow)


class Notification(SQLModel, table=True):
    """One event that reached one user, written in the event's transaction by
    :mod:`models.rules.notifications`. ``mail`` is ``pending`` until ``rectrack notify send`` mails
    it (then ``sent``), or ``none`` when the user had no address or no mail wanted (migration 0010)."""

    __table_args__ = (
        UniqueConstraint("user_id", "event_seq", name="uq_notification_user_event"),
        Index("ix_notification_unread", "user_id", "read_at"),
        Index("ix_notification_mail", "mail", "user_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    # the event's seq, with no foreign key: the trail stays the only thing its checks look at, and
    # a notification never stops a verification from naming deleted events
    event_seq: int
    created_at: datetime = _ts(default_factory=utcnow)
    read_at: datetime | None = _ts(default=None)
    mail: str = Field(default="pending", max_length=10)  # pending | sent | none
    mailed_at: datetime | None = _ts(default=None)


class NotificationPreference(SQLModel, table=True):
    """How a user wants notifications by e-mail (``immediate``, ``digest`` once a day, or ``off``),
    and whether records their office owns reach them without a watch. No row: immediate, on.
    ``digest_sent_on`` keeps the daily digest to once a day (migration 0010)."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    mode: str = Field(default="immediate", max_length=10)
    own_office: bool = True
    digest_sent_on: date | None = None


class AuditEvent(SQLModel, table=True):
    """The append-only, hash-chained trail. ``seq`` is gapless; each row's ``hash`` covers its
    content and ``prev_hash``, so altering, deleting, inserting or reordering rows is detectable."""

    __table_args__ = (
        # effective_at and status_after make the as-of status, the stale count and the version
        # check index-only (migration 0003)
        Index("ix_auditevent_record", "record_type", "record_key", "seq", "effective_at", "status_after"),
        Index("ix_auditevent_effective", "effective_at"),
    )
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    recorded_at: datetime = _ts()
    effective_at: datetime = _ts()
    actor: str = Field(max_length=80, index=True)
    action: str = Field(max_length=40, index=True)
    record_type: str = Field(max_length=30)
    record_key: str = Field(max_length=80)
    status_before: str | None = Field(default=None, max_length=20)
    status_after: str | None = Field(default=None, max_length=20, index=True)
    before: str | None = _long(default=None)  # canonical JSON
    after: str | None = _long(default=None)  # canonical JSON
    reason: str = _long(default="")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


TABLES = [t for t in metadata.sorted_tables]
