"""A store full of hostile markdown, for the rendering tests (AppTest and Chromium).

Every kind of text a person or a file can put on a page carries the same payload: a markdown
image and link to an "attacker" address, a ``:red[...]`` fake warning, an autolink and a bare
``www.`` address. Titles, summaries, owners, offices, display names, reasons (changes, closures
proposed, returned and accepted), evidence titles, summaries, file names, citation sections, and a
username typed at the sign-in form. :func:`hostile_bundle` writes a bundle whose manifest carries
it too, signed with the server's key so it verifies and the page shows it."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

from sqlmodel import select

from models.rules.auth import AuthError, authenticate, create_user
from models.rules.closure import decide_closure, propose_closure
from models.rules.evidence_files import store_file
from models.rules.offices import add_office
from models.rules.recommendations import attach_evidence, create_recommendation, update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import operator_user
from models.store.db import make_engine, write_session
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate
from models.store.settings import Settings
from models.store.tables import User
from tests.e2e.seeded_store import PASSWORD, build_store

KEY, CLOSED = "rec-hostile", "rec-hostile-closed"
SOURCE = "2009-deare-ndu-strategic-forum-243"


def payload(origin: str, what: str) -> str:
    """Hostile markdown naming ``what`` (so a failure says which field leaked)."""
    return (
        f"{what} ![pixel]({origin}/img/{what}.png) [Verify your account]({origin}/phish/{what}) "
        f":red[ACCOUNT SUSPENDED {what}] <{origin}/auto/{what}> www.phish.example/{what}"
    )


# a file name keeps no "/" or ":", so its links are relative: they would point into the app itself
FILE_NAME = "![pixel](rel-img.png) [Verify your account](rel-phish) report.pdf"
# what only unescaped markdown contains (md_escape puts a backslash before ] ( : < . [)
LEAK = re.compile(r"\]\(http|\]\(rel-|:red\[|(?<!\\)<http|www\.phish")


def build_hostile_store(root: Path, origin: str) -> tuple[str, Path]:
    """A seeded store plus hostile records and accounts; returns (database URL, data dir)."""
    url = build_store(root / "hostile.db", seeded=True, with_passwords=True)
    data_dir = root / "data"
    p = lambda what: payload(origin, what)  # noqa: E731
    engine = make_engine(url)
    with write_session(engine) as s:
        actor = operator_user(s)
        create_user(
            s,
            username="hoffice",
            role="editor",
            password=PASSWORD,
            actor=actor,
            office=p("office"),
            display_name=p("display")[:200],
        )
    with write_session(engine) as s:
        # an admin adds the hostile office to the register, so records can be given to it
        add_office(
            s, key="hostile-office", name=p("office"), actor=operator_user(s), reason=p("office-reason")
        )
        ed = s.exec(select(User).where(User.username == "ed")).one()
        for key in (KEY, CLOSED):
            create_recommendation(
                s,
                actor=ed,
                reason=p("create-reason"),
                data=RecommendationCreate(
                    key=key,
                    title=p("title"),
                    summary=p("summary") + "\n\nsecond paragraph " + p("summary2"),
                    theme="counter_drug",
                    who_must_act="us",
                    owner=p("owner"),
                ),
            )
            update_recommendation(
                s,
                key=key,
                actor=ed,
                change=RecommendationUpdate(
                    expected_version=1, status="accepted", owner=p("office"), reason=p("change-reason")
                ),
            )
            update_recommendation(
                s,
                key=key,
                actor=ed,
                change=RecommendationUpdate(
                    expected_version=2, status="in_progress", reason=p("change-reason")
                ),
            )
        stored = store_file(io.BytesIO(b"%PDF-1.4 hostile"), FILE_NAME, settings=Settings(data_dir=data_dir))
        attach_evidence(
            s,
            keys=[KEY, CLOSED],
            actor=ed,
            reason=p("evidence-reason"),
            files=[stored],
            citations=[{"source_id": SOURCE, "section": p("section")[:290], "line_start": 1, "line_end": 3}],
            evidence=EvidenceCreate(
                title=p("evidence-title")[:300], summary=p("evidence-summary"), kind="file"
            ),
        )
    with write_session(engine) as s:  # a returned closure, then a pending one (verify page, banners)
        ed, aud = (s.exec(select(User).where(User.username == n)).one() for n in ("ed", "aud"))
        v = lambda key: get_recommendation(s, key).version  # noqa: E731
        propose_closure(
            s, key=KEY, target="implemented", reason=p("proposal"), expected_version=v(KEY), actor=ed
        )
        decide_closure(s, key=KEY, accept=False, reason=p("returned"), actor=aud)
        propose_closure(
            s, key=KEY, target="implemented", reason=p("proposal2"), expected_version=v(KEY), actor=ed
        )
        propose_closure(
            s, key=CLOSED, target="implemented", reason=p("proposal3"), expected_version=v(CLOSED), actor=ed
        )
        decide_closure(s, key=CLOSED, accept=True, reason=p("accepted"), actor=aud)
    try:
        with write_session(engine) as s:
            authenticate(s, username=p("typed-username"), password="anything at all")
    except AuthError:
        pass
    engine.dispose()
    return url, data_dir


def hostile_bundle(bundle: Path, origin: str, key_file: Path) -> Path:
    """A copy of ``bundle`` whose manifest names a hostile exporter and scope, with the report made
    again from it and everything re-hashed and signed with the installation key at ``key_file``, so
    the page shows the manifest (it verifies: this models someone holding the server's key)."""
    from models.trail.bundle_files import Derived
    from models.trail.keys import installation_key, public_pem, sign

    out = bundle.with_name(payload(origin, "bundle-name")[:60].replace("/", "_") + ".zip")
    with zipfile.ZipFile(bundle) as src:
        files = {name: src.read(name) for name in src.namelist()}
    manifest = json.loads(files["manifest.json"])
    manifest["exporter"] = payload(origin, "exporter")
    manifest["exported_at"] = payload(origin, "exported-at")
    manifest["scope"] = {"owner": payload(origin, "scope")}
    derived, report = Derived(io.StringIO(newline="")), io.StringIO(newline="")
    for line in files["events.jsonl"].decode("utf-8").split("\n")[:-1]:
        derived.add(json.loads(line))
    derived.write_report(report, manifest)
    files["report.html"] = report.getvalue().encode("utf-8")
    manifest["files"]["report.html"] = {
        "sha256": hashlib.sha256(files["report.html"]).hexdigest(),
        "bytes": len(files["report.html"]),
    }
    body = json.dumps(manifest, indent=2).encode()
    key = installation_key(key_file)
    signature, fp = sign(body, key)
    files["manifest.json"] = body
    files["manifest.sha256"] = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n".encode()
    files["manifest.sig"] = json.dumps(
        {
            "format": "rectrack-signature/1",
            "key_fingerprint": fp,
            "public_key": public_pem(key.public_key()),
            "signature": signature,
        }
    ).encode()
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in files.items():
            dst.writestr(name, data)
    return out
