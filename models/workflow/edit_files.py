"""Reading a bulk-edit file (CSV or Excel) into rows to apply, every problem named by line or row.

Kept apart from applying them (:mod:`models.workflow.bulk_edits`) because reading is where hostile
files are met: a size bound before anything is parsed, workbooks read only to the header's width
and at most ``MAX_ROWS`` rows within an unpacked-size bound, and each cell parsed to its type or
reported with its position. Nothing here touches the store.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from models.store.errors import InvalidInput
from models.store.settings import Settings, get_settings
from models.store.vocabulary import STATUSES
from models.trail.export_formats import spreadsheet_unsafe
from models.workflow.bulk_export import (
    COLUMNS,
    MAX_ROWS,
    OBSTACLES,
    READ_ONLY,
    REQUIRED,
    SHEET,
    _fmt,
)
from models.workflow.csv_import import RowProblem, csv_records, decode_csv, sniff_delimiter


@dataclass
class EditRow:
    number: int  # CSV line / worksheet row where the row starts
    key: str
    values: dict  # status, owner, target_date, progress (parsed)
    version: int
    reason: str
    context: dict  # read-only columns present in the file, as text
    obstacles: frozenset[str] | None = None  # keys of the blocking obstacles; None: no such column


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
    version: Any = raw.get("version")  # the cell as read, then the parsed number

    try:
        version = _int(_text(version) if isinstance(version, str) else version, 1, None)
    except (ValueError, TypeError):
        problem(
            "version",
            f"{_text(version)!r} is not the version the file was exported with; "
            "keep the exported value (re-export to start from the current versions)",
        )
    reason = _text(raw.get("reason"))
    obstacles = None
    if OBSTACLES in raw:
        # ";" as exported, "," or a new line as people type lists; blanks between separators ignored
        text = _text(raw[OBSTACLES]).replace(",", ";").replace("\n", ";")
        obstacles = frozenset(k.strip() for k in text.split(";") if k.strip())
        for k in sorted(obstacles):
            if len(k) > 80 or any(c.isspace() for c in k):
                problem(OBSTACLES, f"{k[:80]!r} is not an obstacle key; separate the keys with ';'")
                break
    if len(problems) > bad:
        return None
    context = {c: _text(raw[c]) for c in READ_ONLY if c in raw}
    return EditRow(number, key, values, version, reason, context, obstacles)


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
