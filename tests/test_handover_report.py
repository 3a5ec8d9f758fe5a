"""The handover report the incoming officer reads, and `rectrack handover` end to end."""

from __future__ import annotations

import io
import re

import pytest
from sqlmodel import select

from models.reads.handover import handover_choices, handover_preview, handover_report
from models.rules.evidence_files import store_file
from models.rules.obstacles import create_obstacle, link_obstacle
from models.rules.recommendations import attach_evidence
from models.rules.steps import add_step
from models.store.db import read_session, write_session
from models.store.schemas import EvidenceCreate, ObstacleCreate, StepCreate
from models.store.tables import User
from models.workflow.handover_report import handover_html, render_handover
from tests.helpers import change, cli, close, give_cli_password, make_rec, read_rec
from tests.test_handover import do_handover

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def _ed(s) -> User:
    return s.exec(select(User).where(User.username == "ed")).one()


@pytest.fixture
def rich_store(engine, users):
    """OSD Policy: pol-1 with a hostile title, evidence, a blocking obstacle and an open step;
    pol-2 accepted with a note from the outgoing editor; pol-closed closed."""
    make_rec(engine, key="pol-1", title=HOSTILE)
    make_rec(engine, key="pol-2")
    make_rec(engine, key="pol-closed")
    change(engine, "pol-2", status="accepted", reason="J5 agreed; waiting on funding <FY27>")
    close(engine, "pol-closed", "not_implemented", reason="overtaken")
    stored = store_file(io.BytesIO(b"minutes"), "minutes.txt")
    with write_session(engine) as s:
        ed = _ed(s)
        ev = attach_evidence(
            s,
            keys=["pol-1"],
            actor=ed,
            reason="proof",
            files=[stored],
            evidence=EvidenceCreate(title="Signed MOU"),
        )
        create_obstacle(
            s,
            data=ObstacleCreate(
                key="ob-money", title="No FY27 money", category="budgetary", side="us", summary="s"
            ),
            actor=ed,
            reason="funding gap",
            evidence_key=ev.key,
        )
        link_obstacle(s, key="pol-1", obstacle_key="ob-money", actor=ed, reason="it blocks")
        add_step(
            s,
            key="pol-1",
            step=StepCreate(title="Draft the budget request", office="OSD Policy"),
            actor=ed,
            reason="plan",
        )
    return engine


def test_the_report_lists_every_moved_record_with_its_status_and_what_the_officer_needs(rich_store):
    result = do_handover(rich_store, office="OSD Policy", to_user="ed2", reason="Smith <rotates> out")
    page = handover_html(rich_store, first_seq=result.first_seq).decode()
    sections = re.findall(r'<section id="([^"]+)">', page)
    assert sections == ["pol-1", "pol-2"], "every moved record, and only those"
    assert "pol-closed" not in page
    pol1 = page[page.index('<section id="pol-1">') : page.index('<section id="pol-2">')]
    assert '<dd class="status">Proposed</dd>' in pol1
    assert "Signed MOU" in pol1 and "No FY27 money" in pol1 and "Draft the budget request" in pol1
    pol2 = page[page.index('<section id="pol-2">') :]
    assert '<dd class="status">Accepted</dd>' in pol2
    assert "J5 agreed; waiting on funding &lt;FY27&gt;" in pol2, "the outgoing editor's note, as text"
    assert "Smith &lt;rotates&gt; out" in page, "the batch reason, as text"
    assert "2 open recommendations of office OSD Policy" in page


def test_a_hostile_title_stays_text_in_the_report(rich_store):
    result = do_handover(rich_store, office="OSD Policy", to_user="ed2")
    page = handover_html(rich_store, first_seq=result.first_seq).decode()
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page


def test_the_report_can_be_made_again_later_from_the_trail(rich_store):
    result = do_handover(rich_store, office="OSD Policy", to_user="ed2")
    with read_session(rich_store) as s:
        report = handover_report(s, first_seq=result.first_seq)
    assert [i.key for i in report.items] == result.keys
    assert report.reason == "Lt Col Smith rotates out; Maj Jones takes the portfolio"
    assert report.to_user == "ed2" and report.office == "OSD Policy"
    assert render_handover(report, banner="CUI").count("<section") == 2


def test_the_page_reads_offer_people_and_preview_the_batch(rich_store):
    with read_session(rich_store) as s:
        choices = handover_choices(s)
        assert "ed2" in choices["successors"] and "vic" not in choices["successors"]
        assert "OSD Policy" in choices["offices"]
        assert handover_preview(s, office="OSD Policy", from_user=None, to_user="ed2") == ["pol-1", "pol-2"]


def test_rectrack_handover_moves_the_office_and_writes_the_report(rich_store, monkeypatch, tmp_path):
    from models.store.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", rich_store.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    give_cli_password(rich_store, "adm", "ed")
    out = tmp_path / "handover.html"
    got = cli(
        "handover", "--office", "OSD Policy", "--to", "ed2", "--reason", "Smith rotates out",
        "--report", str(out), "--as", "adm",
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    lines = got.output.splitlines()
    assert re.fullmatch(
        r"handed 2 open recommendations of office OSD Policy to ed2 \(events \d+-\d+\)", lines[0]
    )
    assert lines[1:] == ["ed2 now edits for OSD Policy", f"report written to {out}"]
    assert read_rec(rich_store, "pol-1").responsible == "ed2"
    assert "\nresponsible: ed2\n" in cli("show", "pol-1").output
    assert re.findall(r'<section id="([^"]+)">', out.read_text()) == ["pol-1", "pol-2"]
    again = cli("handover", "--office", "OSD Policy", "--to", "ed2", "--reason", "again", "--as", "adm")
    assert again.exit_code == 1
    assert "OSD Policy owns no open recommendation that is not already handed to ed2; nothing" in again.output
    refused = cli("handover", "--office", "OSD Policy", "--to", "ed", "--reason", "mine", "--as", "ed")
    assert refused.exit_code == 1 and "may not handover" in refused.output
    verified = cli("verify")
    assert verified.exit_code == 0, verified.output
