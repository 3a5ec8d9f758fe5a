"""The handover report: one self-contained HTML page for the incoming officer, listing every record
a handover batch moved with where it stands, its recent history, evidence, what blocks it, the
steps still to do and what the outgoing officer noted.

HTML, not PDF: it opens in any browser, prints to PDF from there, and needs no typesetter. Every
value that came from a person (titles, reasons, names) goes through :func:`html.escape`, so a title
that looks like markup is shown as the text it is. The content is
:func:`models.reads.handover.handover_report`, rebuilt from the trail, so the same report can be
produced again for a batch at any time.
"""

from __future__ import annotations

import html
from pathlib import Path

from sqlalchemy.engine import Engine

from models.reads.handover import HandoverItem, HandoverReport, handover_report
from models.store.db import read_session
from models.store.settings import get_settings
from models.store.vocabulary import STATUS_LABELS, STEP_STATUS_LABELS

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1000px}"
    ".banner{background:#007a33;color:#fff;text-align:center;font-weight:bold;padding:4px}"
    "section{border:1px solid #ccc;border-radius:4px;padding:.5em 1em;margin:1em 0;page-break-inside:avoid}"
    "h2{font-size:1.1em;margin:.3em 0}dl{display:grid;grid-template-columns:10em 1fr;margin:0}"
    "dt{font-weight:bold}dd{margin:0}ul{margin:.2em 0}small{color:#555}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
)


def _t(value) -> str:
    return html.escape("" if value is None else str(value))


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "none set"


def _list(lines: list[str], empty: str) -> str:
    if not lines:
        return f"<p><small>{_t(empty)}</small></p>"
    return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def _events(rows: list[dict], empty: str) -> str:
    return _list(
        [
            f"{_t(_day(e['at']))} · {_t(e['actor'])} · {_t(e['action'].replace('_', ' '))}: {_t(e['reason'])}"
            for e in rows
        ],
        empty,
    )


def _item(i: HandoverItem) -> str:
    steps = [
        f"{_t(s['position'])}. {_t(s['title'])} ({_t(STEP_STATUS_LABELS.get(s['status'], s['status']))}, "
        f"due {_t(_day(s['due']))})"
        for s in i.steps_due
    ]
    return f"""<section id="{_t(i.key)}">
<h2>{_t(i.key)}: {_t(i.title)}</h2>
<dl><dt>Status</dt><dd class="status">{_t(STATUS_LABELS.get(i.status, i.status))}</dd>
<dt>Progress</dt><dd>{_t(i.progress)} %</dd>
<dt>Target date</dt><dd>{_t(_day(i.target_date))}</dd>
<dt>Owner</dt><dd>{_t(i.owner)}</dd>
<dt>Responsible</dt><dd>{_t(i.responsible)}{f" (before: {_t(i.previous)})" if i.previous else ""}</dd>
<dt>To close it</dt><dd>{_t(i.close_plan or "no statement yet")}</dd></dl>
<h3>What the outgoing officer noted</h3>{_events(i.noted, "nothing recorded by the outgoing officer")}
<h3>History in brief (latest first)</h3>{_events(i.history, "no events")}
<h3>Evidence</h3>{_list([_t(e) for e in i.evidence], "no evidence attached")}
<h3>Blocking obstacles</h3>{_list([_t(o) for o in i.obstacles], "nothing blocking")}
<h3>Steps still to do</h3>{_list(steps, "no open steps")}
</section>"""


def render_handover(report: HandoverReport, *, banner: str | None = None) -> str:
    """The report as one HTML document (nothing here reads the store)."""
    banner = get_settings().banner if banner is None else banner
    scope = " and ".join(
        p
        for p in (
            f"office {_t(report.office)}" if report.office else "",
            f"the records of {_t(report.from_user)}" if report.from_user else "",
        )
        if p
    )
    index = "".join(
        f'<tr><td><a href="#{_t(i.key)}">{_t(i.key)}</a></td><td>{_t(i.title)}</td>'
        f"<td>{_t(STATUS_LABELS.get(i.status, i.status))}</td><td>{_t(i.progress)} %</td>"
        f"<td>{_t(_day(i.target_date))}</td></tr>"
        for i in report.items
    )
    when = report.at.strftime("%Y-%m-%d %H:%M UTC") if report.at else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Handover to {_t(report.to_user)}</title><style>{_STYLE}</style></head><body>
<div class="banner">{_t(banner)}</div>
<h1>Handover to {_t(report.to_name or report.to_user)} ({_t(report.to_user)})</h1>
<p>{len(report.items)} open recommendation{"s" if len(report.items) != 1 else ""}{f" of {scope}" if scope else ""},
handed over by {_t(report.actor)} on {_t(when)} (trail events from {_t(report.first_seq)}).</p>
<p><strong>Reason for the handover:</strong> {_t(report.reason)}</p>
<table><tr><th>key</th><th>title</th><th>status</th><th>progress</th><th>target date</th></tr>{index}</table>
{"".join(_item(i) for i in report.items)}
</body></html>
"""


def write_handover_report(engine: Engine, *, first_seq: int, path: Path) -> int:
    """Write the report of the batch starting at event ``first_seq`` to ``path``; returns its size."""
    data = handover_html(engine, first_seq=first_seq)
    path.write_bytes(data)
    return len(data)


def handover_html(engine: Engine, *, first_seq: int) -> bytes:
    """The report as bytes, for the page's download button."""
    with read_session(engine) as session:
        return render_handover(handover_report(session, first_seq=first_seq)).encode("utf-8")
