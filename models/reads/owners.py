"""How many of each office's records have an owner no source names (``owner_inferred``), for the
marks on the owner filter, the by-owner chart and its drill-down: an office's tally is only as
good as the share of it the texts attest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from models.reads.figures import _fields, _statuses
from models.store.tables import Recommendation


def owner_marks(
    session: Session, as_of: datetime | None = None, *, statuses: dict[str, str] | None = None
) -> dict[str, list[int]]:
    """``{office: [inferred, total]}`` over the records that existed then, owned as they stood then."""
    out: dict[str, list[int]] = {}
    if as_of is None:
        rows = session.exec(
            select(Recommendation.owner, Recommendation.owner_inferred, func.count()).group_by(
                Recommendation.owner, col(Recommendation.owner_inferred)
            )
        ).all()
        for owner, is_inferred, n in rows:
            mark = out.setdefault(owner, [0, 0])
            mark[0] += n if is_inferred else 0
            mark[1] += n
        return out
    status_of = _statuses(session, as_of, statuses)
    owners = {k: f["owner"] for k, f in _fields(session, as_of).items() if "owner" in f}
    for key, owner, is_inferred in session.exec(
        select(Recommendation.key, Recommendation.owner, Recommendation.owner_inferred)
    ):
        if key in status_of:
            mark = out.setdefault(owners.get(key, owner), [0, 0])
            mark[0] += 1 if is_inferred else 0
            mark[1] += 1
    return out
