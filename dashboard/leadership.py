"""The Overview's leadership panels: the headline cards and "what changed", drawn as compact HTML
so the four headline items, their obstacles and the quarter's changes fit one 1440 × 900 screen
without a click, and stack into one column at phone width.

Every value a person or a file supplied passes through :func:`html.escape`; long text is cut only
with the whole of it in the element's ``title`` (a tooltip) and on the record's own page (the link).
"""

from __future__ import annotations

import html
from datetime import date, datetime
from urllib.parse import quote

from models.store.vocabulary import FIGURE_COLORS, STATUS_LABELS, UNCLAIMED, figure_status, status_shown

_CSS = """
<style>
.rt-cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:8px;margin:0 0 4px 0}
@media (max-width:1100px){.rt-cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media (max-width:640px){.rt-cards{grid-template-columns:minmax(0,1fr)}}
.rt-card{border:1px solid #d0d4da;border-left:5px solid var(--c);border-radius:6px;padding:7px 10px;
  font-size:.78rem;line-height:1.28;background:#fff;color:#111;min-width:0}
.rt-card h4{font-size:.95rem;margin:0 0 3px 0;padding:0;line-height:1.25}
.rt-card h4 a{color:#0b3d91;text-decoration:none}
.rt-card h4 a:hover{text-decoration:underline}
.rt-card .rt-row{margin:2px 0;overflow-wrap:anywhere}
.rt-card .rt-k{color:#555;font-weight:600}
.rt-chip{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.78rem;font-weight:600}
.rt-flag{display:inline-block;border:1px solid #D55E00;color:#8a3a00;border-radius:4px;padding:0 5px;
  font-size:.74rem;font-weight:700;margin-left:4px}
.rt-changes{font-size:.84rem;line-height:1.35;margin:0;padding-left:1.1rem}
.rt-changes li{margin:1px 0;overflow-wrap:anywhere}
.rt-changes a{color:#0b3d91}
.rt-counts{font-size:.86rem;margin:2px 0 4px 0}
.rt-counts b{font-weight:700}
</style>
"""


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _cut(text: str | None, n: int) -> str:
    """At most ``n`` characters shown, the whole text in a tooltip when cut."""
    text = (text or "").strip()
    if len(text) <= n:
        return _e(text)
    return f'<span title="{_e(text)}">{_e(text[: n - 1].rstrip())}…</span>'


def _day(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:%d %b %Y}".lstrip("0") if isinstance(value, (date, datetime)) else str(value)


def record_link(key: str) -> str:
    return f"./recommendations?rec={quote(key)}"


def chip(status: str) -> str:
    """``status`` may be ``unclaimed``: "No status claimed", grey (see figure_status)."""
    color = FIGURE_COLORS.get(status, "#777")
    fg = "#000" if status in ("under_review", UNCLAIMED) else "#fff"
    return f'<span class="rt-chip" style="background:{color};color:{fg}">{_e(status_shown(status))}</span>'


def headline_cards(items: list[dict]) -> str:
    cards = []
    for i in items:
        last = i["last_change"]
        obstacles = "; ".join(o["title"] for o in i["obstacles"]) or "none recorded"
        flags = ""
        if i["long_open"]:
            flags += f'<span class="rt-flag" title="Open five years or more">open {i["open_days"] // 365} yrs</span>'
        if i["overdue"]:
            flags += '<span class="rt-flag">overdue</span>'
        owner = _e(i["owner"]) + (
            ' <i title="The sources do not name the office; inferred">(inferred)</i>'
            if i["owner_inferred"]
            else ""
        )
        cards.append(
            f'<div class="rt-card" data-testid="headline-card" data-key="{_e(i["key"])}" '
            f'style="--c:{FIGURE_COLORS.get(figure_status(i["status"], i.get("kind")), "#777")}">'
            f'<h4><a href="{record_link(i["key"])}" target="_self">{_e(i["title"])}</a></h4>'
            f'<div class="rt-row">{chip(figure_status(i["status"], i.get("kind")))} <span title="Since {_day(i["status_since"])}">'
            f"{i['days_in_status']:,} days in status</span>{flags}</div>"
            f'<div class="rt-row"><span class="rt-k">Owner</span> {owner}</div>'
            f'<div class="rt-row"><span class="rt-k">Last change</span> {_day(last["when"])} · {_e(last["actor"])} · '
            f"{_cut(last['reason'], 70)}</div>"
            f'<div class="rt-row"><span class="rt-k">Next target</span> '
            f"{_day(i['target_date']) if i['target_date'] else 'none set'}</div>"
            f'<div class="rt-row" data-testid="headline-obstacles"><span class="rt-k">Blocked by</span> {_e(obstacles)}</div>'
            f'<div class="rt-row"><span class="rt-k">To close</span> {_cut(i["close_plan"] or "not stated yet", 200)}</div>'
            "</div>"
        )
    return _CSS + f'<div class="rt-cards" data-testid="headline-panel">{"".join(cards)}</div>'


def changes_summary(changes: dict, labels: dict[str, str], shown: int = 6) -> str:
    counts = [f"{_e(labels[k])} <b>{n}</b>" for k, n in changes["counts"].items() if n]
    head = (" · ".join(counts)) if counts else "Nothing moved in this period."
    lines = []
    for c in changes["items"][:shown]:
        moved = ""
        if c["kind"] == "created":
            moved = f" as {_e(STATUS_LABELS.get(c['status_after'] or '', c['status_after'] or ''))}"
        elif c["status_before"] or c["status_after"]:
            moved = (
                f" {_e(STATUS_LABELS.get(c['status_before'] or '', c['status_before'] or '—'))} → "
                f"{_e(STATUS_LABELS.get(c['status_after'] or '', c['status_after'] or '—'))}"
            )
        detail = f" — {_e(c['detail'])}" if c["detail"] and not moved else ""
        who = f" · {_e(c['actor'])}" if c["actor"] else ""
        lines.append(
            f"<li>{_day(c['when'])} <b>{_e(c['label'].lower())}</b>: "
            f'<a href="{record_link(c["key"])}" target="_self" title="{_e(c["title"])}">{_e(c["key"])}</a>'
            f"{moved}{detail}{who}</li>"
        )
    more = len(changes["items"]) - shown
    tail = f"<li>… {more} more below (“All changes”)</li>" if more > 0 else ""
    return (
        _CSS
        + f'<div class="rt-counts" data-testid="changes-counts">{head}</div>'
        + (f'<ul class="rt-changes" data-testid="changes-list">{"".join(lines)}{tail}</ul>' if lines else "")
    )


def changes_rows(changes: dict) -> list[dict]:
    """Every listed change as a table row (no empty cell shows None or nan)."""
    rows = []
    for c in changes["items"]:
        moved = ""
        if c["status_before"] or c["status_after"]:
            moved = (
                f"{STATUS_LABELS.get(c['status_before'] or '', c['status_before'] or '—')} → "
                f"{STATUS_LABELS.get(c['status_after'] or '', c['status_after'] or '—')}"
            )
        rows.append(
            {
                "when": _day(c["when"]),
                "what": c["label"],
                "key": c["key"],
                "title": c["title"] or "—",
                "status": moved or "—",
                "detail": c["detail"] or "—",
                "by": c["actor"] or "—",
                "why": c["reason"] or "—",
            }
        )
    return rows
