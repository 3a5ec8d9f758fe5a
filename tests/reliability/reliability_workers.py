"""Code that runs in child processes started with ``spawn`` by the reliability tests.

A spawned child imports this module by name (the parent's ``sys.path`` goes with it), so it
holds only plain functions and imports nothing from pytest. Each child opens its own engine
with :func:`models.store.db.make_engine`, as a separate app process or CLI run would.
"""

from __future__ import annotations

import time
import traceback

from sqlmodel import select

import models.store.tables  # noqa: F401  (registers every table)
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.store.db import make_engine, read_session, write_session
from models.store.errors import StaleVersion
from models.store.schemas import RecommendationUpdate
from models.store.tables import User

TOGGLE = {"in_progress": "on_hold", "on_hold": "in_progress"}


def _actor(engine, username: str) -> User:
    with read_session(engine) as s:
        return s.exec(select(User).where(User.username == username)).one()


def concurrent_writer(url: str, worker: int, n_updates: int, keys: list[str], start, results) -> None:
    """Make ``n_updates`` updates to randomly chosen recommendations, as a client would.

    Each update reads the version in one transaction and writes in another, so another
    worker can get in between; a StaleVersion refusal is retried after re-reading. Every
    update sets the owner to a token no other update uses (and every third also toggles
    in_progress <-> on_hold, a move the rules always allow), so the trail shows exactly which
    updates were applied. Reports ``("done", worker, [(key, token), ...], conflicts)``.
    """
    import random

    try:
        engine = make_engine(url)
        actor = _actor(engine, f"w{worker}")
        rng = random.Random(worker)
        applied: list[tuple[str, str]] = []
        conflicts = 0
        results.put(("ready", worker))
        if not start.wait(300):
            raise RuntimeError("the parent never gave the start signal")
        for n in range(n_updates):
            key, token = rng.choice(keys), f"w{worker}-u{n:04d}"
            while True:
                with read_session(engine) as s:
                    rec = get_recommendation(s, key)
                    version, status = rec.version, rec.status
                fields = {"owner": token}
                if n % 3 == 0:
                    fields["status"] = TOGGLE[status]
                if rng.random() < 0.2:
                    time.sleep(0.001)  # widen the read-write gap now and then
                try:
                    with write_session(engine) as s:
                        update_recommendation(
                            s,
                            key=key,
                            actor=actor,
                            change=RecommendationUpdate(
                                expected_version=version, reason=f"reliability {token}", **fields
                            ),
                        )
                except StaleVersion:
                    conflicts += 1
                    continue
                applied.append((key, token))
                break
        engine.dispose()
        results.put(("done", worker, applied, conflicts))
    except BaseException:
        results.put(("error", worker, traceback.format_exc()))


def write_then_hang(url: str, key: str, token: str, ready, errors) -> None:
    """Update ``key`` and append its event inside one write transaction, tell the parent, and
    sleep before the commit: the parent kills this process with SIGKILL meanwhile."""
    try:
        engine = make_engine(url)
        actor = _actor(engine, "ed")
        with read_session(engine) as s:
            version = get_recommendation(s, key).version
        with write_session(engine) as s:
            update_recommendation(
                s,
                key=key,
                actor=actor,
                change=RecommendationUpdate(
                    expected_version=version, owner=token, status="on_hold", reason="about to be killed"
                ),
            )
            s.flush()  # the row change and the event are in the database's transaction now
            ready.set()
            time.sleep(600)
    except BaseException:
        errors.put(traceback.format_exc())
