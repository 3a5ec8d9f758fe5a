"""The office register: an owner is an office on this list, spelt as the list spells it.

Owners were free text, so one office under two spellings split every tally by owner. Writes that set
an owner (an officer's change, a bulk edit, a CSV import) go through :func:`check_owner`, which takes
the register's spelling and refuses a name the register does not hold, naming the offices that come
close; only an admin adds an office. A store whose register is still empty (no catalog loaded, no
office added) has nothing to check against and keeps the names it is given.
"""

from __future__ import annotations

import difflib
import re

from sqlmodel import Session, select

from models.rules.permissions import require
from models.store.errors import InvalidInput
from models.store.tables import Office, Recommendation, User
from models.trail.chain import append_event

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")


class UnknownOffice(InvalidInput):
    """An owner the register does not hold; ``suggestions`` are the closest registered names."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


def _fold(name: str) -> str:
    return " ".join(name.casefold().split())


def office_names(session: Session) -> list[str]:
    return sorted(session.exec(select(Office.name)).all(), key=str.casefold)


def register(session: Session) -> list[tuple[str, str, int]]:
    """(key, name, recommendations owned) for every office, by name."""
    from sqlalchemy import func

    owned = dict(
        session.exec(select(Recommendation.owner, func.count()).group_by(Recommendation.owner)).all()
    )
    rows = session.exec(select(Office.key, Office.name)).all()
    return [(k, n, owned.get(n, 0)) for k, n in sorted(rows, key=lambda o: o[1].casefold())]


def close_offices(names: list[str], name: str, n: int = 3) -> list[str]:
    """The registered names most like ``name``: spelt alike (difflib), or holding it whole (a part of
    the name typed alone, "Northern Command"), shortest first."""
    by_fold = {_fold(x): x for x in names}
    alike = difflib.get_close_matches(_fold(name), list(by_fold), n=n, cutoff=0.5)
    within = sorted((f for f in by_fold if len(_fold(name)) >= 4 and _fold(name) in f), key=len)
    return [by_fold[m] for m in dict.fromkeys([*alike, *within])][:n]


def owner_checker(session: Session, *, field: str = "owner"):
    """A checker for many owners at once (an import's rows): the register is read once."""
    names = office_names(session)
    by_fold = {_fold(x): x for x in names}

    def check(name: str) -> str:
        if not names:
            return name
        if _fold(name) in by_fold:
            return by_fold[_fold(name)]
        near = close_offices(names, name)
        hint = f"did you mean {', '.join(repr(x) for x in near)}? " if near else ""
        raise UnknownOffice(
            f"{field} {name!r} is not an office in the register; {hint}"
            "pick an office from the list, or ask an admin to add it (rectrack office add)",
            near,
        )

    return check


def check_owner(session: Session, name: str, *, field: str = "owner") -> str:
    """The register's spelling of ``name``; an office it does not hold is refused with the near ones."""
    return owner_checker(session, field=field)(name)


def add_office(session: Session, *, key: str, name: str, actor: User, reason: str) -> Office:
    require(actor, "office.add")
    name = " ".join(name.split())
    if not _KEY.match(key):
        raise InvalidInput(f"office key {key!r}: use lower-case letters, digits and hyphens (2-80)")
    if not name or len(name) > 300:
        raise InvalidInput("office name: give the office's name in one line of at most 300 characters")
    if not reason or not reason.strip():
        raise InvalidInput("reason: say why the office is added, in a sentence")
    if session.exec(select(Office.id).where(Office.key == key)).first():
        raise InvalidInput(f"office key {key!r} is already in the register")
    for registered in office_names(session):
        if _fold(registered) == _fold(name):
            raise InvalidInput(f"office {registered!r} is already in the register")
    office = Office(key=key, name=name, created_by=actor.username)
    session.add(office)
    session.flush()
    append_event(
        session,
        actor=actor.username,
        action="office_add",
        record_type="office",
        record_key=key,
        reason=reason,
        after={"key": key, "name": name},
    )
    return office
