"""Benchmarks for issue 7: is the tracker fast and whole at 50,000 recommendations and 1,000,000
audit events on a 2-core machine?

For each backend (SQLite, PostgreSQL) and size it builds a synthetic store with ``models.catalog.synthetic``
(``--events-per-rec`` events per recommendation, one evidence file per ten) and measures:

* the overview page: a full Streamlit AppTest script run of dashboard/app.py (the overview is the
  default page), cold (caches cleared) and warm, against the raw SQL its figures need, run in
  the same process; also the page "as of" a past date, and the query functions on their own;
* a status update through the one write path (update_recommendation in write_session): p50/p95;
* exports of the whole trail (csv, bundle) and ``verify_store``, each in a child process that
  reports its own peak RSS;
* seeding the real catalog and importing a 5,000-row CSV, once per backend.

Results go to benchmarks/results.json and the table in benchmarks/README.md. Timing is wall
clock; CPU seconds of this process and the 1-minute load average are recorded beside each
figure, because other people run tests on the same machine.

    .venv/bin/python benchmarks/run.py                       # 1k, 10k, 50k on both backends
    .venv/bin/python benchmarks/run.py --quick               # 1k and 10k
    .venv/bin/python benchmarks/run.py --sizes 50000 --backends postgresql
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
README = HERE / "README.md"
APP = ROOT / "dashboard" / "app.py"
OPEN = ("proposed", "under_review", "accepted", "in_progress", "on_hold")
PG_ADMIN = os.environ.get("RECTRACK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def load() -> float:
    return round(os.getloadavg()[0], 2)


def log(msg: str) -> None:
    print(f"[{datetime.now():%H:%M:%S} load {load():.1f}] {msg}", file=sys.stderr, flush=True)


def point_settings(url: str, data_dir: Path) -> None:
    from models.store.settings import get_settings

    os.environ["DATABASE_URL"] = url
    os.environ["RECTRACK_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()


# ---------------------------------------------------------------- stores


def fresh_store(backend: str, name: str, workdir: Path) -> tuple[str, Path]:
    """A new, empty database and data dir for one measurement."""
    data_dir = workdir / name / "data"
    shutil.rmtree(workdir / name, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if backend == "sqlite":
        return f"sqlite:///{workdir / name / 'store.db'}", data_dir
    from sqlalchemy import create_engine, text

    db = f"rectrack_bench_{name}".replace("-", "_")
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(
            text(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' "
                "AND pid <> pg_backend_pid()"
            )
        )
        c.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        c.execute(text(f'CREATE DATABASE "{db}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{db}", data_dir


def drop_store(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    db = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(
            text(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' "
                "AND pid <> pg_backend_pid()"
            )
        )
        c.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
    admin.dispose()


# ---------------------------------------------------------------- the index proposed for models/tables.py

PROPOSED_INDEX = (
    "CREATE INDEX ix_auditevent_record_cover ON auditevent "
    "(record_type, record_key, seq, effective_at, status_after)"
)


def add_proposed_index(url: str) -> None:
    """Measure the covering index proposed in README.md (not yet in the schema: --extra-index)."""
    from models.store.db import make_engine

    engine = make_engine(url)
    with engine.connect() as c:
        raw = c.connection.driver_connection
        if engine.dialect.name == "sqlite":
            raw.execute(PROPOSED_INDEX)
            raw.execute("ANALYZE")
        else:
            c.rollback()
            raw.autocommit = True
            raw.execute(PROPOSED_INDEX)
            raw.execute("VACUUM ANALYZE auditevent")
            raw.autocommit = False
    engine.dispose()


# ---------------------------------------------------------------- overview


def raw_overview_sql(pg: bool, scan: bool = False) -> list[str]:
    """The SQL the overview's figures need, written by hand: the floor the page is compared with.

    ``scan``: on SQLite without a covering index, filter on ``record_type || ''`` so SQLite scans
    the trail instead of probing ix_auditevent_record for nearly every row (2-4x faster)."""
    year = "extract(year from effective_at)" if pg else "strftime('%Y', effective_at)"
    rt = "(record_type || '')" if scan else "record_type"  # the stale count: the covering index serves it
    flow_rt = "record_type" if pg else "(record_type || '')"  # no index covers status_before: always scan
    p = (lambda n: f"%({n})s") if pg else (lambda n: f":{n}")
    open_list = "(" + ", ".join(f"'{s}'" for s in OPEN) + ")"
    return [
        "SELECT status, count(*) FROM recommendation GROUP BY status",
        f"SELECT count(*) FROM recommendation WHERE status IN {open_list} AND target_date IS NOT NULL "
        f"AND target_date < {p('today')}",
        f"SELECT count(*) FROM recommendation r JOIN (SELECT record_key, max(effective_at) AS last_at FROM auditevent "
        f"WHERE {rt} = 'recommendation' GROUP BY record_key) l ON l.record_key = r.key "
        f"WHERE r.status IN {open_list} AND l.last_at < {p('cut')}",
        f"SELECT {year}, status_before, status_after, count(*) FROM auditevent WHERE {flow_rt} = 'recommendation' "
        "AND status_before IS DISTINCT FROM status_after GROUP BY 1, 2, 3"
        if pg
        else f"SELECT {year}, status_before, status_after, count(*) FROM auditevent WHERE {flow_rt} = 'recommendation' "
        "AND status_before IS NOT status_after GROUP BY 1, 2, 3",
        "SELECT theme, status, count(*) FROM recommendation GROUP BY theme, status",
        "SELECT owner, status, count(*) FROM recommendation GROUP BY owner, status",
        f"SELECT o.key, o.title, o.category, count(*) FROM obstacle o JOIN recommendationobstacle ro "
        f"ON ro.obstacle_id = o.id JOIN recommendation r ON r.id = ro.recommendation_id WHERE r.status IN {open_list} "
        "GROUP BY o.key, o.title, o.category ORDER BY 4 DESC, o.key LIMIT 15",
    ]


def time_raw_sql(url: str, repeats: int = 3, proposed_index: bool = False) -> dict:
    from models.store.db import make_engine

    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    now = datetime.now(UTC)
    cut = now - timedelta(days=90)
    params = (
        {"today": now.date(), "cut": cut}
        if pg
        else {"today": now.date().isoformat(), "cut": cut.strftime("%Y-%m-%d %H:%M:%S.%f")}
    )
    statements = raw_overview_sql(pg, scan=not pg and not proposed_index)
    times = []
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        for _ in range(repeats + 1):  # the first run warms the page cache, as the page's own first query does
            t0 = time.perf_counter()
            cur = raw.cursor()
            for sql in statements:
                cur.execute(sql, params if ("today" in sql or "cut" in sql) else ())
                cur.fetchall()
            cur.close()
            times.append(time.perf_counter() - t0)
        conn.rollback()
    engine.dispose()
    return {"seconds": statistics.median(times[1:]), "runs": times[1:]}


def time_overview_queries(url: str, repeats: int = 3) -> dict:
    """The models.overview functions the page calls, without Streamlit."""
    from models.reads import figures as overview
    from models.store.db import make_engine, read_session

    engine = make_engine(url)
    per: dict[str, list[float]] = {}
    for _ in range(repeats):
        with read_session(engine) as s:
            for name, call in (
                ("summary", lambda: overview.summary(s, None, stale_after_days=90)),
                ("status_over_time", lambda: overview.status_over_time(s, None)),
                ("status_breakdown theme", lambda: overview.status_breakdown(s, "theme", None)),
                ("status_breakdown owner", lambda: overview.status_breakdown(s, "owner", None)),
                ("blocking_obstacles", lambda: overview.blocking_obstacles(s, None, limit=15)),
            ):
                t0 = time.perf_counter()
                call()
                per.setdefault(name, []).append(time.perf_counter() - t0)
    engine.dispose()
    out = {k: statistics.median(v) for k, v in per.items()}
    out["total"] = sum(out.values())
    return out


def time_overview_page(url: str, data_dir: Path, repeats: int = 3, as_of: date | None = None) -> dict:
    """Full script runs of the dashboard with the overview page (its default page)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    point_settings(url, data_dir)
    cold, warm, problems = [], [], []
    for i in range(repeats):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.session_state["username"] = "syn-admin"
        if as_of is None:
            t0 = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - t0)
        else:
            at.run()
            st.cache_data.clear()
            t0 = time.perf_counter()
            try:
                at.date_input(key="as_of").set_value(as_of).run()
            except KeyError:
                problems.append("no 'as_of' date input on the page")
            cold.append(time.perf_counter() - t0)
        found = [str(e.value)[:300] for e in at.exception] + [str(e.value)[:300] for e in at.error]
        titles = [t.value for t in at.title]
        if titles[:1] != ["Overview"]:
            found.append(f"expected the Overview page, got titles {titles[:3]}")
        if found:
            log(f"  overview page run {i + 1} did not render cleanly: {found[:3]}")
            problems += found
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    st.cache_data.clear()
    st.cache_resource.clear()
    return {
        "cold_seconds": statistics.median(cold),
        "cold_runs": cold,
        "warm_seconds": statistics.median(warm),
        "warm_runs": warm,
        "problems": problems[:5],
    }


# ---------------------------------------------------------------- updates


def time_updates(url: str, n: int, seed: int = 3) -> dict:
    """n status updates (or progress updates where no open move exists) through the one write path."""
    from sqlmodel import select

    from models.rules import lifecycle
    from models.rules.recommendations import update_recommendation
    from models.rules.records import get_recommendation
    from models.store.db import make_engine, write_session
    from models.store.schemas import RecommendationUpdate
    from models.store.tables import ClosureProposal, Recommendation, User

    rng = random.Random(seed)
    engine = make_engine(url)
    with engine.connect() as c:
        keys = [
            k
            for (k,) in c.execute(
                select(Recommendation.key)
                .where(Recommendation.status.in_(OPEN))
                .where(
                    Recommendation.id.not_in(
                        select(ClosureProposal.recommendation_id).where(ClosureProposal.state == "pending")
                    )
                )
            )
        ]
    times, statuses = [], 0
    cpu0 = time.process_time()
    for _i in range(n):
        key = rng.choice(keys)
        t0 = time.perf_counter()
        with write_session(engine) as s:
            actor = s.exec(select(User).where(User.username == "syn-editor-01")).one()
            rec = get_recommendation(s, key)
            moves = [m for m in lifecycle.allowed_next(rec.status) if m not in lifecycle.CLOSED]
            if moves:
                change = RecommendationUpdate(
                    expected_version=rec.version, status=rng.choice(moves), reason="benchmark status update"
                )
                statuses += 1
            else:
                change = RecommendationUpdate(
                    expected_version=rec.version,
                    progress=(rec.progress + 7) % 101,
                    reason="benchmark progress update",
                )
            update_recommendation(s, key=key, change=change, actor=actor)
        times.append((time.perf_counter() - t0) * 1000)
    cpu = time.process_time() - cpu0
    engine.dispose()
    times.sort()
    q = statistics.quantiles(times, n=100)
    return {
        "updates": n,
        "status_changes": statuses,
        "p50_ms": statistics.median(times),
        "p95_ms": q[94],
        "p99_ms": q[98],
        "max_ms": times[-1],
        "cpu_ms_per_update": cpu * 1000 / n,
    }


# ---------------------------------------------------------------- child processes (peak memory)


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: on Linux that keeps the high-water
    mark of the parent this child was forked from, which here is a Streamlit-sized process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(args) -> None:
    """Run one export or verification and print its figures as JSON (with this process's peak RSS)."""
    point_settings(args.url, Path(args.data_dir))
    from models.store.db import make_engine, read_session

    engine = make_engine(args.url)
    rss_start = peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    if args.child == "verify":
        from models.trail.verify import verify_store

        with read_session(engine) as s:
            report = verify_store(s)
        out = {
            "ok": report.ok,
            "events": report.events_checked,
            "files": report.files_checked,
            "problems": report.lines()[:3],
        }
    else:
        from models.rules.users import get_user
        from models.trail.export_formats import Scope
        from models.trail.exports import export

        with read_session(engine) as s:
            actor = get_user(s, "syn-auditor")
        result = export(engine, fmt=args.fmt, scope=Scope(), actor=actor, out_path=Path(args.out))
        out = {"ok": True, "events": result.events, "bytes": Path(args.out).stat().st_size}
    out["seconds"] = time.perf_counter() - t0
    out["cpu_seconds"] = time.process_time() - c0
    out["peak_rss_mb"] = peak_rss_mb()
    out["rss_after_imports_mb"] = rss_start
    print(json.dumps(out))


def run_child(kind: str, url: str, data_dir: Path, fmt: str | None = None, out: Path | None = None) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--url",
        url,
        "--data-dir",
        str(data_dir),
    ]
    if fmt:
        cmd += ["--fmt", fmt, "--out", str(out)]
    l0 = load()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"{kind} child failed: {proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res["events_per_second"] = res["events"] / res["seconds"] if res["seconds"] else None
    res["load_before"], res["load_after"] = l0, load()
    if out is not None and out.exists():
        out.unlink()
    return res


# ---------------------------------------------------------------- seeding and importing


def time_seed_and_import(backend: str, workdir: Path, import_rows: int) -> dict:
    from sqlalchemy import func, select

    from models.catalog.checks import load_catalog
    from models.catalog.loader import seed_catalog
    from models.rules.users import operator_user
    from models.store.db import make_engine, write_session
    from models.store.settings import get_settings
    from models.store.tables import AuditEvent, User
    from models.store.upgrade import upgrade
    from models.workflow.csv_import import import_recommendations, parse_recommendations_csv

    out = {}
    url, data_dir = fresh_store(backend, f"{backend}-seed", workdir)
    point_settings(url, data_dir)
    upgrade(url)
    engine = make_engine(url)
    catalog = load_catalog(get_settings().seeds_dir)
    t0 = time.perf_counter()
    with write_session(engine) as s:
        report = seed_catalog(s, catalog=catalog, actor=operator_user(s))
    secs = time.perf_counter() - t0
    with engine.connect() as c:
        events = c.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    rows = sum(report.added.values())
    out["seed"] = {
        "seconds": secs,
        "records": rows,
        "records_per_second": rows / secs,
        "audit_events": events,
        "added": dict(report.added),
    }
    engine.dispose()
    drop_store(url)

    url, data_dir = fresh_store(backend, f"{backend}-import", workdir)
    point_settings(url, data_dir)
    upgrade(url)
    engine = make_engine(url)
    with write_session(engine) as s:
        s.add(User(username="importer", role="editor"))
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        [
            "key",
            "title",
            "summary",
            "theme",
            "who_must_act",
            "owner",
            "kind",
            "confidence",
            "target_date",
            "progress",
        ]
    )
    themes = ["counter_drug", "education_training", "bilateral_mechanisms", "assessment"]
    for i in range(1, import_rows + 1):
        w.writerow(
            [
                f"imp-{i:06d}",
                f"Imported benchmark recommendation {i}",
                "A benchmark row imported from CSV.",
                themes[i % 4],
                "us",
                f"Office {i % 30}",
                "explicit",
                "medium",
                (date(2030, 1, 1) - timedelta(days=i % 900)).isoformat(),
                i % 100,
            ]
        )
    data = buf.getvalue().encode()
    t0 = time.perf_counter()
    parsed = parse_recommendations_csv(data)
    t1 = time.perf_counter()
    with write_session(engine) as s:
        created = import_recommendations(s, rows=parsed, actor=_user(s, "importer"), filename="bench.csv")
    t2 = time.perf_counter()
    out["import"] = {
        "rows": len(created),
        "bytes": len(data),
        "parse_seconds": t1 - t0,
        "write_seconds": t2 - t1,
        "seconds": t2 - t0,
        "rows_per_second": len(created) / (t2 - t0),
    }
    engine.dispose()
    drop_store(url)
    for name in ("seed", "import"):
        shutil.rmtree(workdir / f"{backend}-{name}", ignore_errors=True)
    return out


def _user(session, name):
    from models.rules.users import get_user

    return get_user(session, name)


# ---------------------------------------------------------------- one size on one backend


def bench_one(backend: str, size: int, args, workdir: Path) -> dict:
    from models.catalog.synthetic import generate

    events = size * args.events_per_rec
    evidence = max(10, size // 10)
    res: dict = {"backend": backend, "recommendations": size, "events": events, "evidence": evidence}
    url, data_dir = fresh_store(backend, f"{backend}-{size}", workdir)
    log(f"{backend} {size:,}: generating {events:,} events")
    l0 = load()
    t0 = time.perf_counter()
    report = generate(url, recommendations=size, events=events, evidence=evidence, seed=7, data_dir=data_dir)
    res["generate"] = {
        "seconds": time.perf_counter() - t0,
        "events_per_second": events / (time.perf_counter() - t0),
        "by_status": report.by_status,
        "load_before": l0,
        "load_after": load(),
    }
    log(f"  generated in {res['generate']['seconds']:.1f} s")
    if args.extra_index:
        add_proposed_index(url)
        res["proposed_index"] = PROPOSED_INDEX
        log("  added the proposed covering index")

    point_settings(url, data_dir)
    l0 = load()
    res["overview_raw_sql"] = time_raw_sql(url, proposed_index=args.extra_index)
    res["overview_queries"] = time_overview_queries(url)
    res["overview_page"] = time_overview_page(url, data_dir, repeats=args.repeats)
    res["overview_page"]["load_before"], res["overview_page"]["load_after"] = l0, load()
    res["overview_ratio"] = res["overview_page"]["cold_seconds"] / res["overview_raw_sql"]["seconds"]
    res["overview_queries_ratio"] = res["overview_queries"]["total"] / res["overview_raw_sql"]["seconds"]
    log(
        f"  overview page {res['overview_page']['cold_seconds']:.2f} s cold, {res['overview_page']['warm_seconds']:.3f} s warm;"
        f" raw SQL {res['overview_raw_sql']['seconds']:.3f} s; queries {res['overview_queries']['total']:.3f} s"
    )
    if not args.skip_as_of:
        res["overview_page_as_of"] = time_overview_page(url, data_dir, repeats=1, as_of=date(2018, 6, 30))
        log(f"  overview page as of 2018-06-30: {res['overview_page_as_of']['cold_seconds']:.2f} s")

    if args.overview_only:
        if not args.keep:
            drop_store(url)
            shutil.rmtree(workdir / f"{backend}-{size}", ignore_errors=True)
        return res
    res["verify"] = run_child("verify", url, data_dir)
    log(
        f"  verify {res['verify']['events_per_second']:,.0f} events/s ({res['verify']['seconds']:.1f} s, "
        f"{res['verify']['peak_rss_mb']:.0f} MB)"
    )
    for fmt, suffix in (("csv", "csv"), ("bundle", "zip")):
        res[f"export_{fmt}"] = run_child("export", url, data_dir, fmt=fmt, out=workdir / f"export.{suffix}")
        r = res[f"export_{fmt}"]
        log(
            f"  export {fmt}: {r['events_per_second']:,.0f} events/s ({r['seconds']:.1f} s, peak {r['peak_rss_mb']:.0f} MB)"
        )
    res["update"] = time_updates(url, args.updates)
    log(f"  update p50 {res['update']['p50_ms']:.1f} ms, p95 {res['update']['p95_ms']:.1f} ms")
    if not args.keep:
        drop_store(url)
        shutil.rmtree(workdir / f"{backend}-{size}", ignore_errors=True)
    return res


# ---------------------------------------------------------------- report


def fmt_rate(x) -> str:
    return "–" if x is None else f"{x / 1000:,.0f}k"


def table(results: dict) -> str:
    lines = [
        "| backend | recs / events | generate | overview page (cold) | raw SQL | page / SQL | page warm | page as of 2018 "
        "| update p50 / p95 | export csv | export bundle | verify | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        if "verify" not in r:
            continue
        ov, raw = r["overview_page"], r["overview_raw_sql"]
        ec, eb, v, u = r["export_csv"], r["export_bundle"], r["verify"], r["update"]
        as_of = r.get("overview_page_as_of", {}).get("cold_seconds")
        loads = [r["generate"]["load_before"], ov["load_before"], v["load_before"], eb["load_after"]]
        backend = r["backend"] + (" + proposed index" if r.get("proposed_index") else "")
        lines.append(
            f"| {backend} | {r['recommendations']:,} / {r['events']:,} | {r['generate']['seconds']:.0f} s "
            f"| {ov['cold_seconds']:.2f} s | {raw['seconds']:.3f} s | {r['overview_ratio']:.1f}x | {ov['warm_seconds']:.3f} s "
            f"| {'–' if as_of is None else f'{as_of:.2f} s'} | {u['p50_ms']:.1f} / {u['p95_ms']:.1f} ms "
            f"| {fmt_rate(ec['events_per_second'])}/s, {ec['peak_rss_mb']:.0f} MB "
            f"| {fmt_rate(eb['events_per_second'])}/s, {eb['peak_rss_mb']:.0f} MB "
            f"| {fmt_rate(v['events_per_second'])}/s | {min(loads):.1f}–{max(loads):.1f} |"
        )
    if results.get("seed_import"):
        lines += ["", "| backend | seed the catalog | import a 5,000-row CSV |", "|---|---|---|"]
        for backend, si in results["seed_import"].items():
            s, i = si["seed"], si["import"]
            lines.append(
                f"| {backend} | {s['records']:,} records + {s['audit_events']:,} events in {s['seconds']:.2f} s "
                f"({s['records_per_second']:,.0f} records/s) | {i['rows']:,} rows in {i['seconds']:.2f} s "
                f"({i['rows_per_second']:,.0f} rows/s; parse {i['parse_seconds']:.2f} s, write {i['write_seconds']:.2f} s) |"
            )
    return "\n".join(lines)


def index_table(results: dict) -> str:
    lines = [
        "| backend | recs / events | overview page (cold) | raw SQL | page / SQL | page warm | page as of 2018 | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        ov, raw = r["overview_page"], r["overview_raw_sql"]
        as_of = r.get("overview_page_as_of", {}).get("cold_seconds")
        lines.append(
            f"| {r['backend']} + proposed index | {r['recommendations']:,} / {r['events']:,} | {ov['cold_seconds']:.2f} s "
            f"| {raw['seconds']:.3f} s | {r['overview_ratio']:.1f}x | {ov['warm_seconds']:.3f} s "
            f"| {'–' if as_of is None else f'{as_of:.2f} s'} | {ov['load_before']:.1f}–{ov['load_after']:.1f} |"
        )
    return "\n".join(lines)


def verdicts(results: dict) -> str:
    """Each target at the largest size measured, met or missed and by how much."""
    t = results["targets"]
    biggest = max(r["recommendations"] for r in results["runs"] if "verify" in r)
    rows = ["| target | backend | measured | verdict |", "|---|---|---|---|"]

    def add(name, backend, value, unit, goal, higher_is_better):
        ok = value >= goal if higher_is_better else value <= goal
        factor = (goal / value) if higher_is_better else (value / goal)
        if ok:
            verdict = "met"
        elif factor < 1.5:
            verdict = f"missed by {abs(1 - value / goal):.0%}"
        else:
            verdict = f"missed: {factor:.1f}x {'short' if higher_is_better else 'over'}"
        rows.append(f"| {name} | {backend} | {value:,.{0 if value >= 100 else 2}f} {unit} | {verdict} |")

    for r in results["runs"]:
        if r["recommendations"] != biggest or "verify" not in r:
            continue
        b = r["backend"]
        add(
            "overview page cold < 1 s",
            b,
            r["overview_page"]["cold_seconds"],
            "s",
            t["overview_seconds"],
            False,
        )
        add("overview within 1.5x of raw SQL", b, r["overview_ratio"], "x", t["overview_ratio"], False)
        add("update p95 < 50 ms", b, r["update"]["p95_ms"], "ms", t["update_p95_ms"], False)
        for fmt in ("csv", "bundle"):
            e = r[f"export_{fmt}"]
            add(
                f"export {fmt} >= 100k events/s",
                b,
                e["events_per_second"],
                "events/s",
                t["export_events_per_second"],
                True,
            )
            add(f"export {fmt} peak < 300 MB", b, e["peak_rss_mb"], "MB", t["export_peak_mb"], False)
        add(
            "verify >= 200k events/s",
            b,
            r["verify"]["events_per_second"],
            "events/s",
            t["verify_events_per_second"],
            True,
        )
    return "\n".join(rows)


def _replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def write_readme_table(results: dict) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    m = results["machine"]
    stamp = (
        f"Measured {results['finished'][:16]} UTC on {m['cpus']} cores, Python {m['python']}, "
        f"command: `{results['command']}` (total {results['total_seconds'] / 60:.0f} min)."
    )
    text = _replace_section(text, "results", f"{stamp}\n\n{table(results)}")
    text = _replace_section(text, "verdicts", verdicts(results))
    proposed = HERE / "results_proposed_index.json"
    if proposed.exists():
        p = json.loads(proposed.read_text())
        text = _replace_section(
            text,
            "proposed-index",
            f"Measured {p['finished'][:16]} UTC, command: `{p['command']}`.\n\n{index_table(p)}",
        )
    README.write_text(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,50000", help="recommendation counts, comma-separated")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--quick", action="store_true", help="sizes 1,000 and 10,000 only")
    ap.add_argument("--events-per-rec", type=int, default=20)
    ap.add_argument("--updates", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3, help="cold overview page runs per store")
    ap.add_argument("--import-rows", type=int, default=5000)
    ap.add_argument("--skip-seed-import", action="store_true")
    ap.add_argument("--skip-as-of", action="store_true")
    ap.add_argument("--overview-only", action="store_true", help="generate and measure the overview only")
    ap.add_argument(
        "--extra-index",
        action="store_true",
        help="add the covering index proposed for the audit trail before measuring",
    )
    ap.add_argument("--workdir", default="/tmp/rectrack-bench")
    ap.add_argument("--keep", action="store_true", help="keep the generated stores")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--no-readme", action="store_true")
    ap.add_argument(
        "--readme-only", action="store_true", help="rewrite README.md's tables from the saved results"
    )
    ap.add_argument("--child", choices=["verify", "export"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", help=argparse.SUPPRESS)
    ap.add_argument("--fmt", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.readme_only:
        return write_readme_table(json.loads(Path(args.out).read_text()))

    sizes = [1000, 10000] if args.quick else [int(x) for x in args.sizes.split(",") if x]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results = {
        "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
        "started": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_at_start": os.getloadavg(),
        },
        "targets": {
            "overview_seconds": 1.0,
            "overview_ratio": 1.5,
            "update_p95_ms": 50,
            "export_events_per_second": 100_000,
            "export_peak_mb": 300,
            "verify_events_per_second": 200_000,
        },
        "runs": [],
        "seed_import": {},
    }
    if not args.skip_seed_import:
        for backend in backends:
            log(f"{backend}: seeding the catalog and importing {args.import_rows:,} rows")
            results["seed_import"][backend] = time_seed_and_import(backend, workdir, args.import_rows)
    for size in sizes:
        for backend in backends:
            results["runs"].append(bench_one(backend, size, args, workdir))
            results["total_seconds"] = time.perf_counter() - started
            results["finished"] = datetime.now(UTC).isoformat()
            Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    results["total_seconds"] = time.perf_counter() - started
    results["finished"] = datetime.now(UTC).isoformat()
    results["machine"]["load_at_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))
    if not args.no_readme:
        write_readme_table(results)
    print(table(results))


if __name__ == "__main__":
    main()
