"""Auditor exports (CSV, JSON Lines, an HTML report, a zip bundle), each recorded in the trail.

The export's own event is appended first, so the export includes the record of itself; that event
is then signed as a checkpoint (:mod:`models.trail.checkpoints`). When the store contradicts a
checkpoint already signed (a cut-off or rewritten trail), the export is still written, for the
auditor investigating it, but nothing is signed over it: a bundle's manifest names the
contradictions, so the bundle does not verify, and the result carries them as warnings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.rules.trail_events import record_export
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.tables import AuditEvent, User
from models.trail.bundle import _write_bundle
from models.trail.chain import iter_canonical_rows
from models.trail.checkpoints import check_checkpoints, write_checkpoint
from models.trail.export_formats import (
    FORMATS,
    Scope,
    _in_scope_seqs,
    write_csv_batches,
    write_jsonl,
    write_report,
)
from models.trail.keys import installation_key


def _record_export(engine: Engine, *, actor: User, fmt: str, scope: Scope) -> AuditEvent:
    with write_session(engine) as s:
        return record_export(s, actor=actor, fmt=fmt, scope=scope.describe())


@dataclass
class ExportResult:
    path: Path
    fmt: str
    events: int
    head: tuple[int, str]
    export_seq: int
    warnings: tuple[str, ...] = ()


def export(engine: Engine, *, fmt: str, scope: Scope, actor: User, out_path: Path) -> ExportResult:
    """Write one export to ``out_path`` (bundle: a zip). Records the export event first, then
    exports the trail up to and including it, so the file names its own export."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    installation_key()  # a missing key is made, an unusable one refused, before anything is recorded
    event = _record_export(engine, actor=actor, fmt=fmt, scope=scope)
    head = (event.seq, event.hash)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.partial")
    try:
        with read_session(engine) as s:
            contradictions = check_checkpoints(s).contradictions
            if fmt == "bundle":
                n = _write_bundle(
                    s, tmp, scope=scope, exporter=actor.username, head=head, contradictions=contradictions
                )
            else:
                with tmp.open("w", encoding="utf-8", newline="") as fh:
                    rows = _in_scope_seqs(s, scope, head[0])
                    if fmt == "csv":
                        n = write_csv_batches(iter_canonical_rows(s, where=scope.event_filter(head[0])), fh)
                    elif fmt == "jsonl":
                        n = write_jsonl(rows, fh)
                    else:
                        n = write_report(s, rows, fh, scope=scope, exporter=actor.username, head=head)
            # the export's own event, signed: an auditor holding this file can later show the trail
            # it came from was not cut off or rewritten before it
            if not contradictions:
                write_checkpoint(s, why=f"export {fmt} by {actor.username}", head=head)
        os.replace(tmp, out_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    warnings = tuple(f"the store contradicts a signed checkpoint: {c}" for c in contradictions)
    return ExportResult(out_path, fmt, n, head, event.seq, warnings)
