"""Round-trip bulk edits: export recommendations to CSV or Excel, edit, import the changes back.

The exported file has the editable columns (``status``, ``owner``, ``target_date``,
``progress``), the row ``version`` it was exported at, read-only context (``title``, ``theme``,
``kind``, ``who_must_act``, ``parent``) and an empty ``reason`` column. Importing it applies
each changed row through :func:`models.rules.recommendations.update_recommendation`, the one write
path, so every rule holds: permissions, the lifecycle (closing still needs the two-step
verified closure), a reason for every change, and optimistic versions: a row whose
recommendation changed since the export is refused naming who changed it. A row the user did
not edit is left alone even if the store moved on since the export (its values are compared
with the values at the row's version, rebuilt from the trail), so an old file only conflicts
where it really disagrees.

All rows or none by default: every row is checked and tried, each in a savepoint, and any
refusal raises :class:`EditsRefused` listing every problem by CSV line or worksheet row, so the
caller's write transaction rolls back. With ``partial=True`` the good rows are applied and the
refused ones reported. An unchanged file changes nothing: no events, no version bumps.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from models.rules.lifecycle import RuleViolation
from models.rules.recommendations import update_recommendation
from models.store.errors import DomainError, InvalidInput, StaleVersion
from models.store.schemas import RecommendationUpdate
from models.store.settings import Settings, get_settings
from models.store.tables import AuditEvent, Recommendation, User
from models.store.vocabulary import STATUSES
from models.trail.export_formats import spreadsheet_unsafe
from models.workflow.bulk_export import (
    COLUMNS,
    EDITABLE,
    MAX_ROWS,
    READ_ONLY,
    REQUIRED,
    SHEET,
    Progress,
    _fmt,
)
from models.workflow.csv_import import RowProblem, RowsRefused, csv_records, decode_csv, sniff_delimiter


class EditsRefused(RowsRefused):
    """Rows the import refused; ``problems`` lists each with its line or row and field."""

    outcome = "nothing applied"


@dataclass
class EditRow:
    number: int  # CSV line / worksheet row where the row starts
    key: str
    values: dict  # status, owner, target_date, progress (parsed)
    version: int
    reason: str
    context: dict  # read-only columns present in the file, as text


@dataclass
class EditFile:
    unit: str
    rows: list[EditRow]
    problems: list[RowProblem]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    return spreadsheet_unsafe(str(value)).strip()


def _int(value, low: int, high: int | None) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        n = int(value)
    else:
        n = int(str(value).strip())
    if n < low or (high is not None and n > high):
        raise ValueError
    return n


def _date(value) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise ValueError
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        raise ValueError
    return date.fromisoformat(str(value).strip())


def _parse_row(
    unit: str, number: int, raw: dict, settings: Settings, problems: list[RowProblem]
) -> EditRow | None:
    bad = len(problems)

    def problem(name: str, message: str) -> None:
        problems.append(RowProblem(number, name, message, unit=unit))

    for name, value in raw.items():
        if isinstance(value, str) and len(value) > settings.max_field_chars:
            problem(name, f"is {len(value):,} characters; the limit is {settings.max_field_chars:,}")
    if len(problems) > bad:
        return None
    key = _text(raw.get("key"))
    if not key:
        problem("key", "is empty; every row needs the key of the recommendation it edits")
    values: dict = {}
    status = _text(raw.get("status"))
    if status not in STATUSES:
        problem("status", f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    values["status"] = status
    owner = _text(raw.get("owner"))
    if not owner:
        problem("owner", "is empty; every recommendation has an owning office")
    elif len(owner) > 300:
        problem("owner", f"is {len(owner)} characters; the limit is 300")
    values["owner"] = owner
    try:
        values["target_date"] = _date(
            spreadsheet_unsafe(raw["target_date"])
            if isinstance(raw.get("target_date"), str)
            else raw.get("target_date")
        )
    except ValueError:
        problem(
            "target_date",
            f"{_text(raw.get('target_date'))!r} is not a date; use YYYY-MM-DD, or leave it "
            "empty for none (spreadsheet programs may reformat dates: the .xlsx export avoids this)",
        )
    progress = raw.get("progress")
    try:
        values["progress"] = _int(_text(progress) if isinstance(progress, str) else progress, 0, 100)
    except (ValueError, TypeError):
        problem("progress", f"{_text(progress)!r} is not a whole number from 0 to 100")
    version = raw.get("version")
    try:
        version = _int(_text(version) if isinstance(version, str) else version, 1, None)
    except (ValueError, TypeError):
        problem(
            "version",
            f"{_text(version)!r} is not the version the file was exported with; "
            "keep the exported value (re-export to start from the current versions)",
        )
    reason = _text(raw.get("reason"))
    if len(problems) > bad:
        return None
    context = {c: _text(raw[c]) for c in READ_ONLY if c in raw}
    return EditRow(number, key, values, version, reason, context)


def _check_header(header: list[str], where: str) -> None:
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or dupes:
        parts = (
            ([f"missing column(s): {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s): {', '.join(repr(c) for c in unknown)}"] if unknown else [])
            + ([f"repeated column(s): {', '.join(dupes)}"] if dupes else [])
        )
        raise InvalidInput(
            f"nothing applied: header ({where}): {'; '.join(parts)}. Expected the columns of "
            f"`rectrack export-recs`: {', '.join(COLUMNS)}"
        )


def parse_csv(data: bytes, settings: Settings | None = None) -> EditFile:
    settings = settings or get_settings()
    text = decode_csv(data, "nothing applied")
    if not text.strip():
        raise InvalidInput("nothing applied: the file is empty; export one with rectrack export-recs")
    csv.field_size_limit(max(settings.max_import_bytes, 131072))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as e:
        raise InvalidInput(f"nothing applied: line 1 is not valid CSV ({e})") from None
    _check_header(header, "line 1")
    rows: list[EditRow] = []
    problems: list[RowProblem] = []
    for start, raw in csv_records(reader, header, problems):
        if len(rows) + len(problems) >= MAX_ROWS:
            raise InvalidInput(f"nothing applied: the file has more than {MAX_ROWS:,} rows; split it")
        row = _parse_row("line", start, raw, settings, problems)
        if row:
            rows.append(row)
    return EditFile("line", rows, problems)


MAX_HEADER_COLUMNS = len(COLUMNS) + 20  # a header wider than this is not an edit file
_EXTRA_COLUMNS = 5  # read this far right of the header, to notice values typed outside it


def _sheet_too_big(zf: zipfile.ZipFile, settings: Settings) -> str | None:
    """The XML a workbook unpacks to, bounded: the sizes the zip declares bound what is read."""
    total = sum(i.file_size for i in zf.infolist())
    limit = settings.max_import_bytes * 25
    if total > limit:
        return f"it unpacks to {total:,} bytes, more than {limit:,} (25 times the upload limit)"
    return None


def parse_xlsx(data: bytes, settings: Settings | None = None) -> EditFile:
    """Read the ``recommendations`` sheet in openpyxl's read-only mode, never trusting the size the
    file declares (``A1:XFD1048576`` in a 6 KB file): only the header's width is read, at most
    ``MAX_ROWS`` rows, within ``RECTRACK_IMPORT_TIME_BUDGET_SECONDS``."""
    import time

    from openpyxl import load_workbook

    settings = settings or get_settings()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            too_big = _sheet_too_big(zf, settings)
        if too_big:
            raise InvalidInput(
                f"nothing applied: the workbook is too large to read: {too_big}; "
                "export a fresh one with rectrack export-recs --out FILE.xlsx"
            )
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raise InvalidInput(
            f"nothing applied: the file is not an Excel .xlsx workbook ({e}); "
            "export one with rectrack export-recs --out FILE.xlsx"
        ) from None
    deadline = time.monotonic() + settings.import_time_budget_seconds
    try:
        if SHEET not in wb.sheetnames:
            raise InvalidInput(
                f"nothing applied: the workbook has no sheet {SHEET!r} (it has: "
                f"{', '.join(repr(s) for s in wb.sheetnames)}); edit the sheet the export made"
            )
        ws = wb[SHEET]
        ws.reset_dimensions()  # forget the declared size: rows are padded to max_col below, no wider
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_HEADER_COLUMNS, values_only=True), None)
        if first is None:
            raise InvalidInput(f"nothing applied: sheet {SHEET!r} is empty; it needs the header row")
        header = [_text(h) for h in first]
        while header and header[-1] == "":
            header.pop()
        _check_header(header, f"sheet {SHEET!r}, row 1")
        rows: list[EditRow] = []
        problems: list[RowProblem] = []
        width = len(header)
        for number, values in enumerate(
            ws.iter_rows(min_row=2, max_col=width + _EXTRA_COLUMNS, values_only=True), start=2
        ):
            if number > MAX_ROWS + 1:
                raise InvalidInput(
                    f"nothing applied: the sheet goes on past row {MAX_ROWS + 1:,} (the most an edit "
                    "file may have); split it, or delete the rows below your data"
                )
            if number % 256 == 0 and time.monotonic() > deadline:
                raise InvalidInput(
                    f"nothing applied: reading the workbook took longer than "
                    f"{settings.import_time_budget_seconds:g} s (stopped at row {number:,}); "
                    "export a fresh one with rectrack export-recs --out FILE.xlsx, or use CSV"
                )
            values = list(values)
            extra = values[width:]
            values = (values + [None] * width)[:width]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                if not any(v is not None and _text(v) for v in extra):
                    continue
            if any(v is not None and _text(v) for v in extra):
                problems.append(
                    RowProblem(
                        number,
                        "(row)",
                        "has values right of the last column; keep edits inside the exported columns",
                        unit="row",
                    )
                )
                continue
            row = _parse_row("row", number, dict(zip(header, values)), settings, problems)
            if row:
                rows.append(row)
    finally:
        wb.close()
    return EditFile("row", rows, problems)


def parse_edit_file(data: bytes, filename: str, settings: Settings | None = None) -> EditFile:
    """Read an edit file by its extension; file-level problems raise, row problems are collected."""
    settings = settings or get_settings()
    fmt = _fmt(filename)
    if len(data) > settings.max_import_bytes:
        raise InvalidInput(
            f"nothing applied: the file is {len(data):,} bytes; the limit is {settings.upload_limit_words} "
            f"({settings.max_import_bytes:,} bytes)"
        )
    parsed = parse_csv(data, settings) if fmt == "csv" else parse_xlsx(data, settings)
    if not parsed.rows and not parsed.problems:
        raise InvalidInput("nothing applied: the file has a header but no rows")
    return parsed


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


def _values_at(session: Session, rec: Recommendation, version: int) -> dict | None:
    """The editable values as they were at ``version``, rebuilt by undoing later events; None if unknown."""
    values = _snapshot(rec)
    events = session.exec(
        select(AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.record_type == "recommendation", AuditEvent.record_key == rec.key)
        .order_by(AuditEvent.seq.desc())
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
        reached = before_d.get("version", reached - 1)
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
    for chunk in _chunks(keys):
        for rec, parent_key in session.exec(
            select(Recommendation, parent.key)
            .join(parent, Recommendation.parent_id == parent.id, isouter=True)
            .where(Recommendation.key.in_(chunk))
        ):
            store[rec.key] = (rec, parent_key or "")
    first_seen: dict[str, int] = {}
    total = len(parsed.rows)
    for done, row in enumerate(parsed.rows, start=1):
        problem = _apply_row(session, row, unit, store, first_seen, actor, report)
        if problem:
            report.problems.append(problem)
        if progress:
            progress(done, total)
    report.problems.sort(key=lambda p: p.number)
    if report.problems and not partial:
        raise EditsRefused(report.problems)
    return report


def _apply_row(
    session: Session, row: EditRow, unit: str, store: dict, first_seen: dict, actor: User, report: EditReport
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
    for col, value in row.context.items():
        if value != (current[col] or "").strip():
            return refuse(
                col,
                f"is read-only here and was changed (the file has {value!r}, the store has "
                f"{current[col]!r}); only status, owner, target_date and progress can be edited",
            )
    now = _snapshot(rec)
    diff = {k: v for k, v in row.values.items() if now[k] != v}
    if not diff:
        report.unchanged += 1
        return None
    if row.version != rec.version:
        at_export = _values_at(session, rec, row.version) if row.version < rec.version else None
        if at_export is not None and all(at_export[k] == v for k, v in row.values.items()):
            report.unchanged += 1  # not edited in the file; the store moved on since the export
            return None
    if not row.reason:
        return refuse(
            "reason", f"is empty but the row changes {', '.join(diff)}; say why in the reason column"
        )
    try:
        change = RecommendationUpdate(expected_version=row.version, reason=row.reason, **diff)
    except ValidationError as e:
        err = e.errors()[0]
        return refuse(".".join(map(str, err["loc"])) or "(row)", err["msg"])
    savepoint = session.begin_nested()
    try:
        updated = update_recommendation(session, key=row.key, change=change, actor=actor)
        savepoint.commit()
    except StaleVersion as e:
        savepoint.rollback()
        return refuse("version", str(e))
    except DomainError as e:
        savepoint.rollback()
        name = "status" if "status" in diff and isinstance(e, RuleViolation) else "(row)"
        return refuse(name, str(e))
    report.applied.append(
        AppliedEdit(row.number, row.key, {k: (now[k], v) for k, v in diff.items()}, updated.version)
    )
    return None
