"""Time every dashboard page in Streamlit's AppTest against one store, cold and warm.

Issue 17 measured the Recommendations and Timeline pages at minutes per visit on a
50,000-recommendation / 1,000,000-event store; this script gives the figure for each page, so a
change can be judged before and after on the same store:

    .venv/bin/rectrack demo --database-url sqlite:////tmp/s/demo.db --recommendations 50000 \\
        --events 1000000 --evidence 5000 --data-dir /tmp/s/data
    .venv/bin/python benchmarks/pages.py --database-url sqlite:////tmp/s/demo.db \\
        --data-dir /tmp/s/data --label after

"cold" is the first run of a page in a fresh AppTest with every Streamlit cache cleared (the first
visit after the server starts); "warm" is the next run of the same page in the same session (a
rerun, as after a click). The trail page is also timed with no stored verdict ("cold, no verdict")
and after ``rectrack verify`` stored one. Wall-clock seconds; the 1-minute load average is kept
beside them because other work shares the machine. Results are merged into
``benchmarks/results-pages.json`` under ``--label`` (a run with the same label and store replaces
the earlier one); ``--timeout`` caps a page (a page that takes longer is recorded as ``null`` with
``timed_out``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = Path(__file__).resolve().parent / "results-pages.json"
APP = ROOT / "dashboard" / "app.py"
PAGES = ["overview", "my_items", "recommendations", "update", "obstacles", "indicators", "timeline", "trail"]


def _clear() -> None:
    import streamlit as st

    from models.store.settings import get_settings

    st.cache_data.clear()
    st.cache_resource.clear()
    get_settings.cache_clear()


def time_page(page: str, user: str, timeout: float) -> dict:
    """Seconds for the page's first run (caches cleared) and for a rerun in the same session."""
    from streamlit.testing.v1 import AppTest

    _clear()
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["username"] = user
    at.run()  # the default page (overview) signs the session in; not counted for the other pages
    _clear()
    out: dict = {"page": page, "load_before": round(os.getloadavg()[0], 2)}
    try:
        t = time.perf_counter()
        at.switch_page(f"app_pages/{page}.py").run() if page != "overview" else at.run()
        out["cold"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        at.run()
        out["warm"] = round(time.perf_counter() - t, 3)
    except RuntimeError as e:  # AppTest's timeout
        out.update(cold=out.get("cold"), warm=None, timed_out=str(e)[:200])
    if not out.get("timed_out"):  # what the run drew, so a page that stopped early is seen
        out["errors"] = [str(e.value)[:200] for e in at.exception] + [str(e.value)[:200] for e in at.error]
        out["title"] = at.title[0].value if at.title else None
    if page in ("recommendations", "timeline", "trail") and not out.get("timed_out"):
        out["dataframe_rows"] = [len(df.value) for df in at.get("dataframe")]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--label", required=True, help="e.g. before, after")
    ap.add_argument("--user", default="syn-admin")
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-verify", action="store_true", help="skip the trail page with a stored verdict")
    args = ap.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["RECTRACK_DATA_DIR"] = args.data_dir
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    from sqlalchemy import create_engine, text

    with create_engine(args.database_url).connect() as c:
        size = {
            "recommendations": c.execute(text("select count(*) from recommendation")).scalar(),
            "events": c.execute(text("select count(*) from auditevent")).scalar(),
        }
    run = {
        "label": args.label,
        "commit": commit,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": args.database_url.split("://")[0],
        **size,
        "cpus": os.cpu_count(),
        "pages": [],
    }
    verdicts = Path(args.data_dir) / "verdicts"
    for page in args.pages.split(","):
        if page == "trail" and verdicts.is_dir():  # first without a stored verdict
            for f in verdicts.iterdir():
                f.unlink()
        r = time_page(page, args.user, args.timeout)
        if page == "trail":
            r["page"] = "trail (no stored verdict)"
        run["pages"].append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
        if page == "trail" and not args.no_verify and (ROOT / "models" / "trail" / "verdicts.py").is_file():
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "cli.main", "verify"],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                check=False,
                capture_output=True,
            )
            run["verify_seconds"] = round(time.perf_counter() - t, 2)
            r = time_page(page, args.user, args.timeout)
            r["page"] = "trail (verdict stored by rectrack verify)"
            run["pages"].append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
        save(run)  # after each page, so a run cut short keeps what it measured
    print(json.dumps(run, indent=1, default=str))


def save(run: dict) -> None:
    old = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {"runs": []}
    old["runs"] = [
        x
        for x in old["runs"]
        if not (x["label"] == run["label"] and x["recommendations"] == run["recommendations"])
    ] + [run]
    RESULTS.write_text(json.dumps(old, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
