"""The office register: an owner is an office on the list, spelt one way, so owner tallies do not split
(issue 16, class 5). The catalog maps every spelling it uses to one office; writes that set an owner
are refused for an office the register does not hold, naming the ones that come close."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from models.catalog.checks import CatalogError, load_catalog
from models.catalog.loader import seed_catalog
from models.catalog.offices import canonical_owner
from models.rules.offices import UnknownOffice, add_office
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.errors import PermissionDenied
from models.store.tables import Office, Recommendation, User
from models.workflow.bulk_edits import EditsRefused
from models.workflow.csv_import import ImportRefused, import_recommendations, parse_recommendations_csv
from tests.helpers import change, cli, make_rec, read_rec
from tests.test_roundtrip import apply, edit, export

REPO = Path(__file__).resolve().parents[1]


def _office(engine, name: str, key: str, actor: str = "adm") -> None:
    with write_session(engine) as s:
        who = s.exec(select(User).where(User.username == actor)).one()
        add_office(s, key=key, name=name, actor=who, reason="new office stood up")


def test_the_catalog_spells_each_office_one_way():
    cat = load_catalog(REPO / "seeds")
    raw = {r.owner for r in cat.recommendations.values()}
    offices = {canonical_owner(cat, r.owner) for r in cat.recommendations.values()}
    names = {o.name for o in cat.offices.values()}
    assert offices <= names  # every owner is an office's name once loaded
    assert len(raw) == 77 and len(offices) == 35  # 84 spellings before the register (issue 16)
    assert canonical_owner(cat, "Department of Defense") == canonical_owner(cat, "U.S. Department of Defense")
    assert canonical_owner(cat, "USNORTHCOM, service components and the Security Cooperation Office") == (
        "U.S. Northern Command"
    )


def test_an_owner_the_register_does_not_hold_is_a_catalog_error_naming_the_record(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    path = seeds / "catalog" / "2009-deare-ndu-strategic-forum-243.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("owner: U.S. Department of Defense\n", "owner: US Dept of Defence\n", 1))
    with pytest.raises(CatalogError) as err:
        load_catalog(seeds)
    msg = str(err.value)
    assert "2009-deare-ndu-strategic-forum-243.yaml" in msg and "field 'owner'" in msg
    assert "'US Dept of Defence' is not an office in seeds/offices.yaml" in msg and "(key 'deare09-" in msg


def test_seeding_fills_the_register_and_owner_tallies_count_each_office_once(engine):
    with write_session(engine) as s:
        report = seed_catalog(s, catalog=load_catalog(REPO / "seeds"), actor=operator_user(s))
    assert report.added["offices"] == 35
    with read_session(engine) as s:
        owners = Counter(s.exec(select(Recommendation.owner)).all())
        registered = set(s.exec(select(Office.name)).all())
    assert set(owners) <= registered and len(owners) == 35
    # "Department of Defense" and "U.S. ..." together, and the gap review's martinez14-weigh-mexican-budget-limits
    assert owners["U.S. Department of Defense"] == 23
    assert "Department of Defense" not in owners


def test_an_owner_change_to_an_unknown_office_is_refused_naming_the_close_ones(engine, users):
    _office(engine, "OSD Policy", "osd-policy")
    _office(engine, "U.S. Southern Command J7", "southcom-j7")
    make_rec(engine, "rec-a", owner="OSD Policy")
    with pytest.raises(UnknownOffice) as err:
        change(engine, "rec-a", owner="US Southern Command J-7", reason="handed over")
    assert "'US Southern Command J-7' is not an office in the register" in str(err.value)
    assert "did you mean 'U.S. Southern Command J7'?" in str(err.value) and "rectrack office add" in str(
        err.value
    )
    assert read_rec(engine, "rec-a").owner == "OSD Policy" and read_rec(engine, "rec-a").version == 1
    # typed in another case or with extra spaces, the register's spelling is kept
    assert change(engine, "rec-a", owner="u.s. southern  command j7", reason="handed over").owner == (
        "U.S. Southern Command J7"
    )


def test_only_an_admin_adds_an_office_and_then_it_can_own_records(engine, users):
    _office(engine, "OSD Policy", "osd-policy")
    make_rec(engine, "rec-a", owner="OSD Policy")
    with pytest.raises(PermissionDenied):
        _office(engine, "Joint Staff J5", "j5", actor="ed")
    _office(engine, "Joint Staff J5", "j5")
    assert change(engine, "rec-a", owner="Joint Staff J5", reason="J5 leads").owner == "Joint Staff J5"


def test_a_bulk_edit_row_naming_an_unknown_office_is_refused_in_the_owner_column(engine, users):
    _office(engine, "OSD Policy", "osd-policy")
    make_rec(engine, "rec-a", owner="OSD Policy")
    data = edit(export(engine, "csv"), "csv", {"rec-a": {"owner": "OSD Polcy", "reason": "moved"}})
    with pytest.raises(EditsRefused) as err:
        apply(engine, data, "csv")
    (problem,) = err.value.problems
    assert problem.field == "owner" and "did you mean 'OSD Policy'?" in problem.message


def test_a_csv_import_row_naming_an_unknown_office_is_refused_by_line(engine, users):
    _office(engine, "OSD Policy", "osd-policy")
    header = "key,title,summary,theme,who_must_act,owner\n"
    rows = parse_recommendations_csv(
        (header + "rec-x,T,S,research,us,osd policy\nrec-y,T,S,research,us,OSD Polici\n").encode()
    )
    with write_session(engine) as s, pytest.raises(ImportRefused) as err:
        import_recommendations(s, rows=rows, actor=s.get(User, users["ed"].id), filename="new.csv")
    (problem,) = err.value.problems
    assert (problem.line, problem.field) == (3, "owner") and "did you mean 'OSD Policy'?" in problem.message
    rows = parse_recommendations_csv((header + "rec-x,T,S,research,us,osd policy\n").encode())
    with write_session(engine) as s:
        (rec,) = import_recommendations(s, rows=rows, actor=s.get(User, users["ed"].id), filename="new.csv")
        assert rec.owner == "OSD Policy"


def test_rectrack_office_add_and_list(engine, users, monkeypatch):
    from models.store.settings import get_settings
    from tests.helpers import give_cli_password

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    give_cli_password(engine, "adm")
    assert "owners are not checked" in cli("office", "list").output
    added = cli("office", "add", "j5", "--name", "Joint Staff J5", "--reason", "stood up", "--as", "adm")
    assert added.exit_code == 0 and added.output == "added office j5: Joint Staff J5\n"
    refused = cli("office", "add", "j5b", "--name", "joint staff  J5", "--reason", "again", "--as", "adm")
    assert refused.exit_code == 1 and "'Joint Staff J5' is already in the register" in refused.output
    assert cli("office", "list").output == "j5\tJoint Staff J5\t0\n"


def test_seeding_an_older_store_respells_catalog_owners_and_office_accounts(engine, users):
    """A store seeded before the register: a catalog record still carrying the file's wording and an
    editor scoped to it get the office's name, each change audited; a person's own choice stays."""
    from models.rules.users import set_office

    make_rec(engine, "martinez14-support-iadc", owner="U.S. Northern Command (USNORTHCOM)", actor="adm")
    make_rec(engine, "deare09-bwg-revival", owner="Joint Staff J5", actor="adm")  # a person's choice
    with write_session(engine) as s:
        set_office(s, username="scoped", office="U.S. Northern Command (USNORTHCOM)", actor=operator_user(s))
    with write_session(engine) as s:
        report = seed_catalog(s, catalog=load_catalog(REPO / "seeds"), actor=operator_user(s))
    assert report.added["owners respelt"] == 1 and report.added["account offices respelt"] == 1
    assert read_rec(engine, "martinez14-support-iadc").owner == "U.S. Northern Command"
    assert read_rec(engine, "deare09-bwg-revival").owner == "Joint Staff J5"
    with read_session(engine) as s:
        assert s.exec(select(User.office).where(User.username == "scoped")).one() == "U.S. Northern Command"
        from models.trail.verify import verify_store

        report = verify_store(s)
    assert report.ok, report.lines()  # the respellings, the office events and the marks replay clean


def test_part_of_an_office_name_typed_alone_is_answered_with_the_offices_that_hold_it(engine, users):
    for key, name in (
        ("nc", "U.S. Northern Command"),
        ("nc-mx", "U.S. Northern Command with SEDENA and SEMAR"),
    ):
        _office(engine, name, key)
    make_rec(engine, "rec-a", owner="U.S. Northern Command")
    with pytest.raises(UnknownOffice) as err:
        change(engine, "rec-a", owner="Northern Command", reason="typed the short form")
    assert err.value.suggestions == ["U.S. Northern Command", "U.S. Northern Command with SEDENA and SEMAR"]


def test_an_office_just_added_can_be_chosen_before_it_owns_anything(engine, users):
    from models.reads.records import owner_choices

    _office(engine, "OSD Policy", "osd-policy")
    make_rec(engine, "rec-a", owner="OSD Policy")
    _office(engine, "Joint Staff J5", "j5")
    with read_session(engine) as s:
        assert owner_choices(s) == ["Joint Staff J5", "OSD Policy"]
