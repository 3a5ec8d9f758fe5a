"""What a large handover costs: one office owning N open records (each with a few events) handed
to a successor in one batch, then the handover report built for the batch.

    .venv/bin/python benchmarks/handover.py --records 1000 --backends sqlite postgresql

Prints the seconds for the batch (one transaction, one event per record) and for the report (the
reads and the HTML). PostgreSQL is 127.0.0.1:5432 as postgres, or ``RECTRACK_BENCH_PG``; its
database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel, select

import models.rules  # noqa: F401  (registers the fan-out)
from models.rules.handover import hand_over
from models.rules.recommendations import create_recommendation
from models.rules.users import add_user, operator_user
from models.store.db import make_engine, write_session
from models.store.schemas import RecommendationCreate, UserCreate
from models.store.tables import User
from models.workflow.handover_report import handover_html

PG = os.environ.get("RECTRACK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OFFICE = "Bench Office"


def build(engine, n: int) -> None:
    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        op = operator_user(s)
        for name, role in (("bench-adm", "admin"), ("bench-old", "editor"), ("bench-new", "editor")):
            add_user(s, data=UserCreate(username=name, role=role, office=OFFICE), actor=op)
    with write_session(engine) as s:
        old = s.exec(select(User).where(User.username == "bench-old")).one()
        for i in range(n):
            create_recommendation(
                s,
                data=RecommendationCreate(
                    key=f"bench-{i:05d}",
                    title=f"Recommendation {i}",
                    summary="s",
                    theme="counter_drug",
                    who_must_act="us",
                    owner=OFFICE,
                ),
                actor=old,
                reason="bench setup",
            )


def run(engine, label: str) -> None:
    t = time.perf_counter()
    with write_session(engine) as s:
        adm = s.exec(select(User).where(User.username == "bench-adm")).one()
        result = hand_over(s, to_user="bench-new", reason="bench handover", actor=adm, office=OFFICE)
    batch = time.perf_counter() - t
    t = time.perf_counter()
    page = handover_html(engine, first_seq=result.first_seq)
    report = time.perf_counter() - t
    print(
        f"{label}: {result.moved} records handed over in {batch:.2f} s; "
        f"report {len(page) / 1e6:.1f} MB in {report:.2f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--backends", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"])
    args = ap.parse_args()
    for backend in args.backends:
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as d:
                engine = make_engine(f"sqlite:///{d}/bench.db")
                build(engine, args.records)
                run(engine, "sqlite")
                engine.dispose()
        else:
            name = f"rectrack_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(PG, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                engine = make_engine(PG.rsplit("/", 1)[0] + f"/{name}")
                build(engine, args.records)
                run(engine, "postgresql")
                engine.dispose()
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
