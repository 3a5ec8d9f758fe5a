"""The engine (created once) and cached reads for every page.

Reads go through :func:`read`, which calls a named query function of :mod:`models.reads`
inside a short read session and caches the plain-data result with a
TTL, keyed by the store URL and the (hashable) arguments. Every successful write calls
:func:`invalidate`, so the next run reads fresh figures.

The "as of" figures share one expensive input, every record's status rebuilt from the trail at
that moment: :func:`read` computes it once per (store, moment) in the same cache and hands it to
each of them (``statuses=``), so a page drawing a dozen figures as of a date pays for it once.
"""

from __future__ import annotations

import inspect

import streamlit as st

from models.reads import (
    accounts,
    changes,
    figures,
    headline,
    indicators,
    obstacles,
    queues,
    records,
    timeline,
    trail_page,
)
from models.store.db import make_engine, read_session
from models.store.settings import get_settings

TTL_SECONDS = 120

# name -> query function; only these may be called through the cache
QUERIES = {
    name: getattr(module, name)
    for module, names in (
        (
            figures,
            (
                "summary",
                "status_breakdown",
                "status_over_time",
                "blocking_obstacles",
                "segment_records",
                "time_in_status_overview",
            ),
        ),
        (
            records,
            (
                "filter_options",
                "recommendation_view",
                "recommendation_choices",
                "source_choices",
                "owner_choices",
                "list_recommendations",
            ),
        ),
        (obstacles, ("obstacle_register", "obstacle_matrix", "obstacle_by_theme")),
        (indicators, ("indicator_catalog", "indicator_values")),
        (timeline, ("timeline_countries", "timeline_bounds", "timeline_items")),
        (trail_page, ("trail_facets", "trail_page", "trail_head")),
        (queues, ("closure_state", "my_items")),
        (accounts, ("user_list", "is_synthetic_store")),
        (headline, ("headline",)),
        (changes, ("changes_view",)),
    )
    for name in names
}

# the queries that take the statuses as of a moment as ``statuses=`` (see models.reads.figures)
AS_OF_QUERIES = {"summary", "status_breakdown", "blocking_obstacles", "segment_records"}


@st.cache_resource(show_spinner=False)
def engine_for(url: str):
    return make_engine(url)


def engine():
    return engine_for(get_settings().url)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=20)
def _statuses_as_of(url: str, as_of):
    with read_session(engine_for(url)) as session:
        return figures.as_of_statuses(session, as_of)


def _as_of_arg(name: str, args: tuple, kwargs: dict):
    fn = QUERIES[name]
    return inspect.signature(fn).bind(None, *args, **kwargs).arguments.get("as_of")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def _cached(url: str, name: str, args: tuple, kwargs: tuple):
    kw = dict(kwargs)
    if name in AS_OF_QUERIES and (as_of := _as_of_arg(name, args, kw)) is not None:
        kw["statuses"] = _statuses_as_of(url, as_of)
    with read_session(engine_for(url)) as session:
        return QUERIES[name](session, *args, **kw)


def read(name: str, *args, **kwargs):
    """A cached read: ``read("summary", as_of, stale_after_days=90)``."""
    return _cached(get_settings().url, name, tuple(args), tuple(sorted(kwargs.items())))


def fresh(fn, *args, **kwargs):
    """An uncached read (the update form must see the record as it is now)."""
    with read_session(engine()) as session:
        return fn(session, *args, **kwargs)


@st.cache_data(
    ttl=600, show_spinner="Verifying the audit trail's hash chain, the evidence files and the records…"
)
def _store_verdict(url: str, head: int) -> dict:
    from models.trail.verify import verify_store

    with read_session(engine_for(url)) as session:
        report = verify_store(session)
    return {
        "ok": report.ok,
        "events": report.events_checked,
        "files": report.files_checked,
        "problems": report.lines(),
        "summary": report.summary(),
    }


def store_verdict() -> dict:
    """:func:`models.trail.verify.verify_store` (chain, evidence files, versions against the
    trail), cached until the trail grows."""
    return _store_verdict(get_settings().url, read("trail_head"))


def chain_verdict() -> tuple[int, str | None]:
    """(events checked, first problem or None), cached until the trail grows."""
    v = store_verdict()
    return v["events"], (None if v["ok"] else "; ".join(v["problems"][:3]))


def invalidate() -> None:
    """After every successful write: drop every cached read."""
    st.cache_data.clear()
