"""Round-trip bulk edits, the export half: recommendations to CSV or Excel with their versions.

The ``obstacles`` column lists the keys of the obstacles that block a recommendation now,
separated by ``;``: adding a key links that obstacle, removing one unlinks it (through
:mod:`models.rules.obstacles`, with the row's reason). Obstacles already resolved or no longer
blocking for a recommendation are not listed, so a file never unlinks them by leaving them out.

Cells a spreadsheet would run as a formula are escaped on the way out (and unescaped on the way
back in by :mod:`models.workflow.bulk_edits`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models.store.errors import InvalidInput
from models.store.tables import Obstacle, Recommendation, RecommendationObstacle
from models.store.vocabulary import STATUSES, status_shown
from models.trail.export_formats import CsvOut, spreadsheet_safe

EDITABLE = ("status", "owner", "target_date", "progress")

#: the editable column of obstacle keys; optional on import, so files exported before it still apply
OBSTACLES = "obstacles"
OBSTACLE_SEPARATOR = "; "


READ_ONLY = ("title", "theme", "kind", "who_must_act", "parent")

#: what a reader of the file should know and the import ignores: whether any source names the owner,
#: and the status as the dashboard words it ("No status claimed" for a policy no source gives one)
SHOWN = ("owner_inferred", "status_shown")


COLUMNS = (
    "key",
    "title",
    "status",
    "owner",
    "target_date",
    "progress",
    "version",
    "theme",
    "kind",
    "who_must_act",
    "parent",
    "obstacles",
    "reason",
    *SHOWN,
)


REQUIRED = ("key", "status", "owner", "target_date", "progress", "version", "reason")


SHEET = "recommendations"


FORMATS = (".csv", ".xlsx")


MAX_ROWS = 200_000


Progress = Callable[[int, int], None]


def _fmt(path: str | Path) -> str:
    suffix = Path(str(path)).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(f"{Path(str(path)).name!r}: use a .csv or .xlsx file name")
    return suffix[1:]


def export_rows(session: Session, *, status: str | None = None, owner: str | None = None) -> Iterator[dict]:
    """The rows of an edit file, one dict per recommendation, in key order, streamed from the store."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    parent = aliased(Recommendation)
    q = (
        select(Recommendation, parent.key)
        .join(parent, col(Recommendation.parent_id) == parent.id, isouter=True)
        .order_by(Recommendation.key)
        .execution_options(yield_per=500)
    )
    if status:
        q = q.where(Recommendation.status == status)
    if owner:
        q = q.where(Recommendation.owner == owner)
    blocking: dict[int, list[str]] = {}
    for rec_id, ob_key in session.exec(
        select(RecommendationObstacle.recommendation_id, Obstacle.key)
        .join(Obstacle, col(Obstacle.id) == RecommendationObstacle.obstacle_id)
        .where(RecommendationObstacle.state == "blocking")
        .order_by(Obstacle.key)
    ):
        blocking.setdefault(rec_id, []).append(ob_key)
    for rec, parent_key in session.exec(q):
        yield {
            "key": rec.key,
            "title": rec.title,
            "status": rec.status,
            "owner": rec.owner,
            "target_date": rec.target_date,
            "progress": rec.progress,
            "version": rec.version,
            "theme": rec.theme,
            "kind": rec.kind,
            "who_must_act": rec.who_must_act,
            "parent": parent_key or "",
            "obstacles": OBSTACLE_SEPARATOR.join(blocking.get(cast(int, rec.id), [])),
            "reason": "",
            "owner_inferred": "true" if rec.owner_inferred else "false",
            "status_shown": status_shown(rec.status, rec.kind),
        }


def _csv_cell(value):
    return value.isoformat() if isinstance(value, date) else value


def write_csv(rows, out: BinaryIO) -> int:
    """Stream rows as UTF-8 CSV (with a byte-order mark, so spreadsheet programs read it as UTF-8);
    formula-like text gets the apostrophe of :class:`models.trail.export_formats.CsvOut`, removed on import."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = CsvOut(text, COLUMNS)
    n = 0
    for row in rows:
        writer.row([_csv_cell(row[c]) for c in COLUMNS])
        n += 1
    text.flush()
    text.detach()
    return n


def write_xlsx(rows, out: BinaryIO) -> int:
    """Write rows to a workbook (streamed, openpyxl's write-only mode): a ``recommendations``
    sheet and a short ``how to edit`` sheet."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.freeze_panes = "B2"
    bold = Font(bold=True)
    header = []
    for c in COLUMNS:
        cell = WriteOnlyCell(ws, value=c)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    n = 0
    for row in rows:
        cells = []
        for c in COLUMNS:
            cell = WriteOnlyCell(ws, value=row[c])
            if isinstance(row[c], str):
                cell.data_type = "s"  # text stays text, never a formula
                cell.number_format = "@"  # and stays text when edited (00123 keeps its zeros)
                if spreadsheet_safe(row[c]) is not row[c]:
                    cell.quotePrefix = True  # shown with the apostrophe marker, so editing keeps it text
            if c == "target_date":
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        ws.append(cells)
        n += 1
    about = wb.create_sheet("how to edit")
    for line in (
        "Edit status, owner, target_date and progress on the 'recommendations' sheet, and say why in 'reason'.",
        "In 'obstacles', list the keys of the obstacles that block the record, separated by ';': add a key to link "
        "it, delete one to unlink it (`rectrack obstacle list` shows the keys).",
        "Leave key, version and the other columns as they are; they tell the import which record and version you edited.",
        "Import with: rectrack apply-edits FILE.xlsx --as USERNAME (add --partial to apply the good rows only).",
        "Closing as implemented or not_implemented needs the two-step verified closure, not this file.",
    ):
        about.append([line])
    wb.save(out)
    return n


def export_edits(
    session: Session, out: BinaryIO, *, fmt: str, status: str | None = None, owner: str | None = None
) -> int:
    """Write an edit file (``fmt`` ``csv`` or ``xlsx``) to a binary stream; returns the row count."""
    rows = export_rows(session, status=status, owner=owner)
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "xlsx":
        return write_xlsx(rows, out)
    raise InvalidInput(f"unknown format {fmt!r}; use csv or xlsx")


def export_edits_file(
    session: Session, path: Path, *, status: str | None = None, owner: str | None = None
) -> int:
    fmt = _fmt(path)
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"unknown status {status!r}; use one of: {', '.join(STATUSES)}")
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("wb") as fh:
            n = export_edits(session, fh, fmt=fmt, status=status, owner=owner)
        tmp.replace(path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"cannot write {str(path)!r}: {e.strerror or e}") from None
    return n
