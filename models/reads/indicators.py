"""Indicator series and their cited values, conflicts included."""

from __future__ import annotations

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from models.store.db import select_row
from models.store.tables import (
    Indicator,
    IndicatorValue,
    Source,
)


def indicator_catalog(session: Session) -> list[dict]:
    rows = session.exec(
        select_row(
            Indicator.key,
            Indicator.name,
            Indicator.unit,
            Indicator.country,
            Indicator.category,
            func.count(col(IndicatorValue.id)),
            func.count(col(IndicatorValue.conflict_note)),
        )
        .join(IndicatorValue, col(IndicatorValue.indicator_id) == Indicator.id, isouter=True)
        .group_by(Indicator.key, Indicator.name, Indicator.unit, Indicator.country, Indicator.category)
        .order_by(Indicator.category, Indicator.name)
    ).all()
    return [
        {"key": k, "name": n, "unit": u, "country": c, "category": cat, "values": nv, "conflict_notes": nc}
        for k, n, u, c, cat, nv, nc in rows
    ]


def indicator_values(session: Session, keys: tuple[str, ...] | list[str]) -> list[dict]:
    """Every cited value of the given indicators, each flagged when it conflicts with another
    value for the same indicator, period and country (or carries a conflict note)."""
    groups = (
        select(
            IndicatorValue.indicator_id,
            IndicatorValue.period,
            IndicatorValue.country,
            func.count().label("n"),
        )
        .group_by(col(IndicatorValue.indicator_id), IndicatorValue.period, IndicatorValue.country)
        .subquery()
    )
    rows = session.exec(
        select_row(
            Indicator.key,
            Indicator.name,
            Indicator.unit,
            IndicatorValue.period,
            IndicatorValue.year,
            IndicatorValue.value,
            IndicatorValue.country,
            Source.short,
            IndicatorValue.section,
            IndicatorValue.line_start,
            IndicatorValue.line_end,
            IndicatorValue.note,
            IndicatorValue.conflict_note,
            groups.c.n,
        )
        .join(IndicatorValue, col(IndicatorValue.indicator_id) == Indicator.id)
        .join(Source, col(Source.id) == IndicatorValue.source_id)
        .join(
            groups,
            and_(
                groups.c.indicator_id == IndicatorValue.indicator_id,
                groups.c.period == IndicatorValue.period,
                groups.c.country == IndicatorValue.country,
            ),
        )
        .where(col(Indicator.key).in_(list(keys)))
        .order_by(Indicator.key, col(IndicatorValue.year), IndicatorValue.period, col(IndicatorValue.id))
    ).all()
    out = []
    for k, name, unit, period, year, value, country, short, section, ls, le, note, cnote, n in rows:
        out.append(
            {
                "indicator": k,
                "name": name,
                "unit": unit,
                "period": period,
                "year": year,
                "value": value,
                "country": country,
                "source": short,
                "section": section,
                "lines": f"{ls}-{le}",
                "note": note or "",
                "conflict_note": cnote or "",
                "conflict": bool(n > 1 or cnote),
            }
        )
    return out
