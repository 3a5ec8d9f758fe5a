"""The engine (created once) and cached reads for every page.

Reads go through :func:`read`, which calls a named query function of :mod:`models.reads`
inside a short read session and caches the plain-data result with a TTL, keyed by the store
URL, the (hashable) arguments and the head of the trail the query depends on
(:func:`models.reads.trail_page.trail_heads`). Every write appends an event in its own
transaction, so the next read after a write is fresh without clearing anything: a sign-in or an
export moves only the full chain head, which the trail's own queries key on, and leaves every
other user's cached figures in place. (Clearing ``st.cache_data`` on each sign-in emptied the
cache of every session on the server.)

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
    handover,
    headline,
    indicators,
    obstacles,
    owners,
    plans,
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
                "recommendation_page",
                "find_records",
                "record_titles",
            ),
        ),
        (obstacles, ("obstacle_register", "obstacle_matrix", "obstacle_by_theme")),
        (plans, ("obstacles_of", "steps_of", "plan_summary", "find_obstacles")),
        (indicators, ("indicator_catalog", "indicator_values")),
        (timeline, ("timeline_countries", "timeline_bounds", "timeline_items", "timeline_counts")),
        (trail_page, ("trail_facets", "trail_page", "trail_head")),
        (queues, ("closure_state", "my_items")),
        (accounts, ("user_list", "is_synthetic_store")),
        (headline, ("headline",)),
        (owners, ("owner_marks",)),
        (handover, ("handover_choices", "handover_preview")),
        (changes, ("changes_view",)),
    )
    for name in names
}

# the queries that read sign-in, account or export events (or accounts): keyed on the full chain head
TRAIL_QUERIES = {"trail_facets", "trail_page", "trail_head", "user_list"}

# the queries that take the statuses as of a moment as ``statuses=`` (see models.reads.figures)
AS_OF_QUERIES = {"summary", "status_breakdown", "blocking_obstacles", "segment_records", "owner_marks"}


@st.cache_resource(show_spinner=False)
def engine_for(url: str):
    return make_engine(url)


def engine():
    return engine_for(get_settings().url)


def heads(url: str | None = None) -> tuple[tuple[int, str], tuple[int, str]]:
    """(chain head, newest record event), read now: two index look-ups."""
    with read_session(engine_for(url or get_settings().url)) as session:
        return trail_page.trail_heads(session)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=20)
def _statuses_as_of(url: str, as_of, head: tuple[int, str]):
    with read_session(engine_for(url)) as session:
        return figures.as_of_statuses(session, as_of)


def _as_of_arg(name: str, args: tuple, kwargs: dict):
    fn = QUERIES[name]
    return inspect.signature(fn).bind(None, *args, **kwargs).arguments.get("as_of")


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False, max_entries=500)
def _cached(url: str, name: str, args: tuple, kwargs: tuple, head: tuple[int, str]):
    kw = dict(kwargs)
    if name in AS_OF_QUERIES and (as_of := _as_of_arg(name, args, kw)) is not None:
        kw["statuses"] = _statuses_as_of(url, as_of, head)
    with read_session(engine_for(url)) as session:
        return QUERIES[name](session, *args, **kw)


def read(name: str, *args, **kwargs):
    """A cached read: ``read("summary", as_of, stale_after_days=90)``."""
    url = get_settings().url
    full, records_head = heads(url)
    head = full if name in TRAIL_QUERIES else records_head
    return _cached(url, name, tuple(args), tuple(sorted(kwargs.items())), head)


def fresh(fn, *args, **kwargs):
    """An uncached read (the update form must see the record as it is now)."""
    with read_session(engine()) as session:
        return fn(session, *args, **kwargs)


def store_verdict(full: bool = False, by: str = "") -> dict:
    """The stored verdict brought up to the chain head (:func:`models.trail.verdicts.current`), or
    with ``full`` a verification of everything, stored for the next visit."""
    from models.trail import verdicts

    with read_session(engine()) as session:
        if full:
            verdicts.full_verdict(session, by=by)
        return verdicts.current(session)


def invalidate() -> None:
    """After every successful write. Nothing to drop: the write appended an event, so every read
    that depends on it is keyed by a new head (see the module's docstring); entries for old heads
    age out by TTL and size."""
