"""Input and output shapes, validated by pydantic, shared by every write path.

Limits live here once, so the update form, the CLI, CSV imports and the seeder refuse the
same things with the same words.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from models.store.settings import get_settings
from models.store.vocabulary import (
    STATUSES,
    STEP_STATUSES,
    Actor,
    Confidence,
    Country,
    ObstacleCategory,
    RecommendationKind,
    Theme,
)

MAX_TEXT = 20_000

# Embedding, override and isolate controls: they make stored text display in another order than it
# reads ("\u202egnp.exe" shows as "exe.png"). Marks (LRM, RLM) only nudge neutral characters: allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that draw nothing, though Unicode does not class them as spaces or format
# characters: braille blank, the Hangul fillers, the Khmer inherent vowels.
BLANK_LOOKING = frozenset("\u2800\u3164\u115f\u1160\uffa0\u17b4\u17b5")


def _no_nul(v: str) -> str:
    if "\x00" in v:
        raise ValueError("contains a NUL character (\\x00); remove it")
    return v


def has_visible_text(text: str | None) -> bool:
    """True when ``text`` has a character a reader can see: not only spaces, controls, format
    characters (zero-width space, BOM), lone combining marks or blank-looking letters (U+2800,
    U+3164, ...). The one test for "every change needs a reason", used by the schemas and the rules."""
    if not text:
        return False
    for ch in text:
        if ch in BLANK_LOOKING:
            continue
        cat = unicodedata.category(ch)
        if cat[0] in "ZC" or cat in ("Mn", "Me"):
            continue
        return True
    return False


def _not_blank(v: str) -> str:
    if not has_visible_text(v):
        raise ValueError(
            "has no visible characters (only spaces or invisible characters); write some visible text"
        )
    return v


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character').lower()}"


def single_line_problem(v: str) -> str | None:
    """What makes ``v`` unfit for a one-line field (title, owner, names), or None."""
    for ch in v:
        if ch in BIDI_CONTROLS:
            return (
                f"contains a bidirectional control ({_char_name(ch)}), which makes the text display in another "
                "order than it is stored; remove it"
            )
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            return f"contains a control character ({_char_name(ch)}); a one-line field takes text on one line"
    return None


def _single_line(v: str) -> str:
    problem = single_line_problem(v)
    if problem:
        raise ValueError(problem)
    return v


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _target_date(v: date | None) -> date | None:
    """A target date within the window in settings (``RECTRACK_TARGET_DATE_EARLIEST``, and at most
    ``RECTRACK_TARGET_DATE_YEARS_AHEAD`` years from today)."""
    if v is None:
        return v
    s = get_settings()
    latest = _utc_today() + timedelta(days=round(365.25 * s.target_date_years_ahead))
    if not s.target_date_earliest <= v <= latest:
        raise ValueError(
            f"{v.isoformat()} is outside the accepted range for a target date "
            f"({s.target_date_earliest.isoformat()} to {latest.isoformat()}); check the year"
        )
    return v


def _observed_date(v: date | None) -> date | None:
    """The day evidence speaks to: not before ``RECTRACK_EARLIEST_DATE`` and not in the future."""
    if v is None:
        return v
    earliest, today = get_settings().earliest_date, _utc_today()
    if not earliest <= v <= today:
        raise ValueError(
            f"{v.isoformat()} is outside the accepted range for an observed date "
            f"({earliest.isoformat()} to today, {today.isoformat()}); check the year"
        )
    return v


Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_no_nul),
    AfterValidator(_single_line),
    AfterValidator(_not_blank),
]
SingleLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=300),
    AfterValidator(_no_nul),
    AfterValidator(_single_line),
]
TargetDate = Annotated[date | None, AfterValidator(_target_date)]
ObservedDate = Annotated[date | None, AfterValidator(_observed_date)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_no_nul)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
]
Status = Annotated[str, AfterValidator(lambda v: _status(v))]
#: "What it takes to close": a sentence or two the owner keeps current; blank clears it
ClosePlan = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), AfterValidator(_no_nul)]


def _status(v: str) -> str:
    if v not in STATUSES:
        raise ValueError(f"unknown status {v!r}; use one of: {', '.join(STATUSES)}")
    return v


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class RecommendationBase(_In):
    title: Title
    summary: LongText
    kind: RecommendationKind = RecommendationKind.explicit
    confidence: Confidence = Confidence.medium
    theme: Theme
    who_must_act: Actor
    owner: Title
    owner_inferred: bool = True
    target_date: TargetDate = None
    progress: int = Field(default=0, ge=0, le=100)


class RecommendationCreate(RecommendationBase):
    key: Key
    parent_key: Key | None = None
    primary_source_id: Annotated[str, AfterValidator(_no_nul)] | None = None


class RecommendationUpdate(_In):
    """A staff officer's change. ``expected_version`` is the version they were looking at."""

    expected_version: int = Field(ge=1)
    reason: Reason
    status: Status | None = None
    owner: Title | None = None
    target_date: TargetDate = None
    progress: int | None = Field(default=None, ge=0, le=100)
    priority: bool | None = None
    close_plan: ClosePlan | None = None


class RecommendationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    title: str
    summary: str
    kind: str
    confidence: str
    theme: str
    who_must_act: str
    owner: str
    owner_inferred: bool
    responsible: str | None = None
    status: str
    target_date: date | None
    progress: int
    priority: bool = False
    close_plan: str | None = None
    version: int
    parent_key: str | None = None
    primary_source_id: str | None = None
    updated_at: datetime
    updated_by: str


class EvidenceCreate(_In):
    title: Title
    summary: Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_nul)] = ""
    observed_on: ObservedDate = None
    kind: str = Field(default="file", pattern=r"^(file|citation|source_report)$")


def _username(v: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9._@-]{2,80}", v):
        raise ValueError("must be 2-80 characters: letters, digits, '.', '_', '@' or '-'")
    return v


def _role(v: str) -> str:
    if v not in ("viewer", "editor", "auditor", "admin"):
        raise ValueError(f"unknown role {v!r}; use viewer, editor, auditor or admin")
    return v


class UserCreate(_In):
    username: Annotated[str, AfterValidator(_username)]
    role: Annotated[str, AfterValidator(_role)]
    display_name: Annotated[
        str, StringConstraints(max_length=200), AfterValidator(_no_nul), AfterValidator(_single_line)
    ] = ""
    office: Title | None = None
    email: (
        Annotated[
            str, StringConstraints(max_length=254), AfterValidator(_no_nul), AfterValidator(_single_line)
        ]
        | None
    ) = None


class CitationIn(_In):
    """A passage of the source library cited by evidence: section and line range as ``cat -n`` numbers it."""

    source_id: Annotated[
        str,
        StringConstraints(min_length=1, max_length=200),
        AfterValidator(_no_nul),
        AfterValidator(_single_line),
    ]
    section: Title
    line_start: int = Field(ge=1)
    line_end: int = Field(ge=1)


class ObstacleCreate(_In):
    """An obstacle an officer records; where it is attested (a citation or the officer's evidence
    item) is checked by :func:`models.rules.obstacles.create_obstacle`."""

    key: Key
    title: Title
    category: ObstacleCategory
    side: Country
    summary: LongText


def _step_status(v: str) -> str:
    if v not in STEP_STATUSES:
        raise ValueError(f"unknown step status {v!r}; use one of: {', '.join(STEP_STATUSES)}")
    return v


StepStatus = Annotated[str, AfterValidator(_step_status)]


class StepCreate(_In):
    """One step of a recommendation's action plan."""

    title: Title
    office: SingleLine = ""
    due_date: TargetDate = None
    status: StepStatus = "not_started"


class StepUpdate(_In):
    """A change to one step; ``expected_version`` is the step's version the officer was looking at."""

    expected_version: int = Field(ge=1)
    reason: Reason
    title: Title | None = None
    office: SingleLine | None = None
    due_date: TargetDate = None
    status: StepStatus | None = None
