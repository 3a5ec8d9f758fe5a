"""The bundle files that follow from its events: ``events.csv``, ``recommendations.jsonl`` and
``report.html``, each a function of ``events.jsonl`` and the manifest alone.

The exporter writes them by reading back the ``events.jsonl`` it has just written, through
:class:`Derived`; the verifier feeds the same class the bundle's ``events.jsonl`` and compares
what comes out with the files in the zip, byte for byte. One code path for both, so a file
edited in the bundle (and the manifest re-hashed to match) no longer equals what its events say.

``recommendations.jsonl`` is what the bundle's events imply for each recommendation they touch
(its fields from the ``create`` event, then every later change), not a dump of the rows: a row
changed behind the app's back is the live check's business (``rectrack verify``), and a bundle
must prove itself with no database. For a period scope it is what that period's events say.
"""

from __future__ import annotations

import hashlib
import json
from typing import IO

from models.trail.chain import compact_json
from models.trail.export_formats import COLUMNS, CsvOut, ReportFacts, _ReportEvents, render_report

DERIVED = ("events.csv", "recommendations.jsonl", "report.html")
REC_FIELDS = (
    "key",
    "title",
    "status",
    "owner",
    "target_date",
    "progress",
    "priority",
    "close_plan",
    "parent",
    "version",
    "last_event",
    "kind",  # the report says "No status claimed" and "(inferred)" as the store's report does
    "owner_inferred",
)
_FROM_EVENTS = frozenset(REC_FIELDS) - {"key", "last_event", "parent"}


class HashingSink:
    """A text stream that keeps only the SHA-256 and length of the UTF-8 bytes written to it."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self.bytes = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self._digest.update(data)
        self.bytes += len(data)
        return len(text)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class Derived:
    """Fed the bundle's events in order (dicts as in ``events.jsonl``); writes events.csv as they
    come and, at the end, the recommendations and the report."""

    def __init__(self, csv_out: IO[str]) -> None:
        self._csv = CsvOut(csv_out)
        self.recs: dict[str, dict] = {}
        self.report = _ReportEvents()

    def add(self, d: dict) -> None:
        self._csv.row([d[c] for c in COLUMNS])
        self.report.add(d)
        if d["record_type"] != "recommendation":
            return
        after = json.loads(d["after"]) if d["after"] else {}
        rec = self.recs.setdefault(d["record_key"], {"key": d["record_key"]})
        if isinstance(after, dict):
            for k, v in after.items():
                if k in _FROM_EVENTS:
                    rec[k] = v
                elif k == "parent_key":
                    rec["parent"] = v
        if d["status_after"] is not None:
            rec["status"] = d["status_after"]
        rec["last_event"] = d["seq"]

    def _rec_rows(self):
        for key in sorted(self.recs):
            rec = self.recs[key]
            yield {f: rec.get(f) for f in REC_FIELDS}

    def write_recommendations(self, out: IO[str]) -> None:
        for row in self._rec_rows():
            out.write(compact_json(row))
            out.write("\n")

    def write_report(self, out: IO[str], manifest: dict) -> None:
        render_report(self.report, self._rec_rows(), out, report_facts(manifest))


def report_facts(manifest: dict) -> ReportFacts:
    head = manifest["chain_head"]
    return ReportFacts(
        scope=manifest["scope"],
        exporter=manifest["exporter"],
        head=(head["seq"], head["hash"]),
        banner=manifest["banner"],
        exported_at=manifest["exported_at"],
    )
