"""Hostile text on every dashboard page: shown as text, never run as markup.

A recommendation whose title, summary, owner, reason and evidence carry script and image
tags, a right-to-left override, zero-width characters and SQL is put in a store; every page
is rendered through AppTest. No page may raise, no element that renders raw HTML (``st.html``,
markdown with ``unsafe_allow_html``) may contain the markup unescaped, and the pages that show
the record must show the text itself, unchanged.
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence, create_recommendation, update_recommendation
from models.store.db import make_engine, write_session
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate
from models.store.settings import Settings, get_settings
from models.store.tables import User
from tests.e2e.seeded_store import build_store
from tests.helpers import shown

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PAGES = ["overview", "recommendations", "update", "obstacles", "indicators", "timeline", "trail"]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
MARKUP = (SCRIPT, IMG, "<script", "<img")
TITLE = f"{SCRIPT} {IMG} zero\u200bwidth '; DROP TABLE recommendation; --"  # one-line fields refuse bidi overrides
OWNER = f"{IMG} Office\u200b J5"
SUMMARY = f"{SCRIPT}\n\n{IMG}\n\n'; DROP TABLE recommendation; --\n\n\u202eevil\u202c zero\u200bwidth"
REASON = f"because {SCRIPT} {IMG}"


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def hostile_template(tmp_path_factory):
    """A store with one hostile recommendation, evidence and history, built once per module."""
    root = tmp_path_factory.mktemp("hostile")
    path = root / "hostile.db"
    url = build_store(path, seeded=False)
    engine = make_engine(url)
    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        create_recommendation(
            s,
            actor=ed,
            reason=REASON,
            data=RecommendationCreate(
                key="rec-hostile",
                title=TITLE,
                summary=SUMMARY,
                theme="counter_drug",
                who_must_act="us",
                owner=OWNER,
            ),
        )
        update_recommendation(
            s,
            key="rec-hostile",
            actor=ed,
            change=RecommendationUpdate(
                expected_version=1, status="accepted", owner=OWNER + " (acting)", reason=REASON
            ),
        )
        stored = store_file(
            io.BytesIO(SUMMARY.encode()), f"{SCRIPT}{IMG}.txt", settings=Settings(data_dir=root / "data")
        )
        attach_evidence(
            s,
            keys=["rec-hostile"],
            actor=ed,
            reason=REASON,
            files=[stored],
            evidence=EvidenceCreate(title=TITLE, summary=SUMMARY, kind="file"),
        )
    engine.dispose()
    return path


@pytest.fixture
def hostile_store(hostile_template, tmp_path, monkeypatch):
    db = tmp_path / "hostile.db"
    db.write_bytes(hostile_template.read_bytes())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(hostile_template.parent / "data"))  # the evidence file
    clear_caches()
    yield
    clear_caches()


def open_page(page: str, user: str = "adm") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = user
    at.run()
    return at.switch_page(f"app_pages/{page}.py").run()


def raw_html_bodies(at: AppTest) -> list[str]:
    """The text of every element the browser would render as HTML rather than as text."""
    bodies = [h.proto.body for h in at.get("html")]
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        bodies += [e.proto.body for e in at.get(kind) if getattr(e.proto, "allow_html", False)]
    return bodies


@pytest.mark.parametrize("page", PAGES)
def test_hostile_text_is_inert_on_every_page(hostile_store, page):
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    for body in raw_html_bodies(at):
        assert not any(m in body for m in MARKUP), (
            f"unescaped markup rendered as HTML on {page}: {body[:300]!r}"
        )


def test_the_recommendations_page_shows_the_hostile_text_exactly_as_text(hostile_store):
    at = open_page("recommendations")
    assert not at.exception
    listed = at.dataframe[0].value
    assert list(listed["title"]) == [TITLE] and list(listed["owner"]) == [OWNER + " (acting)"]
    assert [shown(h.value) for h in at.subheader][:1] == [TITLE]
    summary = [m for m in at.markdown if shown(m.value).replace("  \n", "\n") == SUMMARY]
    assert summary and not summary[0].proto.allow_html  # markdown-escaped (dashboard.ui.md_block), never HTML


def test_the_update_page_shows_the_hostile_title_escaped(hostile_store):
    at = open_page("update", user="ed")
    assert not at.exception
    assert any(TITLE[:90] in o for o in at.selectbox(key="upd_key").options)
    header = [h.proto.body for h in at.get("html") if "version 2" in h.proto.body]
    assert header and html.escape(TITLE) in header[0] and html.escape(OWNER) in header[0]


def test_the_trail_page_lists_the_hostile_reason_exactly(hostile_store):
    at = open_page("trail", user="aud")
    assert not at.exception
    rows = at.dataframe[0].value
    assert set(rows[rows["action"] != "user_add"]["reason"]) == {REASON}  # the accounts' own events aside
