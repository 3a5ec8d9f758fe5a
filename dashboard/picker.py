"""Choosing a recommendation by searching for it: a text box (key prefix or title words) and a
select box over at most one screenful of matches.

A select box over every record sent 50,000 options to the browser and, with a ``format_func``
that searched the rows for each option's title, took minutes per run. Here the options come from
:func:`models.reads.records.find_records` (a paginated read in key order), titles are looked up in
a dict, and the record already chosen (a deep link ``?rec=KEY``, the last one opened) stays among
the options whatever the search says, so a search never silently changes the selection.
"""

from __future__ import annotations

import streamlit as st

from dashboard import data


def _label(titles: dict[str, str], width: int):
    return lambda k: f"{k} — {titles.get(k, '')[:width]}"


def record_picker(
    label: str,
    *,
    key: str,
    selected: str | None = None,
    rows: list[dict] | None = None,
    search_label: str = "Find a recommendation (key prefix or title words)",
    width: int = 90,
    container=None,
    owner: str | None = None,
) -> str | None:
    """A search box (widget key ``{key}_q``) and a select box (``key``); returns the chosen key.

    ``selected`` is a key to show chosen (it is added to the options when the search does not find
    it); otherwise the select box keeps its own choice across reruns. ``rows`` (dicts with ``key``
    and ``title``) are the options while the search box is empty, e.g. the records a page lists;
    without them, the first records by key. With ``owner``, only that office's records are offered
    (a chosen record of another office is dropped). ``None`` when nothing matches and nothing is
    chosen."""
    where = container or st
    query = where.text_input(search_label, key=f"{key}_q", placeholder="e.g. deare09, ministry")
    if query.strip() or rows is None:
        found = data.read("find_records", query.strip(), owner=owner)
        options, more = found["rows"], found["more"]
    else:
        options, more = rows, False
    titles = {r["key"]: r["title"] for r in options}
    current = selected or st.session_state.get(key)
    if current and current not in titles:  # the choice stays offered whatever the search says
        kept = data.read("record_titles", (current,), owner=owner)
        if current in kept or owner is None:  # an unknown key (a link) stays, for the page to say so
            titles = {current: kept.get(current, ""), **titles}
    keys = list(titles)
    if not keys:
        where.caption("No recommendation matches this search.")
        return None
    if more:
        where.caption(
            f"The first {len(options)} matches, by key: type more of a key or title to narrow them."
        )
    st.session_state[key] = current if current in titles else keys[0]
    return where.selectbox(label, keys, key=key, format_func=_label(titles, width))


def record_multipicker(label: str, *, key: str, placeholder: str = "") -> list[str]:
    """Several recommendations: a search box (``{key}_q``) and a multiselect (``key``) whose options
    are the matches plus everything already chosen, so a new search keeps earlier choices."""
    query = st.text_input("Find recommendations (key prefix or title words)", key=f"{key}_q")
    found = data.read("find_records", query.strip())
    chosen = [k for k in st.session_state.get(key, []) if isinstance(k, str)]
    titles = {r["key"]: r["title"] for r in found["rows"]}
    missing = tuple(k for k in chosen if k not in titles)
    titles = {**data.read("record_titles", missing), **titles} if missing else titles
    options = [*missing, *(r["key"] for r in found["rows"])]
    if found["more"]:
        st.caption(f"The first {len(found['rows'])} matches, by key: type more to narrow them.")
    st.session_state[key] = chosen
    picked = st.multiselect(label, options, key=key, format_func=_label(titles, 60), placeholder=placeholder)
    return [k for k in picked if k in titles]
