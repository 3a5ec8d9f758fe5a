"""Replaying the trail into the state it implies, so current rows can be compared with it.

A hash chain proves the events were not edited; it says nothing about a row changed by hand with
its version left alone. Replaying every event in seq order gives what each recommendation,
evidence item, account and closure proposal must look like now; :mod:`models.trail.state_checks`
compares the stored rows with that.

The replay is a registry: each event action names a handler that changes the replayed state
(:func:`on`). A module that adds a new kind of event registers it here (or with :func:`no_state`
when the event changes no row the check covers), so the replay keeps up. An action the registry
does not know is reported as a problem, never skipped in silence, because an unknown event could
be exactly the change a row should reflect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

# the system identities that exist without a user_add event: the catalog loader, created on first
# use (models.rules.users), and the demo generator (models.catalog.synthetic)
SYSTEM_ACCOUNTS = frozenset({"catalog", "syn-generator"})

REC_FIELDS = (
    "status",
    "owner",
    "responsible",
    "target_date",
    "progress",
    "priority",
    "close_plan",
    "parent",
    "version",
)


class Event:
    """One event as the replay sees it; ``before``/``after`` are parsed only when a handler asks."""

    __slots__ = ("seq", "actor", "action", "record_type", "record_key", "_after", "_before")

    def __init__(self, row: tuple) -> None:
        # row: the HASHED_FIELDS values (seq, recorded_at, effective_at, actor, action, record_type,
        # record_key, status_before, status_after, before, after, reason, prev_hash) plus the hash
        self.seq, self.actor, self.action, self.record_type, self.record_key = (
            row[0],
            row[3],
            row[4],
            row[5],
            row[6],
        )
        self._before, self._after = row[9], row[10]

    @property
    def after(self) -> dict:
        value = json.loads(self._after) if self._after else {}
        return value if isinstance(value, dict) else {}

    @property
    def before(self) -> dict:
        value = json.loads(self._before) if self._before else {}
        return value if isinstance(value, dict) else {}


@dataclass
class ReplayState:
    """What the trail says the store holds now."""

    recs: dict[str, dict] = field(default_factory=dict)
    evidence: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    proposals: dict[str, list[dict]] = field(default_factory=dict)  # by recommendation key, in order
    accepted_evidence: list[tuple[int, str, dict]] = field(default_factory=list)  # (seq, rec key, item)
    unknown: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (type, action) -> [seq, n]
    problems: list[str] = field(default_factory=list)  # events that contradict the state before them
    events: int = 0

    def contradiction(self, ev: Event, text: str) -> None:
        if len(self.problems) < 200:
            self.problems.append(f"event {ev.seq} ({ev.action} {ev.record_key!r}): {text}")


Handler = Callable[[ReplayState, Event], None]
HANDLERS: dict[str, Handler] = {}


def on(*actions: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as how events with these actions change the replayed state."""

    def register(fn: Handler) -> Handler:
        for a in actions:
            HANDLERS[a] = fn
        return fn

    return register


def no_state(*actions: str) -> None:
    """Register actions whose events change no row the state check compares (sign-ins, exports)."""
    for a in actions:
        HANDLERS[a] = _nothing


def _nothing(state: ReplayState, ev: Event) -> None:
    return None


class Replayer:
    """Feed events in seq order (batches of the rows :func:`models.trail.chain.iter_canonical_rows`
    yields); the state builds up in :attr:`state`."""

    def __init__(self) -> None:
        self.state = ReplayState()

    def feed_rows(self, rows) -> None:
        state, handlers, unknown = self.state, HANDLERS, self.state.unknown
        for row in rows:
            handler = handlers.get(row[4])
            if handler is _nothing:
                continue
            ev = Event(row)
            if handler is None:
                seen = unknown.setdefault((ev.record_type, ev.action), [ev.seq, 0])
                seen[1] += 1
                continue
            try:
                handler(state, ev)
            except (ValueError, TypeError, KeyError, AttributeError) as e:
                state.contradiction(ev, f"its content cannot be replayed ({type(e).__name__}: {e})")
        state.events += len(rows)


# ---- recommendations ------------------------------------------------------------------------


@on("create")
def _create(state: ReplayState, ev: Event) -> None:
    if ev.record_type != "recommendation":
        state.unknown.setdefault((ev.record_type, ev.action), [ev.seq, 0])[1] += 1
        return
    a = ev.after
    if ev.record_key in state.recs:
        state.contradiction(ev, "the recommendation was already created by an earlier event")
    state.recs[ev.record_key] = {
        "status": a.get("status", "proposed"),
        "owner": a.get("owner"),
        "responsible": a.get("responsible"),
        "target_date": a.get("target_date"),
        "progress": a.get("progress", 0),
        "priority": a.get("priority", False),
        "close_plan": a.get("close_plan"),
        "parent": a.get("parent_key"),
        "version": a.get("version", 1),
        "seq": ev.seq,
    }


def _rec(state: ReplayState, ev: Event) -> dict | None:
    rec = state.recs.get(ev.record_key)
    if rec is None:
        state.contradiction(ev, "no earlier event created this recommendation")
    return rec


@on("update", "status_change", "reopen", "priority_change", "handover")
def _update(state: ReplayState, ev: Event) -> None:
    rec = _rec(state, ev)
    if rec is None:
        return
    for k, v in ev.after.items():
        if k in rec:
            rec[k] = v
    rec["seq"] = ev.seq


@on("closure_proposed")
def _proposed(state: ReplayState, ev: Event) -> None:
    rec = _rec(state, ev)
    if rec is None:
        return
    a = ev.after
    rec["version"], rec["seq"] = a.get("version", rec["version"]), ev.seq
    state.proposals.setdefault(ev.record_key, []).append(
        {
            "target_status": a.get("closure_target"),
            "proposed_by": ev.actor,
            "state": "pending",
            "decided_by": None,
        }
    )


def _decide(state: ReplayState, ev: Event, outcome: str) -> dict | None:
    rec = _rec(state, ev)
    if rec is None:
        return None
    a = ev.after
    rec["version"], rec["seq"] = a.get("version", rec["version"]), ev.seq
    if "status" in a:
        rec["status"] = a["status"]
    pending = [p for p in state.proposals.get(ev.record_key, ()) if p["state"] == "pending"]
    if not pending:
        state.contradiction(ev, "no earlier event proposed the closure it decides")
        return None
    p = pending[-1]
    p["state"], p["decided_by"] = outcome, ev.actor
    return p


@on("closure_accepted")
def _accepted(state: ReplayState, ev: Event) -> None:
    p = _decide(state, ev, "accepted")
    evidence = ev.after.get("evidence") or []
    if p is not None:
        p["evidence"] = evidence
    for item in evidence:
        state.accepted_evidence.append((ev.seq, ev.record_key, item))


@on("closure_returned")
def _returned(state: ReplayState, ev: Event) -> None:
    _decide(state, ev, "returned")


# ---- evidence -------------------------------------------------------------------------------


@on("evidence_add", "evidence_supersede")
def _evidence(state: ReplayState, ev: Event) -> None:
    a = ev.after
    if ev.record_key in state.evidence:
        state.contradiction(ev, "the evidence item was already recorded by an earlier event")
    state.evidence[ev.record_key] = {
        "title": a.get("title"),
        "kind": a.get("kind"),
        "observed_on": a.get("observed_on"),
        "supersedes": a.get("supersedes"),
        "recommendations": sorted(a.get("recommendations") or []),
        "files": sorted((f.get("name"), f.get("sha256")) for f in a.get("files") or []),
        "seq": ev.seq,
    }


# ---- accounts -------------------------------------------------------------------------------


@on("user_add")
def _user_add(state: ReplayState, ev: Event) -> None:
    a = ev.after
    state.users[ev.record_key] = {
        "role": a.get("role"),
        "office": a.get("office"),
        "disabled": False,
        "can_verify": bool(a.get("can_verify", False)),
        "seq": ev.seq,
    }


def _user(state: ReplayState, ev: Event) -> dict | None:
    user = state.users.get(ev.record_key)
    if user is None and ev.record_key not in SYSTEM_ACCOUNTS:
        state.contradiction(ev, "no earlier event added this account")
    return user


@on("role_change", "user_change")
def _user_change(state: ReplayState, ev: Event) -> None:
    user = _user(state, ev)
    if user is not None:
        for k, v in ev.after.items():
            if k in user:
                user[k] = v
        user["seq"] = ev.seq


@on("user_disable", "user_enable")
def _user_disabled(state: ReplayState, ev: Event) -> None:
    user = _user(state, ev)
    if user is not None:
        user["disabled"], user["seq"] = ev.action == "user_disable", ev.seq


@on(
    "step_added",
    "step_changed",
    "progress_from_steps",
    "obstacle_created",
    "obstacle_linked",
    "obstacle_unlinked",
    "obstacle_resolved",
)
def _steps_and_obstacles(state: ReplayState, ev: Event) -> None:
    """Action steps and obstacle links change a recommendation's version and, through its steps,
    its progress; their own fields (a step's status, an obstacle's state) are not the record's.
    Obstacle rows themselves are checked by their versions (models.trail.verify)."""
    if ev.record_type != "recommendation":
        return
    rec = _rec(state, ev)
    if rec is None:
        return
    a = ev.after
    for k in ("progress", "version"):
        if k in a:
            rec[k] = a[k]
    rec["seq"] = ev.seq


# events about sessions, passwords, exports and deliveries: they change nothing the check compares
# (password hashes and lockout counters are not in the trail, by design)
no_state(
    "signin",
    "signin_failed",
    "signin_refused",
    "password_change",
    "password_change_failed",
    "password_reset",
    "lockout",
    "export",
    "reminder_sent",
    "seed",
    "office_add",
)
