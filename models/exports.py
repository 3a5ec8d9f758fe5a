"""Auditor exports (CSV, JSON Lines, an HTML report, a zip bundle) and offline bundle checks.

An auditor must be able to trust a bundle without trusting the app that made it. So a bundle
carries the events in scope with everything their hashes cover, the sequence numbers and
hashes of the events it leaves out (enough to check that the included ones sit where they
claim in one unbroken chain), the evidence files, and a manifest of every file's SHA-256,
itself hashed. :func:`verify_bundle` needs only this module and the zip.

Everything streams: events go from a server-side cursor to temporary files to the zip, so
memory stays flat however long the trail is. Every export is itself an audited event.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import IO, Iterator

from sqlalchemy import and_, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.audit import (
    GENESIS,
    HASHED_FIELDS,
    ChainChecker,
    ChainProblem,
    append_event,
    compact_json,
    iso,
    iter_canonical_rows,
)
from models.db import read_session, write_session
from models.errors import InvalidInput
from models.lifecycle import STATUS_LABELS
from models.vocabulary import STATUS_COLORS
from models.permissions import require
from models.settings import get_settings
from models.tables import AuditEvent, EvidenceFile, EvidenceItem, EvidenceLink, Recommendation, User, utcnow

BUNDLE_FORMAT = "rectrack-bundle/1"
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
            conds.append(Recommendation.key.in_(self.keys))
        if self.owner:
            conds.append(Recommendation.owner == self.owner)
        return and_(*conds) if conds else None

    def event_filter(self, upto_seq: int):
        conds = [AuditEvent.seq <= upto_seq]
        rec_cond = self.rec_filter()
        if rec_cond is not None:
            rec_keys = select(Recommendation.key).where(rec_cond)
            ev_keys = (select(EvidenceItem.key).join(EvidenceLink, EvidenceLink.evidence_id == EvidenceItem.id)
                       .join(Recommendation, Recommendation.id == EvidenceLink.recommendation_id).where(rec_cond))
            conds.append(or_(and_(AuditEvent.record_type == "recommendation", AuditEvent.record_key.in_(rec_keys)),
                             and_(AuditEvent.record_type == "evidence", AuditEvent.record_key.in_(ev_keys))))
        if self.since:
            conds.append(AuditEvent.effective_at >= datetime.combine(self.since, time(), tzinfo=timezone.utc))
        if self.until:
            conds.append(AuditEvent.effective_at < datetime.combine(self.until + timedelta(days=1), time(),
                                                                    tzinfo=timezone.utc))
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


def _record_export(engine: Engine, *, actor: User, fmt: str, scope: Scope) -> AuditEvent:
    with write_session(engine) as s:
        require(actor, "trail.export")
        return append_event(s, actor=actor.username, action="export", record_type="export", record_key=fmt,
                            reason=f"{fmt} export of the trail", after={"format": fmt, "scope": scope.describe()})


def _in_scope_seqs(session: Session, scope: Scope, upto: int) -> Iterator[tuple]:
    return _flatten(iter_canonical_rows(session, where=scope.event_filter(upto)))


def write_csv(rows, out: IO[str]) -> int:
    w = csv.writer(out)
    w.writerow(COLUMNS)
    n = 0
    for row in rows:
        d = _event_dict(row)
        w.writerow([("" if d[c] is None else d[c]) for c in COLUMNS])
        n += 1
    return n


def write_csv_batches(batches, out: IO[str]) -> int:
    """:func:`write_csv` for batches of :func:`iter_canonical_rows`: the same bytes, written by
    the csv module a batch at a time (it writes None as an empty field, as write_csv does)."""
    w = csv.writer(out)
    w.writerow(COLUMNS)
    n = 0
    for rows in batches:
        w.writerows(rows)
        n += len(rows)
    return n


def write_jsonl(rows, out: IO[str]) -> int:
    n = 0
    for row in rows:
        out.write(_JSON_LINE(_event_dict(row)))
        out.write("\n")
        n += 1
    return n


# ---------------------------------------------------------------- the readable report



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
        rows.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{html.escape(str(label))}</text>'
                    f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{fill}"/>'
                    f'<text x="{label_w + w + 4}" y="{y + 15}">{n:,}</text>')
    h = 24 + len(items) * (bar_h + 6) + 10
    return (f'<figure><svg role="img" aria-label="{html.escape(title)}" width="{width}" height="{h}" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="12">'
            f'<text x="0" y="14" font-weight="bold">{html.escape(title)}{html.escape(unit)}</text>{"".join(rows)}</svg></figure>')


class _ReportEvents:
    """What the HTML report shows about the events: counts and the first and last ``sample`` rows.
    Fed one event dict at a time, so a bundle builds it in the same pass that writes events.jsonl."""

    def __init__(self, sample: int = 300) -> None:
        self.sample = sample
        self.n = 0
        self.by_action: Counter = Counter()
        self.by_year: Counter = Counter()
        self.first: list[str] = []
        self.last_rows: deque[str] = deque(maxlen=sample)

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
        return (f"<tr><td>{d['seq']}</td><td>{html.escape(d['effective_at'][:10])}</td><td>{html.escape(d['actor'])}</td>"
                f"<td>{html.escape(d['action'])}</td><td>{html.escape(d['record_key'])}</td>"
                f"<td>{html.escape(d['status_after'] or '')}</td><td>{html.escape(d['reason'])}</td>"
                f"<td><code>{d['hash'][:16]}…</code></td></tr>")

    def last_lines(self) -> list[str]:
        return [x if isinstance(x, str) else self._line(x) for x in self.last_rows]


def write_report(session: Session, rows, out: IO[str], *, scope: Scope, exporter: str, head: tuple[int, str],
                 sample: int = 300) -> int:
    """A self-contained HTML report: scope, charts, the recommendations, and the events."""
    events = _ReportEvents(sample)
    for row in rows:
        events.add(_event_dict(row))
    return _render_report(session, events, out, scope=scope, exporter=exporter, head=head)


def _render_report(session: Session, events: _ReportEvents, out: IO[str], *, scope: Scope, exporter: str,
                   head: tuple[int, str]) -> int:
    rec_q = select(Recommendation)
    if scope.rec_filter() is not None:
        rec_q = rec_q.where(scope.rec_filter())
    by_status: Counter = Counter()
    rec_rows = []
    for rec in session.exec(rec_q.order_by(Recommendation.key).execution_options(yield_per=2000)):
        by_status[rec.status] += 1
        if len(rec_rows) < 2000:
            rec_rows.append(f"<tr><td>{html.escape(rec.key)}</td><td>{html.escape(rec.title)}</td>"
                            f"<td>{html.escape(STATUS_LABELS.get(rec.status, rec.status))}</td>"
                            f"<td>{html.escape(rec.owner)}</td><td>{rec.version}</td></tr>")
    n, by_action, by_year, first = events.n, events.by_action, events.by_year, events.first
    last_rows = events.last_lines()
    gap = (f'<tr><td colspan="8"><em>… {n - len(first) - len(last_rows):,} more events: see events.csv or events.jsonl …'
           f"</em></td></tr>") if n > len(first) + len(last_rows) else ""
    order = [s for s in STATUS_COLORS if by_status.get(s)]
    out.write(f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evidence trail report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}table{{border-collapse:collapse;width:100%;font-size:13px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}}th{{background:#eef}}
.banner{{background:#007a33;color:#fff;text-align:center;font-weight:bold;padding:4px}}</style></head><body>
<div class="banner">{html.escape(get_settings().banner)}</div>
<h1>Recommendation Tracker: evidence trail report</h1>
<p>Exported {html.escape(iso(utcnow())[:19])} UTC by {html.escape(exporter)}. Scope: <code>{html.escape(json.dumps(scope.describe()))}</code>.
Chain head at export: event {head[0]}, <code>{head[1]}</code>. {n:,} events in scope; {sum(by_status.values()):,} recommendations.</p>
<p>To verify this export offline: <code>rectrack verify --bundle FILE.zip</code>.</p>
<h2>Where the recommendations stand</h2>
{_svg_bars("Recommendations by status (now)", [(s, by_status[s]) for s in order], STATUS_COLORS)}
<h2>Activity</h2>
{_svg_bars("Events by action", by_action.most_common(12))}
{_svg_bars("Events by year (effective date)", sorted(by_year.items())[-25:])}
<h2>Recommendations</h2><table><tr><th>key</th><th>title</th><th>status</th><th>owner</th><th>version</th></tr>
{"".join(rec_rows)}</table>
<h2>Events</h2><table><tr><th>seq</th><th>effective</th><th>actor</th><th>action</th><th>record</th><th>status after</th><th>reason</th><th>hash</th></tr>
{"".join(first)}{gap}{"".join(last_rows)}</table></body></html>
""")
    return n


# ---------------------------------------------------------------- exports


@dataclass
class ExportResult:
    path: Path
    fmt: str
    events: int
    head: tuple[int, str]
    export_seq: int


def export(engine: Engine, *, fmt: str, scope: Scope, actor: User, out_path: Path) -> ExportResult:
    """Write one export to ``out_path`` (bundle: a zip). Records the export event first, then
    exports the trail up to and including it, so the file names its own export."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    event = _record_export(engine, actor=actor, fmt=fmt, scope=scope)
    head = (event.seq, event.hash)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.partial")
    try:
        with read_session(engine) as s:
            if fmt == "bundle":
                n = _write_bundle(s, tmp, scope=scope, exporter=actor.username, head=head)
            else:
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    rows = _in_scope_seqs(s, scope, head[0])
                    if fmt == "csv":
                        n = write_csv_batches(iter_canonical_rows(s, where=scope.event_filter(head[0])), fh)
                    elif fmt == "jsonl":
                        n = write_jsonl(rows, fh)
                    else:
                        n = write_report(s, rows, fh, scope=scope, exporter=actor.username, head=head)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return ExportResult(out_path, fmt, n, head, event.seq)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write_bundle(session: Session, target: Path, *, scope: Scope, exporter: str, head: tuple[int, str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="rectrack-bundle-"))
    try:
        included = 0
        evidence_keys: set[str] = set()
        report_events = _ReportEvents()
        with (work / "events.jsonl").open("w", encoding="utf-8") as jl, \
             (work / "events.csv").open("w", encoding="utf-8", newline="") as cf, \
             (work / "chain.jsonl").open("w", encoding="utf-8") as ch:
            w = csv.writer(cf)
            w.writerow(COLUMNS)
            in_scope = _in_scope_seqs(session, scope, head[0]) if not scope.whole else None
            nxt = next(in_scope, None) if in_scope is not None else None
            for row in _flatten(iter_canonical_rows(session, where=AuditEvent.seq <= head[0])):
                take = scope.whole or (nxt is not None and nxt[0] == row[0])
                if take:
                    if not scope.whole:
                        nxt = next(in_scope, None)
                    d = dict(zip(COLUMNS, row))
                    if d["record_type"] == "evidence" and d["action"] in ("evidence_add", "evidence_supersede"):
                        evidence_keys.add(d["record_key"])
                    jl.write(_JSON_LINE(d))
                    jl.write("\n")
                    w.writerow(row)  # the csv module writes None as an empty field
                    report_events.add(d)  # the HTML report is built in this same pass
                    included += 1
                else:
                    ch.write(json.dumps({"seq": row[0], "prev_hash": row[-2], "hash": row[-1]}, separators=(",", ":")) + "\n")
        rec_q = select(Recommendation)
        if scope.rec_filter() is not None:
            rec_q = rec_q.where(scope.rec_filter())
        with (work / "recommendations.jsonl").open("w", encoding="utf-8") as fh:
            for rec in session.exec(rec_q.order_by(Recommendation.key).execution_options(yield_per=2000)):
                fh.write(rec.model_dump_json(exclude={"id", "parent_id"}) + "\n")
        with (work / "report.html").open("w", encoding="utf-8") as fh:
            _render_report(session, report_events, fh, scope=scope, exporter=exporter, head=head)
        root = get_settings().data_dir
        evidence_names: dict[str, Path] = {}
        keys = sorted(evidence_keys)
        for i in range(0, len(keys), 500):  # files of the evidence whose events the bundle carries
            q = (select(EvidenceFile).join(EvidenceItem, EvidenceItem.id == EvidenceFile.evidence_id)
                 .where(EvidenceItem.key.in_(keys[i:i + 500])))
            for f in session.exec(q).all():
                src = root / f.stored_path
                if src.is_file():
                    evidence_names[f"evidence/{f.sha256}/{f.filename}"] = src
        manifest = {"format": BUNDLE_FORMAT, "exported_at": iso(utcnow()), "exporter": exporter,
                    "scope": scope.describe(), "chain_head": {"seq": head[0], "hash": head[1]},
                    "events_included": included, "files": {}}
        for name in ("events.jsonl", "events.csv", "chain.jsonl", "recommendations.jsonl", "report.html"):
            p = work / name
            manifest["files"][name] = {"sha256": _sha256_file(p), "bytes": p.stat().st_size}
        for name, src in sorted(evidence_names.items()):
            manifest["files"][name] = {"sha256": _sha256_file(src), "bytes": src.stat().st_size}
        manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        # level 1: a million-event trail is ~1 GB of text; the default level 6 took longer than
        # everything else in the export together, for a file only slightly smaller
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1) as zf:
            zf.writestr("manifest.json", manifest_bytes)
            zf.writestr("manifest.sha256", f"{hashlib.sha256(manifest_bytes).hexdigest()}  manifest.json\n")
            for name in ("events.jsonl", "events.csv", "chain.jsonl", "recommendations.jsonl", "report.html"):
                zf.write(work / name, name)
            for name, src in sorted(evidence_names.items()):
                zf.write(src, name)
        return included
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------- offline verification


@dataclass
class BundleReport:
    problems: list[str] = field(default_factory=list)
    events_included: int = 0
    events_in_chain: int = 0
    files_checked: int = 0
    manifest: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _jsonl(zf: zipfile.ZipFile, name: str) -> Iterator[dict]:
    with zf.open(name) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if line.strip():
                yield json.loads(line)


def verify_bundle(path: Path) -> BundleReport:
    """Check a bundle with no database: manifest, file hashes, event hashes, chain linkage."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        report.problems.append(f"{path}: not a readable zip file ({e})")
        return report
    with zf:
        names = set(zf.namelist())
        if not {"manifest.json", "manifest.sha256"} <= names:
            report.problems.append("the bundle has no manifest.json / manifest.sha256")
            return report
        manifest_bytes = zf.read("manifest.json")
        recorded = zf.read("manifest.sha256").decode("utf-8", "replace").split()[0:1]
        if recorded != [hashlib.sha256(manifest_bytes).hexdigest()]:
            report.problems.append("manifest.json was altered: its SHA-256 does not match manifest.sha256")
            return report
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError:
            report.problems.append("manifest.json is not valid JSON")
            return report
        report.manifest = manifest
        if manifest.get("format") != BUNDLE_FORMAT:
            report.problems.append(f"unknown bundle format {manifest.get('format')!r}")
            return report
        listed = manifest.get("files", {})
        for name in sorted(names - set(listed) - {"manifest.json", "manifest.sha256"}):
            report.problems.append(f"{name}: in the zip but not in the manifest")
        for name, facts in sorted(listed.items()):
            if name not in names:
                report.problems.append(f"{name}: listed in the manifest but missing from the zip")
                continue
            digest = hashlib.sha256()
            try:
                with zf.open(name) as fh:
                    while chunk := fh.read(1024 * 1024):
                        digest.update(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as e:  # a flipped byte can break the zip entry itself
                report.problems.append(f"{name}: cannot be read ({e})")
                continue
            report.files_checked += 1
            if digest.hexdigest() != facts.get("sha256"):
                report.problems.append(f"{name}: altered (its SHA-256 does not match the manifest)")
        if report.problems:
            return report
        _verify_bundle_chain(zf, manifest, report)
    return report


def _verify_bundle_chain(zf: zipfile.ZipFile, manifest: dict, report: BundleReport) -> None:
    checker = ChainChecker()
    anchored: set[str] = set()
    included = _jsonl(zf, "events.jsonl")
    excluded = _jsonl(zf, "chain.jsonl")
    inc, exc = next(included, None), next(excluded, None)
    last_hash = GENESIS
    while inc is not None or exc is not None:
        if exc is None or (inc is not None and inc["seq"] < exc["seq"]):
            values = tuple(inc.get(f) for f in HASHED_FIELDS)
            if not checker.feed(values, inc.get("hash")):
                break
            report.events_included += 1
            if inc.get("record_type") == "evidence" and inc.get("after"):
                for f in json.loads(inc["after"]).get("files", []):
                    anchored.add(f.get("sha256"))
            last_hash, inc = inc.get("hash"), next(included, None)
        else:
            if exc["seq"] != checker.expected_seq or exc["prev_hash"] != checker.prev:
                checker.problem = ChainProblem(
                    exc["seq"], "inserted" if exc["seq"] == checker.expected_seq else "deleted",
                    "a left-out event does not link into the chain")
                break
            checker.prev_prev, checker.prev = checker.prev, exc["hash"]
            checker.expected_seq += 1
            checker.count += 1
            last_hash, exc = exc["hash"], next(excluded, None)
    if checker.problem:
        report.problems.append(f"events: {checker.problem}")
        return
    report.events_in_chain = checker.expected_seq - 1
    head = manifest.get("chain_head", {})
    if report.events_in_chain != head.get("seq") or last_hash != head.get("hash"):
        report.problems.append(f"the chain ends at event {report.events_in_chain} ({last_hash[:16]}…), "
                               f"not at the head the manifest names (event {head.get('seq')})")
    if report.events_included != manifest.get("events_included"):
        report.problems.append(f"events.jsonl holds {report.events_included} events; the manifest says "
                               f"{manifest.get('events_included')}")
    for name in manifest.get("files", {}):
        if name.startswith("evidence/") and name.split("/")[1] not in anchored:
            report.problems.append(f"{name}: not recorded by any evidence event in the bundle")
