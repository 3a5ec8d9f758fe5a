"""Text and files a person can slip past a reader: invisible reasons, one-line fields carrying line
breaks or right-to-left overrides, files whose bytes are not what their names say, and dates no
plan could mean. Each is refused on the write path, with a message naming what to fix."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from helpers import change, make_rec, read_rec
from pydantic import ValidationError
from sqlmodel import select

from models.rules.closure import decide_closure, propose_closure
from models.rules.evidence_files import store_file
from models.rules.lifecycle import RuleViolation
from models.rules.recommendations import attach_evidence
from models.store.db import write_session
from models.store.errors import InvalidInput
from models.store.schemas import EvidenceCreate, RecommendationCreate, RecommendationUpdate, UserCreate
from models.store.settings import get_settings
from models.store.tables import User

INVISIBLE_REASONS = [
    "\u200b",
    "\u2800",
    "\u3164",
    "\u200b\u2800\u3164 \ufeff",
    "\u115f\u1160\uffa0",
    "\u0301\u0302",
]


@pytest.mark.parametrize("reason", INVISIBLE_REASONS, ids=repr)
def test_a_reason_of_invisible_characters_is_refused(engine, users, reason):
    make_rec(engine)
    with pytest.raises(ValidationError, match="no visible characters"):
        RecommendationUpdate(expected_version=1, status="under_review", reason=reason)
    with pytest.raises(InvalidInput, match="reason"):
        _create_with_reason(engine, reason)
    with pytest.raises(RuleViolation, match="visible text"):
        from models.rules.lifecycle import check_transition

        check_transition("proposed", "under_review", reason=reason, evidence_count=0)
    assert read_rec(engine, "rec-a").version == 1


def _create_with_reason(engine, reason):
    from models.rules.recommendations import create_recommendation

    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        create_recommendation(
            s,
            data=RecommendationCreate(
                key="rec-b", title="t", summary="s", theme="research", who_must_act="us", owner="O"
            ),
            actor=ed,
            reason=reason,
        )


@pytest.mark.parametrize("reason", INVISIBLE_REASONS[:3], ids=repr)
def test_a_closure_cannot_be_accepted_or_returned_with_an_invisible_reason(engine, users, reason):
    make_rec(engine)
    with write_session(engine) as s:
        ed = s.exec(select(User).where(User.username == "ed")).one()
        propose_closure(
            s, key="rec-a", target="not_implemented", reason="will not happen", expected_version=1, actor=ed
        )
    with pytest.raises(RuleViolation, match="visible text"):
        with write_session(engine) as s:
            aud = s.exec(select(User).where(User.username == "aud")).one()
            decide_closure(s, key="rec-a", accept=False, reason=reason, actor=aud)


def test_a_reason_with_visible_text_among_invisible_characters_is_kept_exactly(engine, users):
    make_rec(engine)
    reason = "\u200bchecked the signed minutes\u2800"
    assert change(engine, "rec-a", status="under_review", reason=reason).version == 2


ONE_LINE_BAD = {
    "line feed": "J5\nfake line",
    "carriage return": "J5\rover",
    "tab": "J5\tx",
    "escape": "J5\x1b[31m",
    "right-to-left override": "Office \u202egnp.exe",
    "left-to-right embedding": "\u202aOffice",
    "right-to-left isolate": "Office \u2067x\u2069",
    "line separator": "J5\u2028x",
    "C1 control": "J5\x85x",
}


@pytest.mark.parametrize("bad", ONE_LINE_BAD.values(), ids=ONE_LINE_BAD.keys())
def test_control_characters_and_bidi_overrides_are_refused_in_one_line_fields(engine, users, bad):
    base = dict(key="rec-q", summary="s", theme="research", who_must_act="us")
    for fields in ({"title": bad, "owner": "O"}, {"title": "T", "owner": bad}):
        with pytest.raises(ValidationError, match="control character|bidirectional control"):
            RecommendationCreate(**base, **fields)
    with pytest.raises(ValidationError, match="control character|bidirectional control"):
        RecommendationUpdate(expected_version=1, owner=bad, reason="moved office")
    with pytest.raises(ValidationError, match="control character|bidirectional control"):
        EvidenceCreate(title=bad)
    with pytest.raises(ValidationError, match="control character|bidirectional control"):
        UserCreate(username="ann", role="viewer", display_name=bad)
    make_rec(engine)
    with pytest.raises(InvalidInput, match="citation section"):
        with write_session(engine) as s:
            ed = s.exec(select(User).where(User.username == "ed")).one()
            attach_evidence(
                s,
                keys=["rec-a"],
                actor=ed,
                reason="cited",
                evidence=EvidenceCreate(title="t", kind="citation"),
                citations=[{"source_id": "x", "section": bad, "line_start": 1, "line_end": 2}],
            )


def test_multi_line_text_keeps_its_line_breaks_and_any_characters(engine, users):
    summary = "first line\nsecond line \u202eright-to-left\u202c\ttabbed"
    make_rec(engine, summary=summary)
    assert read_rec(engine, "rec-a").summary == summary
    assert change(engine, "rec-a", status="under_review", reason="line one\nline two").version == 2


def _zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n in names:
            zf.writestr(n, "<x/>")
    return buf.getvalue()


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    + b"\x00" * 64
    + b"This program cannot be run in DOS mode"
)


@pytest.mark.parametrize(
    "name, content, says",
    [
        ("report.pdf", EXE, "not a PDF file (it starts like a Windows executable)"),
        (
            "photo.png",
            b"\x7fELF\x02\x01\x01" + b"\x00" * 40,
            "not a PNG file (it starts like a Linux executable)",
        ),
        ("photo.jpg", b"%PDF-1.7 not a jpeg", "not a JPG file (it starts like a PDF)"),
        ("memo.docx", b"plain text pretending", "not a Word document"),
        ("memo.docx", _zip(["xl/workbook.xml"]), "not a Word document (it starts like a zip archive)"),
        ("sheet.xlsx", _zip(["word/document.xml"]), "not an Excel workbook"),
        ("notes.txt", EXE, "not a text file (it starts like a Windows executable)"),
        ("data.csv", b"a,b\n1,\x00\x00\x002\n", "not a text file (it holds NUL bytes"),
        ("page.html", b"PK\x03\x04rest", "not a text file (it starts like a zip archive)"),
    ],
)
def test_an_evidence_file_whose_bytes_are_not_what_its_name_says_is_refused(
    engine, users, name, content, says
):
    with pytest.raises(InvalidInput, match=r"a file must be what its name says") as e:
        store_file(io.BytesIO(content), name)
    assert says in str(e.value)
    evidence_dir = get_settings().evidence_dir
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))


@pytest.mark.parametrize(
    "name, content",
    [
        ("report.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("memo.docx", _zip(["[Content_Types].xml", "word/document.xml"])),
        ("sheet.xlsx", _zip(["[Content_Types].xml", "xl/workbook.xml"])),
        ("notes.txt", "café, naïve — ✓".encode()),
        ("old.csv", "caf\xe9;1\n".encode("cp1252")),
        ("data.json", b'{"a": 1}'),
    ],
)
def test_an_evidence_file_that_is_what_its_name_says_is_stored(engine, users, name, content):
    assert store_file(io.BytesIO(content), name)["size_bytes"] == len(content)


@pytest.mark.parametrize("day", [date(9999, 12, 31), date(1800, 1, 1), date(1999, 12, 31), date(2100, 1, 1)])
def test_a_target_date_outside_the_window_in_settings_is_refused(engine, users, day):
    make_rec(engine)
    with pytest.raises(ValidationError, match="outside the accepted range for a target date"):
        RecommendationUpdate(expected_version=1, target_date=day, reason="new plan")
    with pytest.raises(ValidationError, match="outside the accepted range"):
        RecommendationCreate(
            key="rec-z",
            title="t",
            summary="s",
            theme="research",
            who_must_act="us",
            owner="O",
            target_date=day,
        )
    assert read_rec(engine, "rec-a").target_date is None


def test_the_target_date_window_comes_from_settings(engine, users, monkeypatch):
    make_rec(engine)
    assert change(engine, "rec-a", target_date=date(2031, 6, 30), reason="new plan").target_date == date(
        2031, 6, 30
    )
    monkeypatch.setenv("RECTRACK_TARGET_DATE_EARLIEST", "2032-01-01")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match=r"2032-01-01 to "):
        RecommendationUpdate(expected_version=2, target_date=date(2031, 6, 30), reason="again")


@pytest.mark.parametrize("day", [date(1799, 12, 31), date(9999, 12, 31)])
def test_evidence_observed_before_the_earliest_date_or_in_the_future_is_refused(day):
    with pytest.raises(ValidationError, match="outside the accepted range for an observed date"):
        EvidenceCreate(title="minutes", observed_on=day)
    assert EvidenceCreate(title="old report", observed_on=date(1939, 5, 1)).observed_on == date(1939, 5, 1)
