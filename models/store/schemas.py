"""Input and output shapes, validated by pydantic, shared by every write path.

Limits live here once, so the update form, the CLI, CSV imports and the seeder refuse the
same things with the same words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from models.store.vocabulary import STATUSES, Actor, Confidence, RecommendationKind, Theme

MAX_TEXT = 20_000


def _no_nul(v: str) -> str:
    if "\x00" in v:
        raise ValueError("contains a NUL character (\\x00); remove it")
    return v


def _not_blank(v: str) -> str:
    # pydantic strips Unicode spaces only; Python (and the lifecycle's reason check) also
    # counts the ASCII separators \x1c-\x1f as whitespace, so "\x1c" alone must not pass
    if not v.strip():
        raise ValueError("is blank; write some visible text")
    return v


Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), AfterValidator(_no_nul),
                  AfterValidator(_not_blank)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT), AfterValidator(_no_nul)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), AfterValidator(_no_nul),
                   AfterValidator(_not_blank)]
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
    target_date: date | None = None
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
    target_date: date | None = None
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
    observed_on: date | None = None
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
    display_name: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)] = ""
    office: Title | None = None
    email: Annotated[str, StringConstraints(max_length=254), AfterValidator(_no_nul)] | None = None
