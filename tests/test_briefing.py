"""The briefing, read back as a reader would: every page's text (pdftotext), the page count (pdfinfo),
and a page rasterised (pdftoppm) for the README's screenshots."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import cli
from sqlmodel import select

from models.store.db import make_engine, read_session, write_session
from models.store.tables import AuditEvent

REPO = Path(__file__).resolve().parents[1]
BANNER = "UNCLASSIFIED // TEST"
HEADLINE = {
    "deare09-unified-defense-ministry": "Consolidate SEDENA and SEMAR into a single Mexican defense ministry",
    "deare09-bwg-revival": "Reestablish the U.S.-Mexico Bilateral Working Group",
    "deare09-pme-expansion": "Expand training and joint professional military education for Mexican forces",
    "deare09-dto-issue-team": "Create a pilot interagency DTO Issue Team under a senior civilian",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install -y poppler-utils (./tracker test installs it)")
    return path


def pages_text(pdf: Path) -> list[str]:
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return out.stdout.split("\f")[:-1]


def page_count(pdf: Path) -> int:
    out = subprocess.run([_tool("pdfinfo"), str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in out.splitlines() if line.startswith("Pages:")))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from tests.e2e.seeded_store import build_store

    root = tmp_path_factory.mktemp("brief")
    return build_store(root / "brief.db", seeded=True, with_passwords=True)


@pytest.fixture
def env(store, monkeypatch):
    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", store)
    monkeypatch.setenv("RECTRACK_BANNER", BANNER)
    get_settings.cache_clear()
    return store


def test_rectrack_brief_puts_the_banner_atop_and_below_every_page_and_numbers_them(env, tmp_path):
    out = tmp_path / "brief.pdf"
    got = cli("brief", "--out", str(out), "--as", "vic")
    assert got.exit_code == 0, got.output
    n = page_count(out)
    assert f"wrote {out}: {n} page(s), scope priority recommendations" in got.output
    pages = pages_text(out)
    assert len(pages) == n >= 5
    for i, text in enumerate(pages, start=1):
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        assert lines[0] == BANNER, f"page {i} does not open with the banner: {lines[:2]}"
        assert lines[-1] == BANNER, f"page {i} does not close with the banner: {lines[-2:]}"
        assert f"Page {i} of {n}" in text


def test_the_briefing_holds_each_priority_items_status_and_cited_lines(env, tmp_path):
    out = tmp_path / "brief.pdf"
    assert cli("brief", "--out", str(out), "--as", "vic").exit_code == 0
    text = " ".join(" ".join(p.split()) for p in pages_text(out))
    engine = make_engine(env)
    from models.reads.records import citations_for
    from models.rules.records import get_recommendation

    with read_session(engine) as s:
        for key, title in HEADLINE.items():
            rec = get_recommendation(s, key)
            assert title in text
            status = {"proposed": "proposed", "in_progress": "in progress"}.get(
                rec.status, rec.status.replace("_", " ")
            )
            assert "As of" in text and f", {status}." in text
            for c in citations_for(s, "recommendation", rec.id):
                assert f"{c.section}, lines {c.line_start}-{c.line_end}" in text, (key, c.label)
    engine.dispose()
    assert "1 Summary figures" in text and "3 What changed since" in text and "4 Longest stuck" in text
    assert (
        "Annex: every recommendation in scope" in text
        and "None" not in text.split()
        and "nan" not in text.split()
    )


def test_the_briefing_is_recorded_in_the_trail_with_the_files_hash(env, tmp_path):
    out = tmp_path / "brief.pdf"
    got = cli("brief", "--out", str(out), "--as", "vic", "--scope", "all", "--since", "2009-01-01")
    assert got.exit_code == 0, got.output
    engine = make_engine(env)
    with read_session(engine) as s:
        e = s.exec(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    engine.dispose()
    after = json.loads(e.after)
    assert (e.action, e.record_type, e.record_key, e.actor) == ("export", "export", "briefing", "vic")
    assert after["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert after["pages"] == page_count(out) and after["scope"]["scope"] == "all"
    assert after["scope"]["since"] == "2009-01-01"
    assert f"recorded as trail event {e.seq}" in got.output


def test_a_briefing_for_one_owner_lists_only_that_owners_recommendations(env, tmp_path):
    out = tmp_path / "owner.pdf"
    got = cli(
        "brief", "--out", str(out), "--as", "vic", "--scope", "owner=Office of the Secretary of Defense"
    )
    assert got.exit_code == 0, got.output
    text = " ".join(" ".join(p.split()) for p in pages_text(out))
    assert "Reestablish the U.S.-Mexico Bilateral Working Group" in text
    assert "Consolidate SEDENA and SEMAR" not in text


def test_the_briefing_marks_inferred_owners_and_policies_no_source_gave_a_status(env, tmp_path):
    """An office's records whose owner no source names say "(inferred)"; a historical proposal no
    source reports acted on says "No status claimed", in the annex and the status chart."""
    out = tmp_path / "osd.pdf"
    got = cli(
        "brief", "--out", str(out), "--as", "vic", "--scope", "owner=Office of the Secretary of Defense"
    )
    assert got.exit_code == 0, got.output
    text = " ".join(" ".join(p.split()) for p in pages_text(out))
    assert "No status claimed" in text  # Perry's 1990s exercise proposal (curry17-hist-perry-...)
    out = tmp_path / "nps.pdf"
    scope = "owner=Naval Postgraduate School and defense research community"
    assert cli("brief", "--out", str(out), "--as", "vic", "--scope", scope).exit_code == 0
    text = " ".join(" ".join(p.split()) for p in pages_text(out))
    assert "(inferred)" in text  # the research agenda names no office


@pytest.mark.parametrize(
    "args, message",
    [
        (("--scope", "everything"), "--scope 'everything': use priority, all, or owner=OFFICE"),
        (("--since", "2030-01-01"), "is after the as-of date"),
        (("--as-of", "2999-01-01"), "is in the future"),
    ],
)
def test_a_bad_request_is_refused_in_one_line_and_nothing_is_recorded(env, tmp_path, args, message):
    engine = make_engine(env)
    with read_session(engine) as s:
        before = s.exec(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first()
    got = cli("brief", "--out", str(tmp_path / "x.pdf"), "--as", "vic", *args)
    assert got.exit_code == 1 and message in got.output
    with read_session(engine) as s:  # vic signed in, and that is all the trail says
        after = s.exec(select(AuditEvent.action, AuditEvent.actor).where(AuditEvent.seq > before)).all()
    assert after == [("signin", "vic")]
    engine.dispose()
    assert not (tmp_path / "x.pdf").exists()


def test_an_output_that_is_not_a_pdf_is_refused(env, tmp_path):
    got = cli("brief", "--out", str(tmp_path / "brief.docx"), "--as", "vic")
    assert got.exit_code == 1 and "the briefing is a PDF" in got.output


def test_text_a_user_typed_is_printed_as_typed_never_typeset_as_markup(env, tmp_path):
    from models.rules.recommendations import update_recommendation
    from models.rules.records import get_recommendation
    from models.rules.users import get_user
    from models.store.schemas import RecommendationUpdate

    hostile = '#set page(fill: red) $x^2$ *bold* <b>html</b> #"quote"'
    engine = make_engine(env)
    with write_session(engine) as s:
        rec = get_recommendation(s, "deare09-bwg-revival")
        update_recommendation(
            s,
            key=rec.key,
            actor=get_user(s, "adm"),
            change=RecommendationUpdate(
                expected_version=rec.version, close_plan=hostile, reason="testing the briefing"
            ),
        )
    engine.dispose()
    out = tmp_path / "brief.pdf"
    assert cli("brief", "--out", str(out), "--as", "vic").exit_code == 0
    text = " ".join(" ".join(p.split()) for p in pages_text(out))
    assert f"To close: {hostile}." in text


def test_two_briefing_pages_are_rasterised_for_the_readme(env, tmp_path):
    out = tmp_path / "brief.pdf"
    assert cli("brief", "--out", str(out), "--as", "vic").exit_code == 0
    shots = Path(os.environ.get("RECTRACK_ARTIFACTS", REPO / "test-artifacts")) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    for page, name in ((2, "briefing-summary"), (3, "briefing-priority")):
        subprocess.run(
            [
                _tool("pdftoppm"),
                "-png",
                "-r",
                "80",
                "-f",
                str(page),
                "-l",
                str(page),
                "-singlefile",
                str(out),
                str(shots / name),
            ],
            check=True,
            capture_output=True,
        )
        png = shots / f"{name}.png"
        assert png.stat().st_size > 20_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
