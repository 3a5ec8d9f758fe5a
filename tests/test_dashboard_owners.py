"""Pages mark an owner no source names "(inferred)" and a policy or old proposal no source gives a
status "No status claimed" wherever a reader meets them: the Recommendations list and its owner
filter, the Overview's figures and drill-downs, My items (issue 16)."""

from __future__ import annotations

from models.rules.auth import create_user
from models.rules.users import operator_user
from models.store.db import make_engine, write_session
from tests.test_dashboard_pages import open_page, templates, use_store  # noqa: F401  (fixtures)

NPS = "Naval Postgraduate School and defense research community"  # owns the research agenda, never named


def test_the_list_and_its_owner_filter_mark_owners_no_source_names(use_store):
    use_store("seeded")
    at = open_page("recommendations", "vic")
    options = at.selectbox(key="rec_owner").options
    assert f"{NPS} (inferred)" in options
    assert any(o.startswith("U.S. Northern Command (") and o.endswith(" inferred)") for o in options), options
    assert "Defense Security Cooperation Agency and U.S. Southern Command" in options  # named by Samanez
    at.selectbox(key="rec_kind").set_value("research_agenda").run()
    assert not at.exception
    assert set(at.get("dataframe")[0].value["owner"]) == {f"{NPS} (inferred)"}
    at.selectbox(key="rec_kind").set_value("All").run()
    at.selectbox(key="rec_owner").set_value("U.S. Northern Command").run()
    owners = set(at.get("dataframe")[0].value["owner"])
    assert owners == {"U.S. Northern Command", "U.S. Northern Command (inferred)"}, owners


def test_the_overview_counts_and_lists_no_status_claimed_and_marks_inferred_owners(use_store):
    use_store("seeded")
    at = open_page("overview", "vic")
    chips = "\n".join(h.proto.body for h in at.get("html"))
    assert "No status claimed" in chips and "Proposed" in chips
    segments = at.selectbox(key="dd_status_segment").options
    unclaimed = next(o for o in segments if o.startswith("No status claimed ("))
    at.selectbox(key="dd_status_segment").set_value(unclaimed).run()
    assert not at.exception
    listed = at.get("dataframe")
    table = next(
        d.value for d in listed if "status" in d.value and set(d.value["status"]) == {"No status claimed"}
    )
    assert len(table) == int(unclaimed.split("(")[1].rstrip(")"))
    owners = at.selectbox(key="dd_owner_segment").options
    assert any(o.startswith(f"{NPS} (inferred) (") for o in owners), owners
    at.selectbox(key="dd_owner_segment").set_value(next(o for o in owners if o.startswith(NPS))).run()
    assert any(
        "owner" in d.value and f"{NPS} (inferred)" in set(d.value["owner"]) for d in at.get("dataframe")
    )


def test_my_items_mark_inferred_owners_and_no_status_claimed(use_store):
    url = use_store("seeded")
    engine = make_engine(url)
    with write_session(engine) as s:
        create_user(
            s,
            username="osd",
            role="editor",
            office="Office of the Secretary of Defense",
            password=None,
            actor=operator_user(s),
        )
    engine.dispose()
    at = open_page("my_items", "osd")
    assert not at.exception
    shown = [d.value for d in at.get("dataframe")]
    statuses = {s for df in shown for s in df["status"]}
    assert "No status claimed" in statuses, statuses  # Perry's exercise proposal, stale since the 1990s
    at = open_page("my_items", "nc")
    owners = {o for df in (d.value for d in at.get("dataframe")) for o in df["owner"]}
    assert owners == {"U.S. Northern Command", "U.S. Northern Command (inferred)"}, owners


def test_the_update_page_refuses_an_owner_outside_the_register_naming_the_near_offices(use_store):
    from tests.test_dashboard_update import rec, update_page

    use_store("seeded")
    at = update_page()
    before = rec()
    at.text_input(key="upd_owner").input("US Southern Comand")
    at.text_area(key="upd_reason").input("handed to SOUTHCOM")
    at.button(key="upd_save").click().run()
    assert not at.exception
    refused = " ".join(e.value for e in at.error).replace("\\", "")  # shown markdown-escaped
    assert "'US Southern Comand' is not an office in the register" in refused, refused
    assert "'U.S. Southern Command'" in refused and "rectrack office add" in refused
    assert (rec().owner, rec().version) == (before.owner, before.version)  # nothing saved
    assert at.text_input(key="upd_owner").value == "US Southern Comand"  # the input stays to correct


def test_the_verify_queue_marks_an_inferred_owner(use_store):
    from models.rules.closure import propose_closure
    from models.rules.records import get_recommendation
    from models.rules.users import get_user

    url = use_store("seeded")
    engine = make_engine(url)
    with write_session(engine) as s:
        rec = get_recommendation(s, "ssi02-avoid-neglect")  # the brief names no office for it
        propose_closure(
            s,
            key=rec.key,
            target="not_implemented",
            reason="overtaken by later policy",
            expected_version=rec.version,
            actor=get_user(s, "ed"),
        )
    engine.dispose()
    at = open_page("verify", "aud")
    assert not at.exception
    shown = "\n".join(h.proto.body for h in at.get("html"))
    assert "owner U.S. Departments of State and Defense (inferred)" in shown, shown
