"""The dashboard, page by page, through Streamlit's AppTest: every page renders on an empty
store and on the seeded catalog, roles see only their pages, and errors are messages, not
tracebacks. The update form's rules are in test_dashboard_update.py."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from models.store.settings import get_settings
from tests.e2e.seeded_store import build_store

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAGES = [
    "overview",
    "my_items",
    "notifications",
    "recommendations",
    "update",
    "verify",
    "bulk",
    "obstacles",
    "indicators",
    "timeline",
    "trail",
    "users",
    "handover",
    "account",
]
TITLES = {
    "overview": "Overview",
    "recommendations": "Recommendations",
    "update": "Update a recommendation",
    "obstacles": "Obstacles",
    "indicators": "Indicators",
    "timeline": "Timeline",
    "trail": "Evidence trail",
    "my_items": "My items",
    "notifications": "Notifications",
    "verify": "Verify closures",
    "bulk": "Bulk edits",
    "users": "Users",
    "handover": "Handover",
    "account": "My account",
}


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """A seeded and an empty store, built once per module; each test works on a copy."""
    root = tmp_path_factory.mktemp("stores")
    build_store(root / "seeded.db", seeded=True)
    build_store(root / "empty.db", seeded=False)
    return root


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


@pytest.fixture
def use_store(templates, tmp_path, monkeypatch):
    """use_store("seeded"|"empty") -> the URL of a private copy, with the app pointed at it."""

    def use(kind: str = "seeded") -> str:
        db = tmp_path / f"{kind}.db"
        shutil.copy(templates / f"{kind}.db", db)
        url = f"sqlite:///{db}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("RECTRACK_DATA_DIR", str(tmp_path / "data"))
        clear_caches()
        return url

    yield use
    clear_caches()


def app(user: str | None = "adm") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if user:
        at.session_state["username"] = user
    return at


def open_page(page: str, user: str | None = "adm") -> AppTest:
    at = app(user).run()
    return at.switch_page(f"app_pages/{page}.py").run()


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("error", "info", "warning", "success", "caption", "markdown")
        for e in at.get(kind)
    ]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("kind", ["empty", "seeded"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(use_store, page, kind):
    use_store(kind)
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [t.value for t in at.title][:1] == [TITLES[page]]


@pytest.mark.parametrize("page", ["overview", "recommendations", "update"])
def test_an_empty_store_says_how_to_fill_it(use_store, page):
    use_store("empty")
    at = open_page(page)
    assert "rectrack seed" in texts(at)


@pytest.mark.parametrize("page", PAGES)
def test_the_handling_banner_is_on_every_page(use_store, monkeypatch, page):
    use_store("seeded")
    monkeypatch.setenv("RECTRACK_BANNER", "CUI // TEST BANNER")
    get_settings.cache_clear()
    at = open_page(page)
    assert any("CUI // TEST BANNER" in str(h.proto.body) for h in at.get("html"))


def test_a_store_that_is_down_shows_a_message_not_a_traceback(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    clear_caches()
    at = app("adm").run()
    assert not at.exception
    assert "cannot be reached" in at.error[0].value
    clear_caches()


def test_a_store_without_schema_shows_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'blank.db'}")
    clear_caches()
    at = app("adm").run()
    assert not at.exception and "rectrack db upgrade" in at.error[0].value
    clear_caches()


# ------------------------------------------------------------------ identity and roles


def test_without_sign_in_only_the_sign_in_form_is_shown(use_store):
    use_store("seeded")
    at = app(user=None).run()
    assert not at.exception
    assert [t.value for t in at.text_input] == ["", ""]
    assert at.button(key="sign_in_submit")
    assert not at.get("metric")


def test_signing_in_with_a_password_and_refusing_a_wrong_one(use_store, tmp_path):
    pytest.importorskip("models.rules.auth")
    from models.store.upgrade import upgrade
    from tests.e2e.seeded_store import PASSWORD, add_users

    db2 = tmp_path / "pw.db"
    upgrade(f"sqlite:///{db2}")
    add_users(f"sqlite:///{db2}", with_passwords=True)
    import os

    os.environ["DATABASE_URL"] = f"sqlite:///{db2}"
    clear_caches()
    try:
        at = app(user=None).run()
        at.text_input(key="sign_in_username").input("vic")
        at.text_input(key="sign_in_password").input("wrong password")
        at.button(key="sign_in_submit").click().run()
        assert "wrong username or password" in at.error[0].value
        assert "username" not in at.session_state
        at.text_input(key="sign_in_password").input(PASSWORD)
        at.button(key="sign_in_submit").click().run()
        assert not at.exception
        assert at.session_state["username"] == "vic"
        assert [t.value for t in at.title][:1] == ["Overview"]
    finally:
        os.environ.pop("DATABASE_URL", None)


@pytest.mark.parametrize(
    "role,verifier,expected",
    [
        (
            "viewer",
            False,
            [
                "overview",
                "my_items",
                "notifications",
                "recommendations",
                "obstacles",
                "indicators",
                "timeline",
                "account",
            ],
        ),
        (
            "editor",
            False,
            [
                "overview",
                "my_items",
                "notifications",
                "recommendations",
                "update",
                "bulk",
                "obstacles",
                "indicators",
                "timeline",
                "account",
            ],
        ),
        (
            "editor",
            True,
            [
                "overview",
                "my_items",
                "notifications",
                "recommendations",
                "update",
                "verify",
                "bulk",
                "obstacles",
                "indicators",
                "timeline",
                "account",
            ],
        ),
        (
            "auditor",
            False,
            [
                "overview",
                "my_items",
                "notifications",
                "recommendations",
                "verify",
                "obstacles",
                "indicators",
                "timeline",
                "trail",
                "account",
            ],
        ),
        ("admin", False, PAGES),
    ],
)
def test_navigation_shows_only_the_pages_a_role_may_use(role, verifier, expected):
    from dashboard.navigation import page_names_for
    from models.store.tables import User

    assert page_names_for(User(username="x", role=role, can_verify=verifier)) == expected


@pytest.mark.parametrize(
    "user,page",
    [
        ("vic", "update"),
        ("vic", "trail"),
        ("ed", "trail"),
        ("aud", "update"),
        ("vic", "verify"),
        ("ed", "verify"),
        ("vic", "bulk"),
        ("aud", "bulk"),
        ("ed", "users"),
        ("aud", "users"),
        ("ed", "handover"),
    ],
)
def test_a_page_the_role_may_not_use_is_hidden_and_refuses_when_reached(use_store, user, page):
    """The page is not listed (page_names_for, above); reached by its URL it refuses and stops."""
    use_store("seeded")
    at = app(user).run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception
    assert at.error and "does not give access" in at.error[0].value
    assert not at.title


@pytest.mark.parametrize(
    "user,page",
    [
        ("vic", "update"),
        ("vic", "trail"),
        ("ed", "trail"),
        (None, "overview"),
        ("ed", "verify"),
        ("vic", "bulk"),
        ("aud", "users"),
        (None, "account"),
    ],
)
def test_a_page_reached_without_the_right_role_refuses_and_stops(use_store, user, page):
    use_store("seeded")
    at = AppTest.from_file(str(APP.parent / "app_pages" / f"{page}.py"), default_timeout=60)
    if user:
        at.session_state["username"] = user
    at.run()
    assert not at.exception
    assert at.error and ("does not give access" in at.error[0].value or "Sign in" in at.error[0].value)
    assert not at.title


def test_a_disabled_user_loses_access_on_the_next_run(use_store):
    url = use_store("seeded")
    at = app("vic").run()
    assert [t.value for t in at.title][:1] == ["Overview"]
    from models.rules.users import get_user
    from models.store.db import make_engine, write_session

    engine = make_engine(url)
    with write_session(engine) as s:
        get_user(s, "vic").disabled = True
    engine.dispose()
    at.run()
    assert "username" not in at.session_state
    assert at.button(key="sign_in_submit")


def test_an_idle_session_is_signed_out(use_store):
    use_store("seeded")
    at = app("vic")
    at.session_state["last_active"] = 0.0  # 1970: long idle
    at.run()
    assert "username" not in at.session_state
    assert any("without activity" in i.value for i in at.info)


# ------------------------------------------------------------------ overview and drill-down


def metric(at: AppTest, label: str):
    return next(m.value for m in at.get("metric") if m.label == label)


def test_overview_tiles_count_the_catalog_and_as_of_redraws_them(use_store):
    use_store("seeded")
    at = open_page("overview", "vic")
    now_total = int(metric(at, "Recommendations"))
    assert now_total > 100
    at.date_input(key="as_of").set_value(date(2003, 1, 1)).run()
    assert not at.exception
    then_total = int(metric(at, "Recommendations"))
    assert 0 < then_total < now_total
    at.date_input(key="as_of").set_value(date(1900, 1, 1)).run()
    assert any("No recommendation existed" in i.value for i in at.info)


def test_every_overview_figure_drills_down_to_records(use_store):
    use_store("seeded")
    at = open_page("overview", "vic")
    for key in ("dd_status", "dd_theme", "dd_owner", "dd_obstacle"):
        seg = at.selectbox(key=f"{key}_segment")
        assert seg.options, key
        assert at.selectbox(key=f"{key}_pick").options, key
    assert at.selectbox(key="dd_flow_year").options
    at.selectbox(key="dd_status_segment").select_index(0).run()
    pick = at.selectbox(key="dd_status_pick").value
    at.button(key="dd_status_open").click().run()
    assert not at.exception
    assert [t.value for t in at.title][:1] == ["Recommendations"]
    assert at.selectbox(key="rec_detail").value == pick


# ------------------------------------------------------------------ recommendations


def test_filters_narrow_the_table_and_an_impossible_filter_says_so(use_store):
    use_store("seeded")
    at = open_page("recommendations", "vic")
    at.selectbox(key="rec_status").set_value("implemented").run()
    assert not at.exception
    shown = at.get("dataframe")[0].value
    assert len(shown) > 0 and set(shown["status"]) == {"Implemented"}
    at.text_input(key="rec_search").input("zzzz-no-such-thing").run()
    assert any("No recommendations match" in i.value for i in at.info)


@pytest.mark.parametrize("kind", ["existing_policy", "historical_proposal"])
def test_policies_and_old_proposals_no_source_gave_a_status_show_no_status_claimed(use_store, kind):
    """A policy in force or a decades-old proposal shown as "Proposed" claims a status nobody reported."""
    use_store("seeded")
    at = open_page("recommendations", "vic")
    at.selectbox(key="rec_kind").set_value(kind).run()
    assert not at.exception
    shown = set(at.get("dataframe")[0].value["status"])
    assert "No status claimed" in shown and "Proposed" not in shown, shown


def test_a_record_two_sources_disagree_about_shows_both_sides(use_store):
    """The BWG's sub-groups differ between Deare 2009 and Curry 2017 (seeds/conflicts.yaml)."""
    use_store("seeded")
    at = app("vic")
    at.session_state["detail_key"] = "deare09-bwg-revival"
    at.run().switch_page("app_pages/recommendations.py").run()
    assert not at.exception
    warned = "\n".join(w.value for w in at.warning)
    assert "Sources disagree" in warned and "Deare 2009" in warned and "Curry 2017" in warned, warned


def test_the_detail_view_shows_citations_sub_items_evidence_and_history(use_store):
    use_store("seeded")
    at = app("vic")
    at.session_state["detail_key"] = "deare09-pme-expansion"
    at.run().switch_page("app_pages/recommendations.py").run()
    assert not at.exception
    assert at.selectbox(key="rec_detail").value == "deare09-pme-expansion"
    labels = [t.label for t in at.tabs]
    assert any(lbl.startswith("Citations (") and lbl != "Citations (0)" for lbl in labels)
    assert any(lbl.startswith("History (") and lbl != "History (0)" for lbl in labels)
    # cited lines come from the source library when it is configured
    if get_settings().sources_dir:
        assert any("  " in c.value for c in at.code)


def test_a_parent_rolls_up_its_sub_recommendations(use_store):
    use_store("seeded")
    from models.reads.records import recommendation_choices, recommendation_view
    from models.store.db import make_engine, read_session

    engine = make_engine(get_settings().url)
    with read_session(engine) as s:
        parent = next(
            c["key"] for c in recommendation_choices(s) if recommendation_view(s, c["key"])["children"]
        )
    at = app("vic")
    at.session_state["detail_key"] = parent
    at.run().switch_page("app_pages/recommendations.py").run()
    assert not at.exception
    assert any("Roll-up:" in m.value for m in at.markdown)


# ------------------------------------------------------------------ other pages


def test_the_trail_page_verifies_the_chain_and_pages_in_the_store(use_store):
    use_store("seeded")
    at = open_page("trail", "aud")
    assert any("Hash chain verified" in s.value for s in at.success)
    first = at.get("dataframe")[0].value
    assert len(first) == 50
    at.number_input(key="tr_page").set_value(2).run()
    second = at.get("dataframe")[0].value
    assert set(first["seq"]).isdisjoint(second["seq"])
    at.selectbox(key="tr_action").set_value("status_change").run()
    assert set(at.get("dataframe")[0].value["action"]) == {"status_change"}
    assert at.button(key="exp_run") and at.button(key="exp_verify")


def test_the_indicators_page_marks_conflicting_values(use_store):
    use_store("seeded")
    at = open_page("indicators", "vic")
    at.toggle(key="ind_only_conflicts").set_value(True).run()
    assert not at.exception
    df = at.get("dataframe")[0].value
    assert len(df) == 0 or bool(df["conflict"].all())


def test_the_timeline_filters_by_country_and_period(use_store):
    use_store("seeded")
    at = open_page("timeline", "vic")
    at.multiselect(key="tl_countries").set_value(["colombia"]).run()
    assert not at.exception
    df = at.get("dataframe")[0].value
    assert len(df) and set(df["country"]) == {"colombia"}
    at.slider(key="tl_period").set_value((1821, 1822)).run()
    assert not at.exception
