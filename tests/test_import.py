"""CSV import: every bad row named with its line and field, and nothing imported unless all is good."""

import pytest
from helpers import event_count, make_rec
from sqlmodel import select

from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.tables import Recommendation, User
from models.workflow.csv_import import ImportRefused, import_recommendations, parse_recommendations_csv

HEADER = "key,title,summary,theme,who_must_act,owner,target_date\n"
GOOD = "imp-one,Revive the BWG,Meet twice a year,bilateral_mechanisms,both,OSD Policy,2027-06-30\n"


def run_import(engine, data: bytes, actor="ed"):
    rows = parse_recommendations_csv(data)
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == actor)).one()
        return import_recommendations(s, rows=rows, actor=user, filename="upload.csv")


def keys(engine):
    with read_session(engine) as s:
        return sorted(s.exec(select(Recommendation.key)).all())


def test_a_good_file_imports_every_row_with_an_audit_event_each(engine, users):
    before = event_count(engine)
    run_import(engine, (HEADER + GOOD + "imp-two,Second,Text,research,us,NPS,\n").encode())
    assert keys(engine) == ["imp-one", "imp-two"]
    assert event_count(engine) == before + 2


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"key,title,summary,theme,owner\nk-1,T,S,research,OSD\n", "missing column(s): who_must_act"),
        (
            HEADER.replace("target_date", "colour").encode() + b"k-1,T,S,research,us,OSD,red\n",
            "unknown column(s): colour",
        ),
        ((HEADER + GOOD + GOOD).encode(), "line 3, key: duplicate key 'imp-one' (also on line 2)"),
        ((HEADER + GOOD.replace("2027-06-30", "2027-31-12")).encode(), "line 2, target_date:"),
        (
            (HEADER + GOOD.replace("Meet twice a year", "x" * 1_048_576)).encode(),
            "line 2, summary: is 1,048,576 characters",
        ),
        (
            (HEADER + GOOD).encode() + b"imp-two,Caf\xe9,S,research,us,OSD,\n",
            "not UTF-8 text: byte 0xE9 at byte offset",
        ),
        (b"", "the file is empty"),
        (HEADER.encode(), "has a header but no rows"),
        (
            (
                HEADER + GOOD + "imp-two,T,S,no_such_theme,us,OSD,\n" + "imp-3,T,S,research,martians,OSD,\n"
            ).encode(),
            "line 3, theme:",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_line_and_field_and_nothing_is_imported(engine, users, data, expected):
    before = event_count(engine)
    with pytest.raises(InvalidInput) as err:
        run_import(engine, data)
    assert expected in str(err.value)
    assert keys(engine) == [] and event_count(engine) == before


def test_every_bad_row_is_reported_not_just_the_first(engine, users):
    data = (
        HEADER + GOOD + "imp-two,T,S,no_such_theme,us,OSD,\n" + "imp-3,T,S,research,martians,OSD,\n"
    ).encode()
    with pytest.raises(ImportRefused) as err:
        run_import(engine, data)
    assert [(p.line, p.field) for p in err.value.problems] == [(3, "theme"), (4, "who_must_act")]


def test_a_key_already_in_the_store_is_refused(engine, users):
    make_rec(engine, key="imp-one")
    with pytest.raises(ImportRefused, match="line 2, key: key 'imp-one' already exists"):
        run_import(engine, (HEADER + GOOD).encode())
    assert keys(engine) == ["imp-one"]


def test_an_unknown_parent_key_is_refused(engine, users):
    data = (
        b"key,title,summary,theme,who_must_act,owner,parent\n"
        b"imp-sub,Sub item,S,research,us,OSD,no-such-parent\n"
    )
    with pytest.raises(ImportRefused, match="line 2, parent: unknown key 'no-such-parent'"):
        run_import(engine, data)
    assert keys(engine) == []


def test_a_parent_defined_later_in_the_same_file_is_fine(engine, users):
    data = (
        b"key,title,summary,theme,who_must_act,owner,parent\n"
        b"imp-sub,Sub item,S,research,us,OSD,imp-parent\n"
        b"imp-parent,Parent,S,research,us,OSD,\n"
    )
    run_import(engine, data)
    assert keys(engine) == ["imp-parent", "imp-sub"]


def test_a_viewer_cannot_import(engine, users):
    from models.store.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        run_import(engine, (HEADER + GOOD).encode(), actor="vic")
    assert keys(engine) == []
