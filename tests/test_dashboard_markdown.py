"""The rendering rule, page by page through AppTest: no text a person typed or a file carried
reaches a markdown-rendering element (alerts, captions, headings, metric values, labels, radio
options, expanders, tabs) unescaped, on every page, for the roles that see it, and through a
``?rec=`` link and a bundle's manifest too. The same store in a real browser:
tests/e2e/test_browser_hostile_markdown.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from models.store.settings import get_settings
from tests.helpers import shown
from tests.hostile_store import KEY, LEAK, build_hostile_store, payload

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
ORIGIN = "http://127.0.0.1:9"
PAGES = {
    "overview": "adm",
    "my_items": "hoffice",
    "recommendations": "adm",
    "update": "adm",
    "verify": "aud",
    "bulk": "hoffice",
    "obstacles": "adm",
    "indicators": "adm",
    "timeline": "adm",
    "trail": "aud",
    "users": "adm",
    "account": "hoffice",
}
PLAIN = {
    "html",
    "code",
    "text",
    "dataframe",
    "arrow_data_frame",
    "json",
    "exception",
    "selectbox",
    "multiselect",
    "text_input",
    "text_area",
}  # elements that show text as text (html is checked by test_dashboard_hostile)


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("markdown")
    return build_hostile_store(root, ORIGIN)


@pytest.fixture
def store(template, tmp_path, monkeypatch):
    url, data_dir = template
    db = tmp_path / "hostile.db"
    shutil.copy(url.removeprefix("sqlite:///"), db)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("RECTRACK_DATA_DIR", str(data_dir))
    clear_caches()
    yield
    clear_caches()


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def markdown_strings(at: AppTest) -> list[tuple[str, str]]:
    """(element type, text) for every string a markdown-rendering element or label will render."""
    out = []
    for node in _walk(at._tree):
        kind, proto = getattr(node, "type", ""), getattr(node, "proto", None)
        if proto is None:
            continue
        if kind in PLAIN:
            if kind not in ("html", "code", "text", "dataframe", "arrow_data_frame", "json", "exception"):
                out.append((kind, proto.label))  # widget labels render markdown; their options do not
            continue
        for field in ("label", "body", "help", "text", "placeholder"):
            value = getattr(proto, field, None)
            if isinstance(value, str) and value:
                out.append((kind, value))
        for sub in ("expandable", "tab"):  # expanders and tabs are blocks with a label
            if (
                hasattr(proto, "HasField")
                and proto.DESCRIPTOR.fields_by_name.get(sub)
                and proto.HasField(sub)
            ):
                out.append((sub, getattr(proto, sub).label))
        if kind == "radio":
            out += [(kind, o) for o in proto.options]
    return out


def leaks(at: AppTest) -> list[tuple[str, str]]:
    return [(k, v) for k, v in markdown_strings(at) if LEAK.search(v)]


def open_page(page: str, user: str, **state) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = user
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("page", PAGES)
def test_no_page_renders_user_text_as_markdown(store, page):
    at = open_page(page, PAGES[page], detail_key=KEY, detail_request=KEY, upd_key=KEY)
    assert markdown_strings(at), "the walk found nothing to check"
    assert leaks(at) == []


def test_the_record_shows_the_hostile_text_as_text(store):
    at = open_page("recommendations", "adm", detail_request=KEY)
    seen = "\n".join(shown(v) for _, v in markdown_strings(at))
    # the owner is now the office it moved to; the history's reasons are html-escaped inside st.html
    for what in (
        "title",
        "summary",
        "summary2",
        "office",
        "evidence-title",
        "evidence-summary",
        "section",
        "proposal2",
    ):
        assert payload(ORIGIN, what) in seen, what


def test_a_rec_link_parameter_is_shown_as_text_in_the_error(store):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["username"] = "vic"
    at.query_params["rec"] = payload(ORIGIN, "query")
    at.run()
    at.switch_page("app_pages/recommendations.py").run()
    assert not at.exception
    assert leaks(at) == []
    assert any(payload(ORIGIN, "query") in shown(e.value) for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("ok", [True, False])
def test_a_bundles_name_manifest_and_problems_are_shown_as_text(store, ok):
    verdict = {
        "name": payload(ORIGIN, "bundle-name"),
        "ok": ok,
        "included": 3,
        "chain": 3,
        "files": 1,
        "problems": [] if ok else [payload(ORIGIN, "problem")],
        "regenerated": ["events.csv", "recommendations.jsonl", "report.html"],
        "not_covered": [],
        "evidence": 1,
        "live": 3,
        "manifest": {
            "exporter": payload(ORIGIN, "exporter"),
            "exported_at": payload(ORIGIN, "at"),
            "scope": {"owner": payload(ORIGIN, "scope")},
            "chain_head": {"seq": payload(ORIGIN, "seq")},
        },
    }
    at = open_page("trail", "aud", exp_verdict=verdict)
    assert leaks(at) == []
    seen = "\n".join(shown(v) for _, v in markdown_strings(at))
    assert payload(ORIGIN, "bundle-name") in seen
    assert payload(ORIGIN, "exporter" if ok else "problem") in seen
