"""CSV import of new recommendations: validated whole before anything is written.

Every bad row is reported with its line number and field, and one bad row means nothing
is imported, so a half-loaded file never has to be untangled by hand.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models.rules.offices import UnknownOffice, owner_checker
from models.rules.recommendations import create_recommendation
from models.store.errors import DomainError, InvalidInput
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
            problems.append(
                RowProblem(start, "(row)", f"has {len(values)} fields; the header has {len(header)}")
            )
            continue
        yield start, dict(zip(header, values))


SAVE_AS_UTF8 = (
    "Save it as UTF-8 and try again. In Excel: File > Save As, and as the file type choose "
    '"CSV UTF-8 (Comma delimited) (*.csv)". In LibreOffice Calc: File > Save As, choose the file type '
    '"Text CSV (.csv)", tick "Edit filter settings", Save, then pick the character set '
    '"Unicode (UTF-8)"'
)


def decode_csv(data: bytes, outcome: str = "nothing imported") -> str:
    """The text of a CSV file as spreadsheet programs write it: UTF-8 (with or without the byte-order
    mark Excel adds) or UTF-16 with its mark (Excel's "Unicode Text"). Anything else is refused naming
    the first bad byte by its offset in the file, line and column, what it would be in
    Windows-1252 (what Excel and LibreOffice write by default on Windows), and how to save as UTF-8."""
    boms = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
    skip, encoding = next(((len(b), enc) for b, enc in boms if data.startswith(b)), (0, "utf-8"))
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError as e:
        offset = skip + e.start  # in the file, counting the byte-order mark
    bad = data[offset]
    line_start = data.rfind(b"\n", 0, offset) + 1
    line, column = data.count(b"\n", 0, offset) + 1, offset - line_start + 1
    where = f"byte 0x{bad:02X} at byte offset {offset:,} (line {line}, column {column})"
    try:
        as_1252 = data[skip:].decode("cp1252")
        seen = bytes([bad]).decode("cp1252")
    except UnicodeDecodeError:
        as_1252, seen = None, None
    if encoding == "utf-8" and as_1252 is not None and bad >= 0x80:
        raise InvalidInput(
            f"{outcome}: the file is not UTF-8 text: {where} is {seen!r} in Windows-1252, so it "
            f'looks saved as Windows-1252 ("ANSI"). {SAVE_AS_UTF8}'
        ) from None
    raise InvalidInput(
        f"{outcome}: the file is not {encoding.upper()} text ({where}). {SAVE_AS_UTF8}"
    ) from None


def sniff_delimiter(text: str) -> str:
    """``,``, ``;`` or tab, whichever separates the header line (outside quotes) most: spreadsheet
    programs in many locales write ``;``, and Excel's "Unicode Text" writes tabs."""
    import re

    first = text.split("\n", 1)[0]
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def parse_recommendations_csv(
    data: bytes, settings: Settings | None = None
) -> list[tuple[int, RecommendationCreate]]:
    settings = settings or get_settings()
    if len(data) > settings.max_import_bytes:
        raise InvalidInput(
            f"nothing imported: the file is {len(data):,} bytes; the limit is {settings.upload_limit_words} "
            f"({settings.max_import_bytes:,} bytes)"
        )
    text = decode_csv(data)
    if not text.strip():
        raise InvalidInput("nothing imported: the file is empty; it needs a header row and at least one row")
    csv.field_size_limit(max(settings.max_import_bytes, 131072))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
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
            problems.append(
                RowProblem(
                    start, k, f"is {len(raw[k]):,} characters; the limit is {settings.max_field_chars:,}"
                )
            )
        if too_long:
            continue
        fields = {k: v for k, v in raw.items() if v.strip() != "" and k != "parent"}
        if raw.get("parent", "").strip():
            fields["parent_key"] = raw["parent"].strip()
        try:
            item = RecommendationCreate.model_validate(fields)
        except ValidationError as e:
            for err in e.errors():
                name = (
                    "parent"
                    if err["loc"] and err["loc"][0] == "parent_key"
                    else ".".join(map(str, err["loc"])) or "(row)"
                )
                problems.append(RowProblem(start, name, err["msg"]))
            continue
        if item.key in first_line:
            problems.append(
                RowProblem(start, "key", f"duplicate key {item.key!r} (also on line {first_line[item.key]})")
            )
            continue
        first_line[item.key] = start
        rows.append((start, item))
    if not rows and not problems:
        raise InvalidInput("nothing imported: the file has a header but no rows")
    if problems:
        raise ImportRefused(problems)
    return rows


def _check_against_store(session: Session, rows: list[tuple[int, RecommendationCreate]]) -> None:
    keys = [r.key for _, r in rows]
    existing: set[str] = set()
    parents = sorted({r.parent_key for _, r in rows if r.parent_key})
    known_parents: set[str] = set()
    for i in range(0, len(keys), 500):
        existing |= set(
            session.exec(
                select(Recommendation.key).where(col(Recommendation.key).in_(keys[i : i + 500]))
            ).all()
        )
    for i in range(0, len(parents), 500):
        known_parents |= set(
            session.exec(
                select(Recommendation.key).where(col(Recommendation.key).in_(parents[i : i + 500]))
            ).all()
        )
    known_parents |= set(keys)
    problems = [
        RowProblem(line, "key", f"key {r.key!r} already exists in the store")
        for line, r in rows
        if r.key in existing
    ]
    problems += [
        RowProblem(line, "parent", f"unknown key {r.parent_key!r}: no recommendation has it")
        for line, r in rows
        if r.parent_key and r.parent_key not in known_parents
    ]
    office = owner_checker(session)
    for line, r in rows:
        try:
            r.owner = office(r.owner)  # the register's spelling, so the owner tallies stay one per office
        except UnknownOffice as e:
            problems.append(RowProblem(line, "owner", str(e)))
    if problems:
        raise ImportRefused(problems)


def _parents_first(rows: list[tuple[int, RecommendationCreate]]) -> list[tuple[int, RecommendationCreate]]:
    """The rows ordered so a parent defined in the same file comes before its children (linear time)."""
    by_key = {r.key: (line, r) for line, r in rows}
    done: set[str] = set()
    out: list[tuple[int, RecommendationCreate]] = []
    for _line, r in rows:
        chain: list[str] = []
        k: str | None = r.key
        while k is not None and k in by_key and k not in done:
            if k in chain:
                raise ImportRefused(
                    [RowProblem(by_key[x][0], "parent", "parent chain loops back on itself") for x in chain]
                )
            chain.append(k)
            k = by_key[k][1].parent_key
        for k in reversed(chain):
            done.add(k)
            out.append(by_key[k])
    return out


def import_recommendations(
    session: Session, *, rows: list[tuple[int, RecommendationCreate]], actor: User, filename: str
) -> list[Recommendation]:
    """Create every row or none: the caller's write transaction rolls back on the first refusal."""
    _check_against_store(session, rows)
    return [
        create_recommendation(
            session, data=r, actor=actor, origin="import", reason=f"imported from {filename}, line {line}"
        )
        for line, r in _parents_first(rows)
    ]


class ImportInterrupted(InvalidInput):
    """A batched import the store refused part-way: the batches before it are kept, and said so."""


def import_in_batches(
    engine,
    *,
    rows: list[tuple[int, RecommendationCreate]],
    actor_name: str,
    filename: str,
    batch_rows: int | None = None,
    progress=None,
) -> int:
    """Import a checked file without holding the write lock others need: every row is checked
    against the store first (any problem: nothing is imported), then rows are written in batches
    (``RECTRACK_IMPORT_BATCH_ROWS``), each one write transaction, with a pause between them so
    sign-ins and edits waiting for the lock get it. A file of one batch is all or nothing as before.
    ``progress(done, total)`` after each batch. If the store refuses a batch (someone created one of
    the keys meanwhile), :class:`ImportInterrupted` says which lines were imported and which not."""
    import time

    from models.rules.users import get_user
    from models.store.db import read_session, write_session

    size = batch_rows or get_settings().import_batch_rows
    with read_session(engine) as session:
        _check_against_store(session, rows)
    ordered = _parents_first(rows)
    done = 0
    for i in range(0, len(ordered), size):
        part = ordered[i : i + size]
        try:
            with write_session(engine) as session:
                actor = get_user(session, actor_name)
                for line, r in part:
                    create_recommendation(
                        session,
                        data=r,
                        actor=actor,
                        origin="import",
                        reason=f"imported from {filename}, line {line}",
                    )
        except DomainError as e:
            if done == 0:
                raise
            lines = sorted(line for line, _ in ordered[:done])
            raise ImportInterrupted(
                f"import stopped after {done:,} of {len(ordered):,} recommendation(s): the store refused a row of "
                f"the next batch ({e}). The {done:,} already imported (lines {lines[0]}-{lines[-1]} of the file, "
                "in parent-first order) stay; remove their lines from the file and import the rest"
            ) from e
        done += len(part)
        if progress:
            progress(done, len(ordered))
        if done < len(ordered):
            time.sleep(0.15)  # longer than SQLite's longest busy-wait step: a waiting writer gets in
    return done
