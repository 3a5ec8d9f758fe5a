"""The catalog's office register (``seeds/offices.yaml``) and the owner each record maps to.

A catalog file may spell an office as the source's context suggests ("USNORTHCOM", "U.S. Northern
Command"); the store keeps one spelling per office so owner filters and tallies do not split. An
owner the register does not know is a catalog error naming the file and the record, not a new office.
"""

from __future__ import annotations

from typing import Any

from models.catalog.schema import OfficeSeed

Catalog = Any  # models.catalog.checks.Catalog (which imports this module)


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def spellings(offices: dict[str, OfficeSeed]) -> dict[str, OfficeSeed]:
    """Every name and alias, folded (case and spacing), to its office."""
    return {_fold(n): o for o in offices.values() for n in (o.name, *o.aliases)}


def office_of(cat: Catalog, owner: str) -> OfficeSeed | None:
    return spellings(cat.offices).get(_fold(owner))


def unknown_owner(cat: Catalog) -> str | None:
    """What is wrong with the first owner the register does not hold (only when there is a register)."""
    import difflib

    if not cat.offices:
        return None
    known = spellings(cat.offices)
    for key, rec in sorted(cat.recommendations.items()):
        if _fold(rec.owner) in known:
            continue
        near = difflib.get_close_matches(rec.owner, sorted(o.name for o in cat.offices.values()), n=3)
        hint = f"; did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        return (
            f"{cat.origin[('recommendations', key)]}: recommendations (key {key!r}) field 'owner': "
            f"{rec.owner!r} is not an office in seeds/offices.yaml{hint} (add it there, with the "
            "spellings it goes by, or use an office's name or alias)"
        )
    return None


def canonical_owner(cat: Catalog, owner: str) -> str:
    office = office_of(cat, owner)
    return office.name if office else owner


def seed_offices(session, cat: Catalog, actor, added) -> None:
    """Add the register's missing offices, then give catalog records still carrying an alias the
    office's name (one audited change each; an owner a person set is never touched), and accounts
    whose office is an alias the office's name, so an editor keeps the records of their office."""
    from sqlmodel import col, select

    from models.rules.offices import add_office
    from models.rules.recommendations import update_recommendation
    from models.store.schemas import RecommendationUpdate
    from models.store.tables import Office, Recommendation

    have = set(session.exec(select(Office.key)).all())
    for key, office in sorted(cat.offices.items()):
        if key not in have:
            add_office(
                session,
                key=key,
                name=office.name,
                actor=actor,
                reason="from the catalog's seeds/offices.yaml",
            )
            added["offices"] += 1
    for key, seed in sorted(cat.recommendations.items()):
        name = canonical_owner(cat, seed.owner)
        rec = session.exec(select(Recommendation).where(Recommendation.key == key)).first()
        if rec is None or rec.owner == name or rec.owner != seed.owner:
            continue
        update_recommendation(
            session,
            key=key,
            actor=actor,
            change=RecommendationUpdate(
                expected_version=rec.version,
                owner=name,
                reason=f"owner spelt as the office register spells it (was {seed.owner!r})"[:4000],
            ),
        )
        added["owners respelt"] += 1
    # an editor scoped to an office by a spelling the register folds away would lose its records
    from models.rules.users import set_office
    from models.store.tables import User

    names = {o.name for o in cat.offices.values()}
    for username, office in session.exec(
        select(User.username, User.office).where(col(User.office).is_not(None))
    ):
        found = office_of(cat, office)
        if found is not None and office not in names:
            set_office(session, username=username, office=found.name, actor=actor)
            added["account offices respelt"] += 1
