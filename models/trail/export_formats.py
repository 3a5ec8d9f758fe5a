"""The formats an auditor export is written in: CSV, JSON Lines and the readable HTML report.

Rows stream from a server-side cursor in batches; nothing loads the trail.

CSV is for people and spreadsheets, JSON Lines is the canonical form a bundle verifies: every CSV
the product writes goes through :class:`CsvOut`, which puts an apostrophe before a text cell that
a spreadsheet would otherwise run as a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return),
so a reason, or a username typed at the sign-in form, like ``=HYPERLINK(...)`` stays text. The
JSON Lines keep the exact text, and the hashes cover that."""

from __future__ import annotations

import csv
import html
import json
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import IO

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from models.store.settings import get_settings
from models.store.tables import AuditEvent, EvidenceItem, EvidenceLink, Recommendation, utcnow
from models.store.vocabulary import FIGURE_COLORS, figure_status, owner_shown, status_shown
from models.trail.chain import (
    HASHED_FIELDS,
    compact_json,
    iso,
    iter_canonical_rows,
)

BUNDLE_FORMAT = "rectrack-bundle/2"  # 2: a signed manifest; recommendations.jsonl from the events


FORMATS = ("csv", "jsonl", "html", "bundle")


COLUMNS = HASHED_FIELDS + ("hash",)


@dataclass(frozen=True)
class Scope:
    """Which part of the trail: some recommendations, one owner's, a period (on effective dates)."""

    keys: tuple[str, ...] = ()
    owner: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive

    def describe(self) -> dict:
        d = asdict(self)
        d["keys"] = list(self.keys)
        d["since"] = self.since.isoformat() if self.since else None
        d["until"] = self.until.isoformat() if self.until else None
        return d

    @property
    def whole(self) -> bool:
        return not self.keys and not self.owner and not self.since and not self.until

    def rec_filter(self):
        conds = []
        if self.keys:
            conds.append(col(Recommendation.key).in_(self.keys))
        if self.owner:
            conds.append(Recommendation.owner == self.owner)
        return and_(*conds) if conds else None

    def event_filter(self, upto_seq: int):
        conds = [col(AuditEvent.seq) <= upto_seq]
        rec_cond = self.rec_filter()
        if rec_cond is not None:
            rec_keys = select(Recommendation.key).where(rec_cond)
            ev_keys = (
                select(EvidenceItem.key)
                .join(EvidenceLink, col(EvidenceLink.evidence_id) == EvidenceItem.id)
                .join(Recommendation, col(Recommendation.id) == EvidenceLink.recommendation_id)
                .where(rec_cond)
            )
            conds.append(
                or_(
                    and_(
                        col(AuditEvent.record_type) == "recommendation",
                        col(AuditEvent.record_key).in_(rec_keys),
                    ),
                    and_(col(AuditEvent.record_type) == "evidence", col(AuditEvent.record_key).in_(ev_keys)),
                )
            )
        if self.since:
            conds.append(col(AuditEvent.effective_at) >= datetime.combine(self.since, time(), tzinfo=UTC))
        if self.until:
            conds.append(
                col(AuditEvent.effective_at)
                < datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC)
            )
        return and_(*conds)


def _event_dict(row: tuple) -> dict:
    """An event as exported; ``row`` from :func:`iter_event_rows` (datetimes) or
    :func:`iter_canonical_rows` (ISO strings already)."""
    d = dict(zip(COLUMNS, row))
    for k in ("recorded_at", "effective_at"):
        if isinstance(d[k], datetime):
            d[k] = iso(d[k])
    return d


_JSON_LINE = compact_json  # = json.dumps(..., ensure_ascii=False, separators=(",", ":")), made once


def _flatten(batches) -> Iterator[tuple]:
    for rows in batches:
        yield from rows


def _in_scope_seqs(session: Session, scope: Scope, upto: int) -> Iterator[tuple]:
    return _flatten(iter_canonical_rows(session, where=scope.event_filter(upto)))


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = frozenset(FORMULA_START)


def spreadsheet_safe(value):
    """``value`` as a CSV cell a spreadsheet shows as text: a leading apostrophe before text that
    starts like a formula (LibreOffice and Excel hide the apostrophe and keep the cell text)."""
    if value.__class__ is str and value and value[0] in _FORMULA_CHARS:
        return "'" + value
    return value


def spreadsheet_unsafe(text: str) -> str:
    """The inverse of :func:`spreadsheet_safe`, for files the product reads back."""
    return text[1:] if text[:1] == "'" and text[1:2] in _FORMULA_CHARS and text[1:2] else text


class CsvOut:
    """The one CSV writer for what the product writes: a header, then rows with every cell made
    :func:`spreadsheet_safe` (None is an empty field, as the csv module writes it)."""

    def __init__(self, out: IO[str], header=COLUMNS) -> None:
        self._w = csv.writer(out)
        self._w.writerow(header)

    def row(self, values) -> None:
        self._w.writerow([spreadsheet_safe(v) for v in values])

    def rows(self, batch) -> None:
        safe = spreadsheet_safe
        self._w.writerows([[safe(v) for v in values] for values in batch])


def write_csv(rows, out: IO[str]) -> int:
    """Events (rows of :func:`iter_canonical_rows` or event dicts' values in ``COLUMNS`` order) as CSV."""
    w = CsvOut(out)
    n = 0
    for row in rows:
        d = _event_dict(row) if not isinstance(row, dict) else row
        w.row([d[c] for c in COLUMNS])
        n += 1
    return n


def write_csv_batches(batches, out: IO[str]) -> int:
    """:func:`write_csv` for batches of :func:`iter_canonical_rows`: the same bytes, a batch at a time."""
    w = CsvOut(out)
    n = 0
    for rows in batches:
        w.rows(rows)
        n += len(rows)
    return n


def write_jsonl(rows, out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(_JSON_LINE(_event_dict(row)))
        out.write("\n")
        n += 1
    return n


def _svg_bars(title: str, items: list[tuple[str, int]], colours: dict | None = None, unit: str = "") -> str:
    if not items:
        return f"<p><em>{html.escape(title)}: nothing in scope.</em></p>"
    width, bar_h, label_w = 640, 22, 170
    top = max(n for _, n in items) or 1
    rows = []
    for i, (label, n) in enumerate(items):
        w = int((width - label_w - 60) * n / top)
        fill = (colours or {}).get(label, "#0072B2")
        y = 24 + i * (bar_h + 6)
        rows.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(str(label))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{fill}"/>'
            f'<text x="{label_w + w + 4}" y="{y + 15}">{n:,}</text>'
        )
    h = 24 + len(items) * (bar_h + 6) + 10
    return (
        f'<figure><svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{h}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">'
        f'<text x="0" y="14" font-weight="bold">{html.escape(title)}{html.escape(unit)}</text>{"".join(rows)}</svg></figure>'
    )


class _ReportEvents:
    """What the HTML report shows about the events: counts and the first and last ``sample`` rows.
    Fed one event dict at a time, so a bundle builds it in the same pass that writes events.jsonl."""

    def __init__(self, sample: int = 300) -> None:
        self.sample = sample
        self.n = 0
        self.by_action: Counter = Counter()
        self.by_year: Counter = Counter()
        self.first: list[str] = []
        self.last_rows: deque[str | dict] = deque(maxlen=sample)

    def add(self, d: dict) -> None:
        self.n += 1
        self.by_action[d["action"]] += 1
        self.by_year[d["effective_at"][:4]] += 1
        if len(self.first) < self.sample:
            self.first.append(self._line(d))
        else:  # kept as dicts, formatted only if still among the last `sample` at the end
            self.last_rows.append(d)

    @staticmethod
    def _line(d: dict) -> str:
        return (
            f"<tr><td>{d['seq']}</td><td>{html.escape(d['effective_at'][:10])}</td><td>{html.escape(d['actor'])}</td>"
            f"<td>{html.escape(d['action'])}</td><td>{html.escape(d['record_key'])}</td>"
            f"<td>{html.escape(d['status_after'] or '')}</td><td>{html.escape(d['reason'])}</td>"
            f"<td><code>{d['hash'][:16]}…</code></td></tr>"
        )

    def last_lines(self) -> list[str]:
        return [x if isinstance(x, str) else self._line(x) for x in self.last_rows]


def write_report(
    session: Session,
    rows,
    out: IO[str],
    *,
    scope: Scope,
    exporter: str,
    head: tuple[int, str],
    sample: int = 300,
) -> int:
    """A self-contained HTML report: scope, charts, the recommendations (as stored now), and the events."""
    events = _ReportEvents(sample)
    for row in rows:
        events.add(_event_dict(row))
    rec_q = select(Recommendation)
    if scope.rec_filter() is not None:
        rec_q = rec_q.where(scope.rec_filter())
    recs = (
        {
            "key": r.key,
            "title": r.title,
            "status": r.status,
            "owner": r.owner,
            "version": r.version,
            "kind": r.kind,
            "owner_inferred": r.owner_inferred,
        }
        for r in session.exec(rec_q.order_by(Recommendation.key).execution_options(yield_per=2000))
    )
    facts = ReportFacts(scope.describe(), exporter, head, get_settings().banner, iso(utcnow()))
    return render_report(events, recs, out, facts)


@dataclass(frozen=True)
class ReportFacts:
    """Everything the report shows besides events and records: in a bundle, all of it is in the
    manifest, so a verifier renders the same report again and compares it byte for byte."""

    scope: dict
    exporter: str
    head: tuple[int, str]
    banner: str
    exported_at: str


def _cell(value) -> str:
    return html.escape("" if value is None else str(value))


def render_report(events: _ReportEvents, recs, out: IO[str], facts: ReportFacts) -> int:
    """Write the report from ``events`` and ``recs`` (dicts with key, title, status, owner, version,
    in key order); nothing here reads the store or the clock."""
    head = facts.head
    by_status: Counter = Counter()
    rec_rows: list[str] = []

    for rec in recs:
        status = rec.get("status")
        by_status[figure_status(status, rec.get("kind"))] += 1  # policies no source dates apart
        if len(rec_rows) < 2000:
            rec_rows.append(
                f"<tr><td>{_cell(rec.get('key'))}</td><td>{_cell(rec.get('title'))}</td>"
                f"<td>{_cell(status_shown(status, rec.get('kind')))}</td>"
                f"<td>{_cell(owner_shown(rec.get('owner') or '', bool(rec.get('owner_inferred'))))}</td>"
                f"<td>{_cell(rec.get('version'))}</td></tr>"
            )
    n, by_action, by_year, first = events.n, events.by_action, events.by_year, events.first
    last_rows = events.last_lines()
    gap = (
        (
            f'<tr><td colspan="8"><em>… {n - len(first) - len(last_rows):,} more events: see events.csv or events.jsonl …'
            f"</em></td></tr>"
        )
        if n > len(first) + len(last_rows)
        else ""
    )
    order = [s for s in FIGURE_COLORS if by_status.get(s)]
    colours = {status_shown(s): FIGURE_COLORS[s] for s in order}
    out.write(f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evidence trail report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;width:100%;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}}th{{background:#eef}}
.banner{{background:#007a33;color:#fff;text-align:center;font-weight:bold;padding:4px}}</style></head><body>
<div class="banner">{_cell(facts.banner)}</div>
<h1>Recommendation Tracker: evidence trail report</h1>
<p>Exported {_cell(facts.exported_at[:19])} UTC by {_cell(facts.exporter)}. Scope: <code>{html.escape(json.dumps(facts.scope))}</code>.
Chain head at export: event {_cell(head[0])}, <code>{_cell(head[1])}</code>. {n:,} events in scope; {sum(by_status.values()):,} recommendations.</p>
<p>To verify this export offline: <code>rectrack verify --bundle FILE.zip --key PUBKEY.pem</code>.</p>
<h2>Where the recommendations stand</h2>
{_svg_bars("Recommendations by status (now)", [(status_shown(s), by_status[s]) for s in order], colours)}
<h2>Activity</h2>
{_svg_bars("Events by action", by_action.most_common(12))}
{_svg_bars("Events by year (effective date)", sorted(by_year.items())[-25:])}
<h2>Recommendations</h2><table><tr><th>key</th><th>title</th><th>status</th><th>owner</th><th>version</th></tr>
{"".join(rec_rows)}</table>
<h2>Events</h2><table><tr><th>seq</th><th>effective</th><th>actor</th><th>action</th><th>record</th><th>status after</th><th>reason</th><th>hash</th></tr>
{"".join(first)}{gap}{"".join(last_rows)}</table></body></html>
""")
    return n
