"""The seed catalog's file format, validated on load.

The catalog is hand-written YAML carried in ``seeds/``. It is read by the seeder and by
``python -m models.catalog.schema`` (a self-check for whoever edits the catalog), so every rule
about what a catalog file may say lives here: vocabularies, key shapes, citation shapes.
Cross-file rules (keys resolve, citations exist in the source text, no copied sentences) live in
:mod:`models.catalog.checks`.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from models.store.vocabulary import (  # noqa: F401  (re-exported for catalog editors)
    STATUSES,
    Actor,
    Confidence,
    Country,
    InstitutionKind,
    ObstacleCategory,
    RecommendationKind,
    Theme,
)

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]

SOURCE_IDS = (
    "2002-ssi-mil-to-mil-conference-brief",
    "2009-deare-ndu-strategic-forum-243",
    "2014-martinez-nps-thesis-building-trust",
    "2017-curry-nps-thesis-combating-drug-trafficking",
    "2020-samanez-cfc-collective-security-programs",
)


_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(value: str) -> tuple[date, str]:
    """Turn ``1917``, ``1917-02`` or ``1917-02-05`` into (first day, precision)."""
    m = _DATE_RE.match(str(value).strip())
    if not m:
        raise ValueError(f"date {value!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = m.group(1), m.group(2), m.group(3)
    d = date(int(year), int(month or 1), int(day or 1))  # raises on 2014-13
    precision = "day" if day else "month" if month else "year"
    return d, precision


def _partial_date(v: str) -> str:
    parse_partial_date(v)
    return v


PartialDate = Annotated[str, AfterValidator(_partial_date)]


class Citation(BaseModel):
    """A place in a source text: ``lines`` as ``cat -n`` numbers them, e.g. ``"120-134"``."""

    model_config = ConfigDict(extra="forbid")

    source: Literal[SOURCE_IDS]  # type: ignore[valid-type]
    section: ShortText
    lines: str

    @field_validator("lines")
    @classmethod
    def _lines_shape(cls, v: str) -> str:
        v = str(v).strip()
        m = re.match(r"^(\d+)(?:-(\d+))?$", v)
        if not m:
            raise ValueError(f"lines {v!r} must look like '120' or '120-134'")
        start, end = int(m.group(1)), int(m.group(2) or m.group(1))
        if start < 1 or end < start:
            raise ValueError(f"lines {v!r}: start must be >= 1 and end >= start")
        return v

    @property
    def line_start(self) -> int:
        return int(self.lines.split("-")[0])

    @property
    def line_end(self) -> int:
        return int(self.lines.split("-")[-1])


Citations = Annotated[list[Citation], Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class SeedStatus(_Strict):
    """A status a source supports, dated to that source (e.g. a 2014 text reporting 2009 advice acted on)."""

    status: Literal[STATUSES]  # type: ignore[valid-type]
    as_of: PartialDate
    note: Text
    citations: Citations


class RecommendationSeed(_Strict):
    key: Key
    title: ShortText
    summary: Text
    kind: RecommendationKind
    confidence: Confidence
    theme: Theme
    who_must_act: Actor
    owner: ShortText
    owner_inferred: bool
    parent: Key | None = None
    obstacles: list[Key] = []
    institutions: list[Key] = []
    citations: Citations
    seeded_status: SeedStatus | None = None


class ObstacleSeed(_Strict):
    """May appear in several files under one key: title, category and side must then agree."""

    key: Key
    title: ShortText
    summary: Text | None = None
    category: ObstacleCategory
    side: Country
    citations: Citations


class InstitutionSeed(_Strict):
    key: Key
    name: ShortText
    acronym: str | None = None
    kind: InstitutionKind
    country: Country
    summary: Text | None = None
    recommendations: list[Key] = []
    citations: Citations


class EvidenceSeed(_Strict):
    """What a source reports about a recommendation (usually an earlier source's)."""

    key: Key
    title: ShortText
    summary: Text
    observed: PartialDate | None = None  # None where the text gives no date: never a stand-in date
    recommendations: Annotated[list[Key], Field(min_length=1)]
    citations: Citations
    status_claim: Literal[STATUSES] | None = None  # type: ignore[valid-type]


class IndicatorValueSeed(_Strict):
    period: ShortText
    year: int | None = Field(default=None, ge=1800, le=2100)  # None where the text gives no year
    value: float
    country: Country | None = None
    citation: Citation
    note: Text | None = None
    conflict_note: Text | None = None


class IndicatorSeed(_Strict):
    """A series. Keys are shared across files so two sources' values for one period meet and
    a disagreement shows as a conflict; ``parent`` names the total this series is a part of."""

    key: Key
    name: ShortText
    unit: ShortText
    country: Country
    category: ShortText
    description: Text | None = None
    parent: Key | None = None
    values: Annotated[list[IndicatorValueSeed], Field(min_length=1)]


class EventSeed(_Strict):
    key: Key
    date: PartialDate
    title: ShortText
    summary: Text | None = None
    country: Country
    category: ShortText
    citations: Citations


class ConflictSide(_Strict):
    """What one passage says, in our words, with the lines that say it."""

    says: Text
    citations: Citations


class ConflictSeed(_Strict):
    """Two or more passages that disagree about one fact: every side is kept, none is chosen silently."""

    key: Key
    topic: ShortText
    records: list[Key] = []  # catalog entries of any kind that a reader of either side meets
    sides: Annotated[list[ConflictSide], Field(min_length=2)]
    note: Text

    @model_validator(mode="after")
    def _sides_are_different_passages(self) -> ConflictSeed:
        places = [tuple(sorted((c.source, c.lines) for c in side.citations)) for side in self.sides]
        if len(set(places)) < len(places):
            raise ValueError(
                f"conflict {self.key!r}: two sides cite the same lines; a conflict needs two passages"
            )
        return self


class ConflictsFile(_Strict):
    """``seeds/conflicts.yaml``: disagreements between passages, apart from the per-source files."""

    conflicts: list[ConflictSeed] = []


class SourceSeed(_Strict):
    id: Literal[SOURCE_IDS]  # type: ignore[valid-type]
    short: ShortText
    title: ShortText
    author: ShortText
    publisher: ShortText
    published: str
    file: ShortText
    reproduction: Literal["allowed_with_citation", "cite_only_never_quote"]
    coverage_note: Text | None = None


class CatalogFile(_Strict):
    """One file of ``seeds/catalog/``; every list is optional so a file may hold one kind only."""

    source: Literal[SOURCE_IDS] | None = None  # type: ignore[valid-type]
    coverage_note: Text | None = None
    recommendations: list[RecommendationSeed] = []
    obstacles: list[ObstacleSeed] = []
    institutions: list[InstitutionSeed] = []
    evidence: list[EvidenceSeed] = []
    indicators: list[IndicatorSeed] = []
    events: list[EventSeed] = []

    @model_validator(mode="after")
    def _unique_keys_in_file(self) -> CatalogFile:
        for name in ("recommendations", "evidence", "events"):
            seen: set[str] = set()
            for item in getattr(self, name):
                if item.key in seen:
                    raise ValueError(f"{name}: key {item.key!r} appears twice in this file")
                seen.add(item.key)
        return self


class PrioritySeed(_Strict):
    """One entry of ``seeds/priority.yaml``: a recommendation leadership leads with, why, and the
    passage that makes it a headline item. ``close_plan`` seeds "what it takes to close"."""

    key: Key
    reason: Text
    citation: Citation
    close_plan: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)] | None
    ) = None


class PriorityFile(_Strict):
    """``seeds/priority.yaml``: kept apart from the per-source files, which people edit for content."""

    priority: list[PrioritySeed] = []

    @model_validator(mode="after")
    def _unique_keys(self) -> PriorityFile:
        seen: set[str] = set()
        for item in self.priority:
            if item.key in seen:
                raise ValueError(f"priority: key {item.key!r} appears twice")
            seen.add(item.key)
        return self


class OfficeSeed(_Strict):
    """One office of ``seeds/offices.yaml``: ``name`` is the spelling the store keeps; ``aliases`` are
    other spellings a catalog file may use for the same office."""

    key: Key
    name: ShortText
    aliases: list[ShortText] = []


class OfficesFile(_Strict):
    """``seeds/offices.yaml``: the office register every recommendation's owner must be found in."""

    offices: list[OfficeSeed] = []

    @model_validator(mode="after")
    def _one_office_per_spelling(self) -> OfficesFile:
        keys: set[str] = set()
        spelt: dict[str, str] = {}
        for o in self.offices:
            if o.key in keys:
                raise ValueError(f"offices: key {o.key!r} appears twice")
            keys.add(o.key)
            for n in (o.name, *o.aliases):
                folded = " ".join(n.casefold().split())
                if folded in spelt:
                    raise ValueError(
                        f"offices: {n!r} (office {o.key!r}) is already a spelling of {spelt[folded]!r}"
                    )
                spelt[folded] = o.key
        return self


class SourcesFile(_Strict):
    sources: Annotated[list[SourceSeed], Field(min_length=1)]
