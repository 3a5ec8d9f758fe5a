"""The same file attached twice to one recommendation made two evidence items that counted as two;
it is refused, naming the item that already holds it. The same file may still support another
recommendation, and a correction may carry the file of the item it replaces."""

from __future__ import annotations

import io

import pytest

from models.rules.evidence_files import store_file
from models.rules.recommendations import attach_evidence, supersede_evidence
from models.rules.records import evidence_count, get_recommendation
from models.rules.users import get_user
from models.store.db import read_session, write_session
from models.store.errors import DuplicateEvidence
from models.store.schemas import EvidenceCreate
from tests.helpers import make_rec

LETTER = b"%PDF-1.4\nMinistry letter pausing the exchange\n"


def attach(engine, keys, title="Ministry letter", content=LETTER, name="letter.pdf"):
    stored = store_file(io.BytesIO(content), name)
    with write_session(engine) as s:
        return attach_evidence(
            s,
            keys=keys,
            evidence=EvidenceCreate(title=title, kind="file"),
            actor=get_user(s, "ed"),
            reason="the letter",
            files=[stored],
        ).key


def count(engine, key):
    with read_session(engine) as s:
        return evidence_count(s, get_recommendation(s, key).id)


def test_the_same_file_twice_on_one_recommendation_is_refused_with_the_existing_item(engine, users):
    make_rec(engine, key="rec-a")
    make_rec(engine, key="rec-b")
    first = attach(engine, ["rec-a"])
    with pytest.raises(DuplicateEvidence) as refused:
        attach(engine, ["rec-a"], title="Same letter again", name="copy-of-letter.pdf")
    e = refused.value
    assert (e.recommendation, e.evidence, e.filename) == ("rec-a", first, "copy-of-letter.pdf")
    assert "already evidence for rec-a" in str(e) and first in str(e)
    assert count(engine, "rec-a") == 1
    with pytest.raises(DuplicateEvidence):  # one of several recommendations already has it
        attach(engine, ["rec-b", "rec-a"], title="Both")
    assert count(engine, "rec-b") == 0

    attach(engine, ["rec-b"], title="The letter for B too")  # another recommendation may use it
    assert count(engine, "rec-b") == 1
    attach(engine, ["rec-a"], title="Another letter", content=LETTER + b"second page\n")
    assert count(engine, "rec-a") == 2


def test_a_correction_may_carry_the_file_of_the_item_it_replaces(engine, users):
    make_rec(engine, key="rec-a")
    first = attach(engine, ["rec-a"])
    stored = store_file(io.BytesIO(LETTER), "letter.pdf")
    with write_session(engine) as s:
        supersede_evidence(
            s,
            old_key=first,
            evidence=EvidenceCreate(title="Ministry letter (date corrected)", kind="file"),
            actor=get_user(s, "ed"),
            reason="the observed date was wrong",
            files=[stored],
        )
