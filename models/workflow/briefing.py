"""The leadership briefing as a PDF: typeset by Typst, charts drawn offline by vl-convert.

Both come from PyPI as self-contained wheels (``typst``, ``vl-convert-python``): no browser, no
system library, no network, so the same command works on a clean machine and in CI. Typst embeds
its own fonts (Libertinus Serif), so the PDF looks the same wherever it is built.

What it says is :func:`models.reads.briefing.briefing_content`; this module renders the charts,
hands the content to ``briefing.typ`` as JSON (strings there are placed as text, never evaluated),
and records the export: the PDF's SHA-256, page count and scope go into a trail event in the same
transaction that moves the file into place, so a briefing in circulation can be matched to its
record, and a briefing that could not be written leaves no record.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.reads.briefing import BriefingRequest, briefing_content
from models.rules.trail_events import record_briefing
from models.store.db import read_session, write_session
from models.store.errors import DomainError
from models.store.tables import User
from models.store.vocabulary import FIGURE_COLORS
from models.workflow import brief_charts

TEMPLATE = Path(__file__).with_name("briefing.typ")
BANNER_COLORS = {"UNCLASSIFIED": "#007A33", "CUI": "#502B85", "CONFIDENTIAL": "#0033A0", "SECRET": "#C8102E"}

__all__ = [
    "BriefingRequest",
    "BriefingResult",
    "build_pdf",
    "briefing_download",
    "write_briefing",
    "page_count",
]


class BriefingError(DomainError):
    """The briefing could not be produced or written; nothing was recorded."""


@dataclass
class BriefingResult:
    pdf: bytes
    pages: int
    sha256: str
    event_seq: int | None = None


def banner_color(text: str) -> str:
    return next((c for k, c in BANNER_COLORS.items() if text.upper().startswith(k)), "#333333")


def page_count(pdf: bytes) -> int:
    """Pages of a PDF Typst wrote (its page tree's count)."""
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    return max(counts, default=0)


def build_pdf(content: dict, *, producer: str) -> BriefingResult:
    """Typeset ``content`` (from :func:`briefing_content`) into PDF bytes."""
    import typst

    data = {
        **content,
        "producer": producer,
        "banner_color": banner_color(content["banner"]),
        "status_colors": FIGURE_COLORS,  # "unclaimed": the grey of "No status claimed"
        "scope_is_priority": content["scope"] == "priority recommendations",
    }
    with tempfile.TemporaryDirectory(prefix="rectrack-brief-") as tmp:
        root = Path(tmp)
        (root / "briefing.typ").write_text(TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
        (root / "data.json").write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
        (root / "status.svg").write_text(
            brief_charts.to_svg(brief_charts.status_bars(content["by_shown_status"])), encoding="utf-8"
        )
        (root / "progress.svg").write_text(
            brief_charts.to_svg(brief_charts.progress_area(content["flow"])), encoding="utf-8"
        )
        if content["blocking"]:
            (root / "obstacles.svg").write_text(
                brief_charts.to_svg(brief_charts.obstacle_ranking(content["blocking"])), encoding="utf-8"
            )
        try:
            pdf = typst.compile(str(root / "briefing.typ"), root=str(root), ignore_system_fonts=True)
        except Exception as e:  # typst.TypstError and friends: a template bug, never user input
            raise BriefingError(f"the briefing could not be typeset: {str(e).splitlines()[0][:300]}") from e
    return BriefingResult(pdf=pdf, pages=page_count(pdf), sha256=hashlib.sha256(pdf).hexdigest())


def produce(engine: Engine, request: BriefingRequest, *, actor: User) -> tuple[dict, BriefingResult]:
    """Read and typeset (no write): the content and the PDF."""
    from models.rules.permissions import require

    require(actor, "briefing.export")
    with read_session(engine) as session:
        content = briefing_content(session, request)
    return content, build_pdf(content, producer=actor.display_name or actor.username)


def record(
    engine: Engine,
    request: BriefingRequest,
    result: BriefingResult,
    *,
    actor: User,
    destination: str,
    on_commit=None,
) -> BriefingResult:
    """Record the export in the trail; ``on_commit`` (e.g. moving the file into place) runs inside
    the transaction, so a failure there records nothing."""
    with write_session(engine) as session:
        event = record_briefing(
            session,
            actor=actor,
            scope=request.scope_json(),
            sha256=result.sha256,
            pages=result.pages,
            destination=destination,
        )
        result.event_seq = event.seq
        if on_commit is not None:
            on_commit()
    return result


def briefing_download(engine: Engine, request: BriefingRequest, *, actor: User) -> bytes:
    """The PDF for the Overview's download button, recorded in the trail as it is handed over."""
    _, result = produce(engine, request, actor=actor)
    record(engine, request, result, actor=actor, destination="download from the Overview")
    return result.pdf


def write_briefing(engine: Engine, request: BriefingRequest, *, actor: User, out: Path) -> BriefingResult:
    """Build the briefing, record it, and write it to ``out`` (all or nothing)."""
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise BriefingError(f"--out {str(out)!r}: the briefing is a PDF; give a file name ending in .pdf")
    if not out.parent.exists():
        raise BriefingError(f"--out {str(out)!r}: the folder {str(out.parent)!r} does not exist")
    _, result = produce(engine, request, actor=actor)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        tmp.write_bytes(result.pdf)
    except OSError as e:
        raise BriefingError(f"could not write {str(out)!r}: {e.strerror or e}") from e
    try:
        record(engine, request, result, actor=actor, destination=str(out), on_commit=lambda: tmp.replace(out))
    finally:
        tmp.unlink(missing_ok=True)
    return result
