"""The workflow pages through AppTest: verified closure (propose on the update page, accept or
return on Verify closures), My items, bulk-edit download, trail exports, accounts (users, my
account, single sign-on mapping) and the synthetic-data banner."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import get_user
from models.store.db import make_engine, read_session, write_session
from models.store.schemas import RecommendationUpdate
from models.store.settings import get_settings
from models.trail.bundle_verify import verify_bundle
from tests.e2e.seeded_store import NORTHCOM
from tests.helpers import shown
from tests.test_dashboard_pages import APP, templates, use_store  # noqa: F401  (fixtures)

KEY = "ssi02-expand-tsc-support"  # seeded in_progress (SSI 2002 reports the IMET request doubled), with evidence


def page(name: str, user: str | None = "adm", **state) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if user:
        at.session_state["username"] = user
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(f"app_pages/{name}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(
        [
            shown(e.value)
            for kind in ("error", "info", "warning", "success", "caption", "markdown")
            for e in at.get(kind)
        ]
        + [str(h.proto.body) for h in at.get("html")]
    )


def engine():
    return make_engine(get_settings().url)


def rec(key: str = KEY):
    e = engine()
    with read_session(e) as s:
        r = get_recommendation(s, key)
    e.dispose()
    return r


def events(key: str = KEY) -> list[str]:
    from models.reads.records import recommendation_view

    e = engine()
    with read_session(e) as s:
        acts = [h["action"] for h in recommendation_view(s, key)["history"]]
    e.dispose()
    return acts


def change(key: str, actor: str = "adm", **fields):
    e = engine()
    with write_session(e) as s:
        r = get_recommendation(s, key)
        update_recommendation(
            s,
            key=key,
            actor=get_user(s, actor),
            change=RecommendationUpdate(expected_version=r.version, reason="test setup", **fields),
        )
    e.dispose()


def queue_ids(user: str) -> dict[str, int]:
    """key -> proposal id of the closures waiting for ``user``."""
    from models.reads.queues import closure_queue

    e = engine()
    with read_session(e) as s:
        ids = {q["key"]: q["id"] for q in closure_queue(s, user)}
    e.dispose()
    return ids


def propose_with_citation(at: AppTest, reason: str = "Exchanges now run every year") -> None:
    at.radio(key="clo_target").set_value("implemented")
    at.text_area(key="clo_reason").input(reason)
    at.text_input(key="clo_ev_title").input("Annual exchange report")
    at.selectbox(key="clo_cite_source").set_value("2009-deare-ndu-strategic-forum-243")
    at.text_input(key="clo_cite_section").input("Recommendations")
    at.number_input(key="clo_cite_start").set_value(10)
    at.number_input(key="clo_cite_end").set_value(12)
    at.button(key="clo_propose").click().run()
    assert not at.exception, [e.value for e in at.exception]


# ------------------------------------------------------------------ verified closure


def test_an_editor_proposes_a_closure_with_evidence_and_the_record_shows_it_waiting(use_store):
    use_store("seeded")
    before = rec()
    at = page("update", "ed", detail_key=KEY)
    propose_with_citation(at)
    assert not at.error, [e.value for e in at.error]
    assert any("proposed: waiting for verification" in shown(s.value) for s in at.success)
    assert any(
        "Waiting for verification" in shown(w.value) and "proposed by ed" in shown(w.value)
        for w in at.warning
    )
    after = rec()
    assert after.status == before.status == "in_progress" and after.version == before.version + 1
    assert events()[-1] == "closure_proposed"
    # the status cannot move while it waits, and no second proposal is offered
    assert at.selectbox(key="upd_status").options == [at.selectbox(key="upd_status").options[0]]
    assert not [b for b in at.button if b.key == "clo_propose"]
    # the detail view says the same
    det = page("recommendations", "vic", detail_key=KEY)
    assert any(
        "Waiting for verification" in shown(w.value) and "proposed by ed" in shown(w.value)
        for w in det.warning
    )


def test_proposing_needs_a_reason(use_store):
    use_store("seeded")
    at = page("update", "ed", detail_key=KEY)
    at.text_area(key="clo_reason").input("  ")
    at.button(key="clo_propose").click().run()
    assert any("reason is required" in shown(e.value) for e in at.error)
    assert "closure_proposed" not in events()


def test_a_domain_refusal_is_shown_as_an_error(use_store):
    """Closing as implemented without any evidence: the lifecycle refuses, the page says why."""
    use_store("seeded")
    from models.reads.records import recommendation_choices, recommendation_state

    e = engine()
    with read_session(e) as s:
        key = next(
            c["key"]
            for c in recommendation_choices(s)
            if c["status"] == "proposed" and recommendation_state(s, c["key"])["evidence_count"] == 0
        )
    e.dispose()
    change(key, status="accepted")
    change(key, status="in_progress")
    at = page("update", "ed", detail_key=key)
    at.radio(key="clo_target").set_value("implemented")
    at.text_area(key="clo_reason").input("done")
    at.button(key="clo_propose").click().run()
    assert any("needs at least one evidence item" in shown(e.value) for e in at.error)
    assert "closure_proposed" not in events(key)


def test_only_not_implemented_is_offered_before_in_progress(use_store):
    use_store("seeded")
    at = page("update", "ed", detail_key="martinez14-support-iaafa")  # proposed
    assert at.radio(key="clo_target").options == ["Not implemented"]


def test_choosing_a_closing_status_in_the_main_form_proposes_the_closure(use_store):
    use_store("seeded")
    at = page("update", "ed", detail_key=KEY)
    at.selectbox(key="upd_status").set_value("not_implemented")
    at.text_area(key="upd_reason").input("Overtaken by the 2013 joint policy")
    at.button(key="upd_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert rec().status == "in_progress" and events()[-1] == "closure_proposed"


def test_a_verifier_returns_then_accepts_and_never_sees_their_own_proposal(use_store):
    use_store("seeded")
    propose_with_citation(page("update", "ed", detail_key=KEY))
    # the proposer, were they a verifier, would not see it: admin proposes another, admin's queue lacks it
    adm_update = page("update", "adm", detail_key="ssi02-colombia-reinforce")
    propose_with_citation(adm_update, "Plan Colombia support continued")
    assert set(queue_ids("adm")) == {KEY} and set(queue_ids("aud")) == {KEY, "ssi02-colombia-reinforce"}
    mine = page("verify", "adm")
    assert [b.key for b in mine.button if b.key and b.key.startswith("ver_accept_")] == [
        f"ver_accept_{queue_ids('adm')[KEY]}"
    ]

    at = page("verify", "aud")
    body = texts(at)
    assert KEY in body and "Exchanges now run every year" in body and "Proposed by **ed**" in body
    assert "Annual exchange report" in body and "Citation: 2009-deare-ndu-strategic-forum-243:10-12" in body
    pid = queue_ids("aud")[KEY]
    assert len(queue_ids("aud")) == 2
    at.button(key=f"ver_return_{pid}").click().run()
    assert any("reason is required" in shown(e.value) for e in at.error)
    at.text_area(key=f"ver_reason_{pid}").input("The report does not cover FY24")
    at.button(key=f"ver_return_{pid}").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(f"Returned to ed: {KEY}" in shown(s.value) for s in at.success)
    assert rec().status == "in_progress" and events()[-1] == "closure_returned"

    upd = page("update", "ed", detail_key=KEY)
    assert any(
        "Closure returned" in shown(i.value) and "does not cover FY24" in shown(i.value) for i in upd.info
    )
    propose_with_citation(upd, "FY24 report attached")
    at = page("verify", "aud")
    pid = queue_ids("aud")[KEY]
    at.text_area(key=f"ver_reason_{pid}").input("Checked the FY24 report")
    at.button(key=f"ver_accept_{pid}").click().run()
    assert not at.error, [e.value for e in at.error]
    assert rec().status == "implemented"
    acts = events()
    assert acts.index("closure_proposed") < acts.index("closure_returned") < acts.index("closure_accepted")
    det = page("recommendations", "vic", detail_key=KEY)
    assert any("verified by aud" in shown(c.value) for c in det.caption)


def test_the_verify_queue_has_a_designed_empty_state(use_store):
    use_store("seeded")
    at = page("verify", "aud")
    assert any("Nothing is waiting for your verification" in shown(i.value) for i in at.info)


def test_a_flagged_editor_may_verify(use_store):
    use_store("seeded")
    from models.rules.users import set_can_verify

    e = engine()
    with write_session(e) as s:
        set_can_verify(s, username="nc", can_verify=True, actor=get_user(s, "adm"))
    e.dispose()
    propose_with_citation(page("update", "ed", detail_key=KEY))
    at = page("verify", "nc")
    assert KEY in texts(at)


# ------------------------------------------------------------------ my items


def test_my_items_lists_an_offices_overdue_and_stale_items_and_opens_the_detail(use_store):
    use_store("seeded")
    change("martinez14-support-iaafa", target_date=date.today() - timedelta(days=3))
    change("martinez14-support-iadc", target_date=date.today() + timedelta(days=10))
    at = page("my_items", "nc")
    metrics = {m.label: int(m.value) for m in at.get("metric")}
    assert metrics["Overdue"] == 1 and metrics["Due within 30 days"] == 1
    assert at.selectbox(key="my_overdue_pick").value == "martinez14-support-iaafa"
    at.button(key="my_overdue_open").click().run()
    assert [t.value for t in at.title][:1] == ["Recommendations"]
    assert at.selectbox(key="rec_detail").value == "martinez14-support-iaafa"


def test_my_items_shows_closures_waiting_for_a_verifier(use_store):
    use_store("seeded")
    propose_with_citation(page("update", "ed", detail_key=KEY))
    at = page("my_items", "aud")
    assert {m.label: int(m.value) for m in at.get("metric")}["Waiting for my verification"] == 1
    assert at.selectbox(key="my_awaiting_verification_pick").value == KEY


@pytest.mark.parametrize(
    "user,expected",
    [
        ("vic", "your account has no office"),
        ("aud", "Nothing waits for your verification"),
        ("scoped", "Nothing needs you today"),
    ],
)
def test_my_items_has_a_designed_empty_state(use_store, user, expected):
    use_store("seeded")
    at = page("my_items", user)
    assert expected in texts(at)


# ------------------------------------------------------------------ bulk edits


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bulk_edits_offers_the_recommendations_for_download(use_store, fmt):
    use_store("seeded")
    at = page("bulk", "nc")
    assert at.selectbox(key="bulk_owner").value == NORTHCOM  # an office editor starts with their office
    at.radio(key="bulk_format").set_value(fmt)
    at.button(key="bulk_prepare").click().run()
    assert not at.exception
    prepared = at.session_state["bulk_export"]
    assert prepared["n"] == 12 and prepared["name"].endswith(fmt)  # NORTHCOM's spellings are one office
    if fmt == "csv":
        assert prepared["bytes"].decode("utf-8-sig").splitlines()[0].startswith("key,")
    from models.workflow.edit_files import parse_edit_file

    parsed = parse_edit_file(prepared["bytes"], prepared["name"])
    assert len(parsed.rows) == 12 and not parsed.problems
    assert at.button(key="bulk_apply").disabled  # nothing uploaded yet


# ------------------------------------------------------------------ exports


@pytest.mark.parametrize("fmt", ["bundle", "csv", "jsonl", "html"])
def test_an_auditor_exports_the_trail_and_a_bundle_verifies(use_store, fmt):
    use_store("seeded")
    at = page("trail", "aud")
    at.text_input(key="exp_keys_q").input(KEY).run()  # the picker offers the matches of a search
    at.multiselect(key="exp_keys").set_value([KEY])
    at.radio(key="exp_format").set_value(fmt)
    at.button(key="exp_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    result = at.session_state["exp_result"]
    path = Path(result["path"])
    assert path.is_file() and path.parent.parent == get_settings().data_dir / "exports"
    assert any("Exported" in shown(s.value) for s in at.success)
    assert at.get("download_button")
    if fmt == "bundle":
        report = verify_bundle(path)
        assert report.ok, report.problems
        assert report.manifest["scope"]["keys"] == [KEY]
    elif fmt == "jsonl":
        first = json.loads(path.read_text().splitlines()[0])
        assert first["record_key"] in (KEY,) or first["record_type"] == "evidence"
    # the export is itself in the trail
    from models.reads.trail_page import trail_page

    e = engine()
    with read_session(e) as s:
        assert trail_page(s, action="export")["total"] == 1
    e.dispose()


def test_an_export_with_reversed_dates_is_refused(use_store):
    use_store("seeded")
    at = page("trail", "aud")
    at.date_input(key="exp_since").set_value(date(2020, 1, 1))
    at.date_input(key="exp_until").set_value(date(2010, 1, 1))
    at.button(key="exp_run").click().run()
    assert any("after" in shown(e.value) for e in at.error)
    assert "exp_result" not in at.session_state


def test_the_trail_verdict_covers_evidence_files_and_versions(use_store):
    use_store("seeded")
    e = engine()
    with write_session(e) as s:  # a row changed outside the app: its version no longer matches the trail
        get_recommendation(s, KEY).version += 5
    e.dispose()
    at = page("trail", "aud")
    assert any("does not verify" in shown(x.value) for x in at.error)
    assert KEY in texts(at)


def test_the_trail_page_names_each_row_changed_by_sql_behind_the_app(use_store):
    use_store("seeded")
    before = rec()
    e = engine()
    with e.begin() as c:  # an insider with the database file; versions left alone
        c.execute(
            text("UPDATE recommendation SET status = 'implemented', owner = '**Nobody**' WHERE key = :k"),
            {"k": KEY},
        )
        c.execute(text("UPDATE \"user\" SET role = 'admin' WHERE username = 'vic'"))
    e.dispose()
    at = page("trail", "aud")
    assert any("does not verify" in shown(x.value) for x in at.error)
    shown_lines = [shown(m.value) for m in at.markdown]
    for line in (
        f"- recommendation {KEY!r}: status is 'implemented' in the store but the trail implies {before.status!r}",
        f"- recommendation {KEY!r}: owner is '**Nobody**' in the store but the trail implies {before.owner!r}",
        "- user 'vic': role is 'admin' in the store but the trail implies 'viewer'",
    ):
        assert line in shown_lines, shown_lines
    assert not any("<strong>" in str(m.proto.body) for m in at.markdown), "stored text stays text"


# ------------------------------------------------------------------ accounts


def test_an_admin_adds_a_person_and_the_password_is_shown_once(use_store):
    use_store("seeded")
    at = page("users", "adm")
    at.text_input(key="usr_new_name").input("maria")
    at.selectbox(key="usr_new_role").set_value("editor")
    at.selectbox(key="usr_new_office").set_value(NORTHCOM)
    at.button(key="usr_add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    password = at.code[0].value
    assert len(password) >= 12 and any("shown only this once" in shown(s.value) for s in at.success)
    from models.rules.auth import authenticate

    e = engine()
    with write_session(e) as s:
        assert authenticate(s, username="maria", password=password).office == NORTHCOM
    e.dispose()
    at.run()  # the next run: gone
    assert not at.code
    assert "maria" in list(at.get("dataframe")[0].value["username"])


def test_a_single_sign_on_account_needs_an_email_and_has_no_password(use_store):
    use_store("seeded")
    at = page("users", "adm")
    at.text_input(key="usr_new_name").input("li")
    at.radio(key="usr_new_how").set_value("sso")
    at.button(key="usr_add").click().run()
    assert any("needs the e-mail" in shown(e.value) for e in at.error)
    at.text_input(key="usr_new_email").input("Li@Example.mil")
    at.button(key="usr_add").click().run()
    assert not at.error and not at.code
    e = engine()
    with read_session(e) as s:
        u = get_user(s, "li")
        assert u.password_hash is None and u.email == "li@example.mil"
    e.dispose()


def test_an_admin_changes_role_office_verifier_and_disables(use_store):
    use_store("seeded")
    at = page("users", "adm")
    at.selectbox(key="usr_pick").set_value("vic").run()
    at.selectbox(key="usr_role_vic").set_value("editor")
    at.selectbox(key="usr_office_vic").set_value(NORTHCOM)
    at.checkbox(key="usr_verify_vic").check()
    at.checkbox(key="usr_disabled_vic").check()
    at.button(key="usr_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("Saved vic" in shown(s.value) for s in at.success)
    e = engine()
    with read_session(e) as s:
        u = get_user(s, "vic")
        assert (u.role, u.office, u.can_verify, u.disabled) == ("editor", NORTHCOM, True, True)
    e.dispose()


def test_an_admin_cannot_disable_themselves_and_is_told_why(use_store):
    use_store("seeded")
    at = page("users", "adm")
    at.selectbox(key="usr_pick").set_value("adm").run()
    at.checkbox(key="usr_disabled_adm").check()
    at.button(key="usr_save").click().run()
    assert any("cannot disable your own account" in shown(e.value) for e in at.error)


def test_an_admin_resets_a_password_shown_once(use_store):
    use_store("seeded")
    at = page("users", "adm")
    at.selectbox(key="usr_pick").set_value("ed").run()
    at.button(key="usr_reset").click().run()
    assert not at.error and at.code and "Password of ed reset" in texts(at)


def test_changing_ones_own_password(use_store, tmp_path):
    from models.rules.auth import authenticate
    from tests.e2e.seeded_store import PASSWORD, add_users

    url = use_store("empty")
    from models.store.upgrade import upgrade

    db = tmp_path / "pw.db"
    upgrade(f"sqlite:///{db}")
    add_users(f"sqlite:///{db}", with_passwords=True)
    import os

    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    from tests.test_dashboard_pages import clear_caches

    clear_caches()
    try:
        at = page("account", "vic")
        at.text_input(key="acct_current").input(PASSWORD)
        at.text_input(key="acct_new").input("a new long passphrase")
        at.text_input(key="acct_again").input("a different one here")
        at.button(key="acct_change").click().run()
        assert any("differ" in shown(e.value) for e in at.error)
        at.text_input(key="acct_current").input("wrong current password")
        at.text_input(key="acct_new").input("a new long passphrase")
        at.text_input(key="acct_again").input("a new long passphrase")
        at.button(key="acct_change").click().run()
        assert any("current password is not right" in shown(e.value) for e in at.error)
        at.text_input(key="acct_current").input(PASSWORD)
        at.text_input(key="acct_new").input("a new long passphrase")
        at.text_input(key="acct_again").input("a new long passphrase")
        at.button(key="acct_change").click().run()
        assert not at.error and any("Password changed" in shown(s.value) for s in at.success)
        e = make_engine(f"sqlite:///{db}")
        with write_session(e) as s:
            assert authenticate(s, username="vic", password="a new long passphrase")
        e.dispose()
    finally:
        os.environ["DATABASE_URL"] = url
        clear_caches()


def test_a_single_sign_on_user_has_no_password_to_change(use_store):
    use_store("seeded")
    at = page("account", "vic")  # plain rows: no password hash
    assert any("single sign-on" in shown(i.value) for i in at.info)


# ------------------------------------------------------------------ single sign-on


def add_sso_user(name: str, email: str, role: str = "editor") -> None:
    from models.rules.auth import create_user
    from models.rules.users import operator_user

    e = engine()
    with write_session(e) as s:
        create_user(s, username=name, role=role, password=None, actor=operator_user(s), email=email)
    e.dispose()


def test_without_secrets_no_single_sign_on_is_offered(use_store):
    use_store("seeded")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "sso_login"]


def test_with_an_auth_section_single_sign_on_is_offered(use_store, monkeypatch):
    use_store("seeded")
    import dashboard.identity as identity

    monkeypatch.setattr(identity, "sso_configured", lambda: True)
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert at.button(key="sso_login").label == "Sign in with single sign-on"


def test_a_known_sso_identity_maps_to_its_local_account(use_store, monkeypatch):
    use_store("seeded")
    add_sso_user("rosa", "rosa@example.mil")
    import dashboard.sso as sso

    monkeypatch.setattr(sso, "logged_in", lambda: True)
    monkeypatch.setattr(
        sso,
        "claims",
        lambda: {
            "sub": "rosa",
            "email": "rosa@example.mil",
            "email_verified": True,
            "email_source": "ID token",
        },
    )
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert at.session_state["username"] == "rosa"
    assert [t.value for t in at.title][:1] == ["Overview"]
    from models.reads.trail_page import trail_page

    e = engine()
    with read_session(e) as s:
        assert [r["action"] for r in trail_page(s, record="rosa")["rows"]][0] == "signin"
    e.dispose()


def test_an_unknown_sso_identity_gets_no_access_and_a_sign_out(use_store, monkeypatch):
    use_store("seeded")
    import dashboard.sso as sso

    monkeypatch.setattr(sso, "logged_in", lambda: True)
    monkeypatch.setattr(
        sso, "claims", lambda: {"sub": "x1", "email": "stranger@example.mil", "email_verified": True}
    )
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "username" not in at.session_state
    assert any(
        "has no access yet" in shown(e.value) and "stranger@example.mil" in shown(e.value) for e in at.error
    )
    assert at.button(key="sso_logout")
    at.run()  # refused once per session: no second refusal event
    from models.reads.trail_page import trail_page

    e = engine()
    with read_session(e) as s:
        assert trail_page(s, action="signin_refused")["total"] == 1
    e.dispose()


# ------------------------------------------------------------------ synthetic data


@pytest.mark.parametrize("name", ["overview", "my_items", "verify", "users"])
def test_a_synthetic_store_is_marked_on_every_page(use_store, monkeypatch, name):
    use_store("seeded")
    import dashboard.data

    monkeypatch.setitem(dashboard.data.QUERIES, "is_synthetic_store", lambda session: True)
    at = page(name, "adm")
    assert any("SYNTHETIC DATA" in str(h.proto.body) for h in at.get("html"))


def test_the_real_catalog_is_not_marked_synthetic(use_store):
    use_store("seeded")
    at = page("overview", "adm")
    assert not any("SYNTHETIC DATA" in str(h.proto.body) for h in at.get("html"))
    from models.reads.accounts import is_synthetic_store

    e = engine()
    with read_session(e) as s:
        assert is_synthetic_store(s) is False
    e.dispose()
