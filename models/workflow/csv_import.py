"""CSV import of new recommendations: validated whole before anything is written.

Every bad row is reported with its line number and field, and one bad row means nothing
is imported, so a half-loaded file never has to be untangled by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import Session, select

from models.rules.recommendations import create_recommendation
from models.store.errors import InvalidInput
from models.store.schemas import RecommendationCreate
from models.store.settings import Settings, get_settings
from models.store.tables import Recommendation, User

REQUIRED_COLUMNS = ("key", "title", "summary", "theme", "who_must_act", "owner")
OPTIONAL_COLUMNS = ("kind", "confidence", "owner_inferred", "target_date", "progress", "parent")


@dataclass
class RowProblem:
    """One refused row of a file: where it is (a CSV line or a worksheet row) and which field."""

    number: int
    field: str
    message: str
    unit: str = "line"  # "line" (CSV) or "row" (worksheet)

    @property
    def line(self) -> int:
        return self.number

    def __str__(self) -> str:
        return f"{self.unit} {self.number}, {self.field}: {self.message}"


class RowsRefused(InvalidInput):
    """A file refused whole: every problem listed, and nothing written."""

    outcome = "nothing imported"

    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        listed = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{self.outcome}: {len(problems)} problem(s): {listed}{more}")


class ImportRefused(RowsRefused):
    outcome = "nothing imported"


def csv_records(reader, header: list[str], problems: list[RowProblem]):
    """(line where the row starts, {column: value}) for each non-blank row after the header.

    Rows that are not valid CSV or have the wrong number of fields become problems (with their
    line) instead; reading stops at the first CSV syntax error, where nothing after it can be trusted.
    """
    line = 1
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problems.append(RowProblem(reader.line_num, "(row)", f"not valid CSV: {e}"))
            return
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(RowProblem(start, "(row)", f"has {len(values)} fields; the header has {len(header)}"))
            continue
        yield start, dict(zip(header, values))


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InvalidInput(
            f"nothing imported: the file is not UTF-8 text (bad byte 0x{data[e.start]:02x} on line {line}); "
            "save it as UTF-8 CSV and try again"
        ) from None
    return text


def parse_recommendations_csv(data: bytes, settings: Settings | None = None) -> list[tuple[int, RecommendationCreate]]:
    settings = settings or get_settings()
    if len(data) > settings.max_import_bytes:
        raise InvalidInput(
            f"nothing imported: the file is {len(data):,} bytes; the limit is {settings.upload_limit_words} "
            f"({settings.max_import_bytes:,} bytes)"
        )
    text = _decode(data)
    if not text.strip():
        raise InvalidInput("nothing imported: the file is empty; it needs a header row and at least one row")
    csv.field_size_limit(max(settings.max_import_bytes, 131072))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise InvalidInput(f"nothing imported: line 1 is not valid CSV ({e})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    repeated = sorted({c for c in header if header.count(c) > 1})  # else the last copy would silently win
    if missing or unknown or repeated:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        if repeated:
            parts.append(f"repeated column(s): {', '.join(repeated)}")
        raise InvalidInput(
            f"nothing imported: header (line 1): {'; '.join(parts)}. "
            f"Required: {', '.join(REQUIRED_COLUMNS)}; optional: {', '.join(OPTIONAL_COLUMNS)}"
        )
    problems: list[RowProblem] = []
    rows: list[tuple[int, RecommendationCreate]] = []
    first_line: dict[str, int] = {}
    for start, raw in csv_records(reader, header, problems):
        too_long = [k for k, v in raw.items() if len(v) > settings.max_field_chars]
        for k in too_long:
            problems.append(RowProblem(start, k, f"is {len(raw[k]):,} characters; the limit is {settings.max_field_chars:,}"))
        if too_long:
            continue
        fields = {k: v for k, v in raw.items() if v.strip() != "" and k != "parent"}
        if raw.get("parent", "").strip():
            fields["parent_key"] = raw["parent"].strip()
        try:
            item = RecommendationCreate.model_validate(fields)
        except ValidationError as e:
            for err in e.errors():
                name = "parent" if err["loc"] and err["loc"][0] == "parent_key" else ".".join(map(str, err["loc"])) or "(row)"
                problems.append(RowProblem(start, name, err["msg"]))
            continue
        if item.key in first_line:
            problems.append(RowProblem(start, "key", f"duplicate key {item.key!r} (also on line {first_line[item.key]})"))
            continue
        first_line[item.key] = start
        rows.append((start, item))
    if not rows and not problems:
        raise InvalidInput("nothing imported: the file has a header but no rows")
    if problems:
        raise ImportRefused(problems)
    return rows


def import_recommendations(session: Session, *, rows: list[tuple[int, RecommendationCreate]], actor: User,
                           filename: str) -> list[Recommendation]:
    """Create every row or none: the caller's write transaction rolls back on the first refusal."""
    keys = [r.key for _, r in rows]
    existing = set(session.exec(select(Recommendation.key).where(Recommendation.key.in_(keys))).all())
    in_file = set(keys)
    problems = [RowProblem(line, "key", f"key {r.key!r} already exists in the store") for line, r in rows if r.key in existing]
    parents = {r.parent_key for _, r in rows if r.parent_key}
    known_parents = set(session.exec(select(Recommendation.key).where(Recommendation.key.in_(parents))).all()) | in_file
    problems += [RowProblem(line, "parent", f"unknown key {r.parent_key!r}: no recommendation has it")
                 for line, r in rows if r.parent_key and r.parent_key not in known_parents]
    if problems:
        raise ImportRefused(problems)
    created = []
    pending = list(rows)
    while pending:  # parents defined in the same file go first
        ready = [(l, r) for l, r in pending if not r.parent_key or r.parent_key not in {x.key for _, x in pending}]
        if not ready:
            raise ImportRefused([RowProblem(l, "parent", "parent chain loops back on itself") for l, _ in pending])
        for line, r in ready:
            created.append(create_recommendation(session, data=r, actor=actor, origin="import",
                                                 reason=f"imported from {filename}, line {line}"))
        pending = [p for p in pending if p not in ready]
    return created
