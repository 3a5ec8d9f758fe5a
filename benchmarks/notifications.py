"""What the notification fan-out adds to a save: 200 ``update_recommendation`` calls, each in its own
write transaction, with the hook off, on with nobody to tell, and on with 50 watchers plus 20
members of the owner office (among 1,000 users holding 5,000 watches of other records).

    .venv/bin/python benchmarks/notifications.py --backends sqlite postgresql --rounds 3

Each round times the three cases in turn; the medians of the rounds are printed (the machine is
shared, so single runs wander). PostgreSQL is 127.0.0.1:5432 as postgres, or
``RECTRACK_BENCH_PG``; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel, select

import models.rules  # noqa: F401  (registers the fan-out)
from models.rules.notifications import fan_out
from models.rules.recommendations import create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.store.db import make_engine, write_session
from models.store.schemas import RecommendationCreate, RecommendationUpdate
from models.store.tables import Recommendation, User, Watch
from models.trail import chain

PG = os.environ.get("RECTRACK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def build(engine) -> None:
    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        ed = User(username="bench-ed", role="editor")
        users = [
            User(username=f"u{i}", role="viewer", office="OSD Policy" if i < 20 else f"Office {i % 50}")
            for i in range(1000)
        ]
        s.add_all([ed, *users])
        s.flush()
        for k in range(100):
            data = RecommendationCreate(
                key=f"r{k}", title="t", summary="s", theme="counter_drug", who_must_act="us", owner="J5"
            )
            create_recommendation(s, data=data, actor=ed, reason="setup")
        watches = {(u.id, f"r{1 + (i * 7 + j) % 99}") for i, u in enumerate(users) for j in range(5)}
        s.add_all([Watch(user_id=uid, kind="recommendation", target=t) for uid, t in watches])


def updates(engine, n: int = 200) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        with write_session(engine) as s:
            ed = s.exec(select(User).where(User.username == "bench-ed")).one()
            r = get_recommendation(s, "r0")
            change = RecommendationUpdate(
                expected_version=r.version, reason="b", progress=(r.progress + 1) % 100
            )
            update_recommendation(s, key="r0", change=change, actor=ed)
    return time.perf_counter() - t0


def set_r0(engine, owner: str, watchers: bool) -> None:
    with write_session(engine) as s:
        rec = s.exec(select(Recommendation).where(Recommendation.key == "r0")).one()
        rec.owner = owner
        s.add(rec)
        for w in s.exec(select(Watch).where(Watch.target == "r0")).all():
            s.delete(w)
        if watchers:
            ids = s.exec(select(User.id).where(User.username.in_([f"u{i}" for i in range(100, 150)]))).all()
            s.add_all([Watch(user_id=i, kind="recommendation", target="r0") for i in ids])


def measure(engine, rounds: int) -> dict[str, float]:
    out: dict[str, list[float]] = {"hook off": [], "nobody to tell": [], "50 watchers + 20 office": []}
    for _ in range(rounds):
        set_r0(engine, "J5", watchers=False)
        chain.AFTER_APPEND.remove(fan_out)
        try:
            out["hook off"].append(updates(engine))
        finally:
            chain.AFTER_APPEND.append(fan_out)
        out["nobody to tell"].append(updates(engine))
        set_r0(engine, "OSD Policy", watchers=True)
        out["50 watchers + 20 office"].append(updates(engine))
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for backend in args.backends:
        admin, name = None, None
        if backend == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp()}/bench-notify.db"
        else:
            admin = create_engine(PG, isolation_level="AUTOCOMMIT")
            name = f"rectrack_bench_notify_{uuid.uuid4().hex[:8]}"
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = PG.rsplit("/", 1)[0] + f"/{name}"
        engine = make_engine(url)
        try:
            build(engine)
            for label, seconds in measure(engine, args.rounds).items():
                print(
                    f"{backend:10} {label:24} 200 updates in {seconds:.2f} s ({seconds / 200 * 1000:.1f} ms each)"
                )
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
