"""Seeding: the catalog loads through the same rules, twice is a no-op, and edits survive."""

import shutil
from pathlib import Path

import pytest
from helpers import change, event_count, read_rec
from sqlmodel import select

from models.catalog.checks import CatalogError, load_catalog
from models.catalog.loader import seed_catalog
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.tables import Citation, Recommendation

REPO = Path(__file__).resolve().parents[1]
HEADLINE = [
    "deare09-unified-defense-ministry",
    "deare09-bwg-revival",
    "deare09-pme-expansion",
    "deare09-dto-issue-team",
]


def seed(engine, seeds_dir=REPO / "seeds"):
    catalog = load_catalog(seeds_dir)
    with write_session(engine) as s:
        return seed_catalog(s, catalog=catalog, actor=operator_user(s))


def test_seeding_loads_the_four_headline_recommendations_with_citations(engine):
    seed(engine)
    with read_session(engine) as s:
        for key in HEADLINE:
            rec = s.exec(select(Recommendation).where(Recommendation.key == key)).one()
            cites = s.exec(
                select(Citation).where(Citation.record_type == "recommendation", Citation.record_id == rec.id)
            ).all()
            assert cites and all(c.source_id == "2009-deare-ndu-strategic-forum-243" for c in cites[:1])


def test_a_second_seed_changes_nothing(engine):
    first = seed(engine)
    assert first.changed
    events = event_count(engine)
    second = seed(engine)
    assert not second.changed and str(second) == "catalog already loaded; nothing changed"
    assert event_count(engine) == events


def test_seeding_never_overwrites_a_users_edit(engine, users):
    seed(engine)
    key = HEADLINE[1]
    before = read_rec(engine, key)
    change(engine, key, owner="U.S. Southern Command", reason="assigned")  # an office in the register
    seed(engine)
    after = read_rec(engine, key)
    assert after.owner == "U.S. Southern Command" and after.version == before.version + 1


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (
            lambda t: t.replace("theme: defense_institutions", "theme: defence_institutions", 1),
            "field 'theme'",
        ),
        (
            lambda t: t.replace("    summary:", "    sumary:", 1),
            "field 'sumary': Extra inputs are not permitted",
        ),
        (lambda t: t.replace("kind: explicit", "kind: explict", 1), "field 'kind'"),
    ],
)
def test_a_seed_file_with_a_typo_fails_naming_file_record_and_field(tmp_path, mutate, expected):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    path = seeds / "catalog" / "2009-deare-ndu-strategic-forum-243.yaml"
    path.write_text(mutate(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(seeds)
    msg = str(err.value)
    assert str(path) in msg and "recommendations[" in msg and "(key 'deare09-" in msg and expected in msg


def test_a_seed_file_that_is_not_yaml_fails_with_the_line(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    (seeds / "catalog" / "broken.yaml").write_text("recommendations:\n  - key: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"broken.yaml: not valid YAML at line \d"):
        load_catalog(seeds)


def test_no_seeded_status_move_is_dated_before_its_recommendation_was_created(engine):
    from models.store.tables import AuditEvent

    seed(engine)
    with read_session(engine) as s:
        created = dict(
            s.exec(
                select(AuditEvent.record_key, AuditEvent.effective_at).where(AuditEvent.action == "create")
            ).all()
        )
        moves = s.exec(
            select(AuditEvent.record_key, AuditEvent.effective_at).where(
                AuditEvent.action != "create", AuditEvent.record_type == "recommendation"
            )
        ).all()
    early = [(k, at) for k, at in moves if at < created[k]]
    assert moves and early == []
