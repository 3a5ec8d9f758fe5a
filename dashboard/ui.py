"""Small shared widgets: the handling banner, page guards, status labels, drill-downs,
and the messages for an empty store or a store that is down.

The rendering rule, for every page: text a person typed or a file carried (titles, summaries,
owners, names, reasons, citation sections, file names, bundle manifests, URL parameters, and the
refusals that quote them) is shown as text, never run as markdown or HTML. Streamlit renders
markdown in far more places than ``st.markdown``: alerts, captions, headings, metric values,
widget labels, radio options, expander, button, status and progress labels. In all of those a
value goes in only through these helpers:

- :func:`say` for a message: the fixed template keeps its markdown, each value is made inert;
- :func:`md_escape` for one value inside a label, :func:`md_block` for multi-line text;
- :func:`refusal` for a domain error (its message quotes user input);
- ``st.text``, ``st.code``, ``st.dataframe`` and ``html.escape`` inside ``st.html`` need nothing.

``tests/e2e/test_browser_hostile_markdown.py`` drives every page in Chromium with hostile
markdown and fails on any request it makes outside the app, or any link or image it renders."""

from __future__ import annotations

import html
import re
from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.charts import STATUS_COLORS
from dashboard.identity import current_user
from models.rules.lifecycle import STATUS_LABELS
from models.rules.permissions import can
from models.store.settings import get_settings
from models.store.tables import User
from models.store.vocabulary import NO_STATUS_CLAIMED, UNCLAIMED, human, owner_shown, status_shown

RECOMMENDATIONS_PAGE = "app_pages/recommendations.py"

_MD_SPECIAL = set("\\`*_{}[]()<>#+-.!|:$~=^&")


_WJ = "\u2060"  # WORD JOINER: invisible, and it breaks a URL or address apart for the autolinker
_AUTOLINK_START = re.compile(r"(?i)(https?|mailto|xmpp|www)(?=[:.])|(@)")


def md_escape(text: object) -> str:
    """User or file text made inert inside Streamlit markdown (st.markdown, st.caption, st.error,
    labels): no links, images, ``:red[...]`` colours, emoji shortcodes, LaTeX or HTML. Use it for every
    value a person typed or a file carried; plain text elements (st.text, dataframes) need nothing.

    Backslash escapes alone do not stop GitHub-flavoured markdown from turning ``http://...``,
    ``www.`` and ``a@b.mil`` into links (it finds them in the text after escapes are resolved), so
    an invisible word joiner also goes after ``http``/``https``/``mailto``/``xmpp``/``www`` where a
    ``:`` or ``.`` follows, and after every ``@``."""
    if text is None:
        return ""
    flat = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    flat = _AUTOLINK_START.sub(lambda m: (m.group(1) or m.group(2)) + _WJ, flat)
    return "".join("\\" + ch if ch in _MD_SPECIAL else ch for ch in flat)


def md_block(text: object) -> str:
    """Multi-line user text (a summary) made inert, keeping its line breaks."""
    if text is None:
        return ""
    lines = str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "  \n".join(md_escape(line) for line in lines)


def _inert(value):
    return md_escape(value) if isinstance(value, str) else value


def say(template: str, *args, **kwargs) -> str:
    """``template.format(...)`` with every string value made inert; numbers and dates keep their
    format specs (``{at:%Y-%m-%d}``). The template is fixed text and may use markdown."""
    return template.format(*map(_inert, args), **{k: _inert(v) for k, v in kwargs.items()})


def refusal(err: Exception, prefix: str = "") -> str:
    """A domain error's message for st.error: it quotes what was typed, so it is made inert."""
    return prefix + md_escape(str(err))


BANNER_COLORS = {"UNCLASSIFIED": "#007A33", "CUI": "#502B85", "CONFIDENTIAL": "#0033A0", "SECRET": "#C8102E"}


def banner() -> None:
    text = get_settings().banner.strip()
    if not text:
        return
    color = next((c for k, c in BANNER_COLORS.items() if text.upper().startswith(k)), "#333333")
    st.html(
        f'<div role="banner" aria-label="handling banner" style="background:{color};color:#fff;'
        f'text-align:center;font-weight:700;letter-spacing:.08em;padding:2px 0;border-radius:3px">'
        f"{html.escape(text)}</div>"
    )


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: letters, digits and a few marks as they are, everything else
    hex-escaped, so no value can close the string, the rule or the ``<style>`` element."""
    safe = set(" /-_.,:;()") | set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    return '"' + "".join(ch if ch in safe else f"\\{ord(ch):x} " for ch in text.replace("\n", " ")) + '"'


def page_css() -> None:
    """Once per page, after the banner: a tighter top margin on screen, and a print stylesheet.

    Printing (the browser's own print, any page) drops the sidebar, the toolbar and every widget,
    lets the page flow past Streamlit's scrolling container, and puts the handling banner in the
    top and bottom margin of every printed page (CSS page-margin boxes, which repeat on each page)."""
    text = get_settings().banner.strip() or "UNMARKED"
    color = next((c for k, c in BANNER_COLORS.items() if text.upper().startswith(k)), "#333333")
    banner = css_string(text)
    st.html(f"""<style>
[data-testid="stMainBlockContainer"]{{padding-top:2.2rem}}
@media (max-width:736px){{[data-testid="stMainBlockContainer"]{{padding-top:4rem}}}}
[data-testid="stMainBlockContainer"] h1{{padding-top:.2rem;padding-bottom:.3rem}}
@page{{margin:16mm 11mm 16mm 11mm;
  @top-center{{content:{banner};color:{color};font:700 10pt sans-serif;letter-spacing:.08em}}
  @bottom-center{{content:{banner};color:{color};font:700 10pt sans-serif;letter-spacing:.08em}}
  @bottom-right{{content:"Page " counter(page) " of " counter(pages);font:8pt sans-serif;color:#444}}}}
@media print{{
  [data-testid="stSidebar"],[data-testid="stSidebarCollapsedControl"],[data-testid="stHeader"],
  [data-testid="stToolbar"],[data-testid="stDecoration"],[data-testid="stStatusWidget"],
  [data-testid="stBottom"],[data-testid="stChatInput"],
  .stDateInput,.stSelectbox,.stMultiSelect,.stTextInput,.stTextArea,.stNumberInput,.stRadio,.stCheckbox,
  .stToggle,.stSlider,.stButton,.stDownloadButton,.stFileUploader,.stForm,[data-testid="stForm"],
  [data-testid="stExpander"],[data-testid="stDateInput"],[data-testid="stButton"],
  [data-testid="stDownloadButton"],[data-testid="stPopover"],[data-testid="stElementToolbar"]
  {{display:none !important}}
  html,body,#root,.stApp,[data-testid="stApp"],[data-testid="stAppViewContainer"],[data-testid="stMain"],
  [data-testid="stMainBlockContainer"],section.main{{overflow:visible !important;height:auto !important;
    min-height:0 !important;position:static !important;max-width:100% !important}}
  [data-testid="stMain"]{{margin-left:0 !important}}
  [data-testid="stMainBlockContainer"]{{padding:0 !important}}
  .rt-card,[data-testid="stMetric"],[data-testid="stVegaLiteChart"]{{break-inside:avoid}}
  *{{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
}}
</style>""")


def synthetic_banner() -> None:
    """Under the handling banner on every page, when the store holds generated demo data."""
    if not data.read("is_synthetic_store"):
        return
    st.html(
        '<div role="alert" aria-label="synthetic data" style="background:repeating-linear-gradient(135deg,#F0E442,'
        "#F0E442 14px,#fff3a0 14px,#fff3a0 28px);color:#000;border:2px solid #000;text-align:center;"
        'font-weight:800;letter-spacing:.1em;padding:4px 0;margin-top:2px;border-radius:3px">'
        "SYNTHETIC DATA — generated by <code>rectrack demo</code>; not the cited catalog, not real events</div>"
    )


def status_label(status: str | None, kind: str | None = None) -> str:
    return (
        status_shown(status, kind)
        if kind or status == UNCLAIMED
        else STATUS_LABELS.get(status or "", status or "")
    )


def status_chip(status: str, kind: str | None = None) -> str:
    label = status_label(status, kind)
    if label == NO_STATUS_CLAIMED:  # grey and dashed: nothing to read into the colour
        return (
            '<span title="No source reports a status for this record" style="border:1px dashed #777;'
            f'color:#444;padding:2px 8px;border-radius:10px;font-size:.85em">{html.escape(label)}</span>'
        )
    color = STATUS_COLORS.get(status, "#777")
    dark = status in ("under_review",)
    return (
        f'<span style="background:{color};color:{"#000" if dark else "#fff"};padding:2px 8px;'
        f'border-radius:10px;font-size:.85em">{html.escape(label)}</span>'
    )


def page_user(action: str = "read", what: str = "this page") -> User:
    """The signed-in user if they may ``action``; otherwise an error and the page stops."""
    user = current_user(data.engine())
    if user is None:
        st.error("Sign in to see this page.")
        st.stop()
    if not can(user, action):
        st.error(
            say(
                "Your role ({role}) does not give access to {what}. Ask an administrator if you need it.",
                role=user.role,
                what=what,
            )
        )
        st.stop()
    return user


def store_down(err: Exception | None = None) -> None:
    st.error(
        "The store cannot be reached, or has no schema yet. Nothing was changed. "
        "Check that the database is running and DATABASE_URL is right, then run `rectrack db upgrade` "
        "(and `rectrack seed` for the catalog) and reload this page."
    )
    if err is not None:
        st.caption(
            say(
                "Details for an administrator: {kind}: {detail}",
                kind=type(err).__name__,
                detail=(str(err).splitlines() or [""])[0][:300],
            )
        )


def empty_store() -> None:
    st.info(
        "The store has no recommendations yet. Load the catalog with `rectrack seed`, or import a CSV "
        "with `rectrack import FILE.csv --as USER`."
    )


def no_results(what: str = "records") -> None:
    st.info(f"No {what} match these filters. Clear a filter or widen the period.")


def shown(value: object) -> str:
    """A value as a reader sees it: an absent one is "—", never "None" or "nan"."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return "—"
    return str(value)


def no_blanks(df: pd.DataFrame) -> pd.DataFrame:
    """A copy for display in which no cell reads "None", "nan" or "NaT": empty text and absent values
    become "—" (numeric and date columns without gaps keep their type, so they still sort)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.isna().any() or series.dtype == object:
            out[col] = [shown(v) if not isinstance(v, (dict, list)) else v for v in series]
            out[col] = out[col].map(lambda v: "—" if v == "" else v)
    return out


def records_table(rows: list[dict], key: str, height: int | None = None) -> None:
    """A table of recommendation rows and an "open" control that goes to the detail view."""
    if not rows:
        no_results("recommendations")
        return
    df = pd.DataFrame(rows)
    if "status" in df:  # with the kind, a policy no source gives a status says "No status claimed"
        kinds = df["kind"] if "kind" in df else [None] * len(df)
        df["status"] = [status_label(s, k) for s, k in zip(df["status"], kinds)]
    if "owner_inferred" in df:
        df["owner"] = [owner_shown(o, i) for o, i in zip(df["owner"], df["owner_inferred"])]
        df = df.drop(columns=["owner_inferred"])
    for col, vocabulary in (("theme", "theme"), ("who_must_act", "who_must_act"), ("kind", "kind")):
        if col in df:
            df[col] = df[col].map(lambda v, voc=vocabulary: human(voc, v))
    df = no_blanks(df)
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        height=height or "auto",
        column_config={
            "key": st.column_config.TextColumn("Key"),
            "title": st.column_config.TextColumn("Title", width="large"),
            "progress": st.column_config.ProgressColumn(
                "Progress", min_value=0, max_value=100, format="%d%%"
            ),
        },
    )
    titles = {r["key"]: r.get("title", "") for r in rows}  # a dict: a scan per option was O(n²)
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    pick = c1.selectbox(
        "Open a record", list(titles), key=f"{key}_pick", format_func=lambda k: f"{k} — {titles[k][:80]}"
    )
    if c2.button("Open detail", key=f"{key}_open"):
        open_detail(pick)


def open_detail(key: str) -> None:
    st.session_state["detail_request"] = key
    st.session_state["detail_key"] = key
    st.switch_page(RECOMMENDATIONS_PAGE, query_params={"rec": key})


def drilldown(key: str, figure: str, segments: dict[str, dict], as_of) -> None:
    """Below a figure: pick one of its segments and list the records behind it."""
    with st.expander(say("Records behind “{figure}”", figure=figure)):
        if not segments:
            st.caption("This figure has no segments to list.")
            return
        choice = st.selectbox("Segment", list(segments), key=f"{key}_segment")
        rows = data.read("segment_records", as_of, **segments[choice])
        st.caption(f"{len(rows)} record(s){' (first 500)' if len(rows) >= 500 else ''}")
        records_table(rows, key=key)


def as_of_caption(as_of_date: date | None) -> str:
    return f"as of {as_of_date:%d %b %Y}" if as_of_date else "now"
