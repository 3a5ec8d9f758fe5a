"""A careful reader's checks: the catalog claims no status, date, advice or wording its passage lacks.

Each check is run twice: on the catalog as it stands (it must be clean) and on a copy with one of the
defects the catalog once had put back (the check must catch it), so a check that stopped looking
would fail here too.
"""

from __future__ import annotations

import copy
import os
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from models.catalog import reading
from models.catalog.checks import load_catalog
from models.catalog.loader import IMPLIED, REPORTED, seed_catalog
from models.catalog.schema import Citation, EvidenceSeed
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.tables import AuditEvent

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(os.environ.get("RECTRACK_SOURCES_DIR") or REPO.parent / "shared" / "sources")
CURRY = "2017-curry-nps-thesis-combating-drug-trafficking"
SAMANEZ = "2020-samanez-cfc-collective-security-programs"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(REPO / "seeds")


@pytest.fixture(scope="module")
def texts(catalog):
    assert SOURCES.is_dir(), f"source library not found at {SOURCES}; these checks read the texts"
    return reading.SourceTexts(catalog, SOURCES)


def _with_recommendation(catalog, key, **changes):
    cat = copy.copy(catalog)
    cat.recommendations = dict(catalog.recommendations)
    cat.recommendations[key] = catalog.recommendations[key].model_copy(update=changes)
    return cat


# ------------------------------------------------------------------------------------------ dates


def test_a_year_only_claim_means_the_end_of_that_year_never_the_first_of_january():
    assert reading.period_end("1995") == date(1995, 12, 31)
    assert reading.period_end("2016-02") == date(2016, 2, 29)
    assert reading.period_end("1942-02-19") == date(1942, 2, 19)
    # a passage cannot report something after it was written
    assert reading.reported_on("2009", "2009-07") == date(2009, 7, 1)


def test_every_status_and_evidence_date_is_one_its_cited_lines_print(catalog, texts):
    assert reading.dates_in_passages(catalog, texts) == []


def test_an_evidence_date_taken_from_a_footnote_is_caught(catalog, texts):
    """The 2020 paper counts 107 programs on line 237; 2017 is only the footnoted guide's date (247)."""
    cat = copy.copy(catalog)
    cat.evidence = dict(catalog.evidence)
    cat.evidence["x-ev"] = EvidenceSeed(
        key="x-ev",
        title="Programs grew",
        summary="Programs grew after 2001.",
        observed="2017",
        recommendations=["ssi02-expand-tsc-support"],
        citations=[
            Citation(source=SAMANEZ, section="Current Situation", lines="237"),
            Citation(source=SAMANEZ, section="Current Situation", lines="247"),
        ],
    )
    assert [p for p in reading.dates_in_passages(cat, texts) if "'x-ev'" in p]


def test_every_timeline_event_is_dated_by_its_cited_lines(catalog, texts):
    assert reading.events_dated_in_passages(catalog, texts) == []


def test_an_event_dated_by_the_paper_that_calls_it_recent_is_caught(catalog, texts):
    """Deare (July 2009) calls the border czar recently appointed and gives no date (lines 1322-1324)."""
    from models.catalog.schema import EventSeed

    cat = copy.copy(catalog)
    cat.events = dict(catalog.events)
    cat.events["x-czar"] = EventSeed(
        key="x-czar",
        date="2009",
        title="Border czar appointed",
        country="us",
        category="policy",
        citations=[
            Citation(source="2009-deare-ndu-strategic-forum-243", section="Issues", lines="1322-1324")
        ],
    )
    assert [p for p in reading.events_dated_in_passages(cat, texts) if "'x-czar'" in p]


def test_no_status_is_dated_before_the_passage_or_the_proposal(catalog, texts):
    assert reading.statuses_after_their_passage(catalog, texts) == []


# ------------------------------------------------------------------------------------- advice


def test_no_recommendation_says_in_its_own_summary_that_the_source_does_not_make_it(catalog):
    assert reading.summaries_that_deny_advice(catalog) == []


@pytest.mark.parametrize(
    "summary",
    [
        "Plan Colombia pushed crime into Mexico; the paper draws no such lesson itself.",
        "Programs would need to benefit partners. The paper does not state this as a recommendation.",
        "The thesis does not recommend a change here.",
    ],
)
def test_a_summary_denying_it_is_advice_is_caught(catalog, summary):
    cat = _with_recommendation(catalog, "samanez20-three-pillars", summary=summary)
    assert reading.summaries_that_deny_advice(cat)


def test_the_2020_paper_which_gives_no_advice_shows_no_recommendation(catalog):
    advice = [
        k
        for k, r in catalog.recommendations.items()
        if r.citations[0].source == SAMANEZ and r.kind in ("explicit", "implied", "research_agenda")
    ]
    assert advice == []


# ------------------------------------------------------------------------------------ own words


def test_no_summary_is_a_word_swapped_copy_of_its_cited_lines(catalog, texts):
    assert reading.summaries_too_close(catalog, texts, kinds=reading.ALL_KINDS) == []


def test_paraphrase_by_substitution_is_caught_on_the_issue_example(catalog, texts):
    """The summary this record had before its rewrite, against Curry line 992."""
    old = (
        "The United States should record its cooperation efforts with Colombia in agreements and other "
        "formal institutions, and both countries should work through their military representatives to "
        "cut drug flows in and out of Colombia. The author argues informal ties among leaders tend to "
        "mature into treaties and cooperation accords."
    )
    cat = _with_recommendation(catalog, "curry17-formalize-colombia-agreements", summary=old)
    found = reading.summaries_too_close(cat, texts, kinds=("recommendations",))
    assert [p for p in found if "curry17-formalize-colombia-agreements" in p]


def test_a_summary_in_own_words_about_the_same_passage_passes(texts, catalog):
    line = texts.cited(Citation(source=CURRY, section="IV.B", lines="992"))
    fresh = "Curry wants the Colombian partnership fixed in written accords instead of personal ties alone."
    assert reading.closest_window(reading._words(fresh), reading._words(line)) < reading.SIMILARITY_LIMIT


# ------------------------------------------------------------------------------- in the store


def test_seeding_shows_no_status_step_as_reported_that_no_source_reports(engine, catalog):
    with write_session(engine) as s:
        seed_catalog(s, catalog=catalog, actor=operator_user(s))
    claimed: dict[str, set[str]] = {}
    for key, rec in catalog.recommendations.items():
        if rec.seeded_status:
            claimed.setdefault(key, set()).add(rec.seeded_status.status)
    for ev in catalog.evidence.values():
        if ev.status_claim:
            for key in ev.recommendations:
                claimed.setdefault(key, set()).add(ev.status_claim)
    with read_session(engine) as s:
        moves = s.exec(
            select(AuditEvent).where(
                AuditEvent.record_type == "recommendation", AuditEvent.action.in_(["status_change", "reopen"])
            )
        ).all()
    assert moves
    for m in moves:
        if m.reason.startswith(REPORTED):
            assert m.status_after in claimed.get(m.record_key, set()), (m.record_key, m.status_after)
        else:
            assert m.reason.startswith(IMPLIED), (m.record_key, m.reason)
    # the BWG's 1995 founding ("1995" in Curry, "1995-12" in Deare) is not dated to 1 January
    bwg = [m for m in moves if m.record_key == "deare09-hist-bwg-1995" and m.status_after == "implemented"]
    assert bwg and all(m.effective_at.date() >= date(1995, 12, 1) for m in bwg)


# ------------------------------------------------------------------------------ shown statuses


@pytest.mark.parametrize(
    "status, kind, shown",
    [
        ("proposed", "existing_policy", "No status claimed"),
        ("proposed", "historical_proposal", "No status claimed"),
        ("proposed", "explicit", "Proposed"),
        ("implemented", "historical_proposal", "Implemented"),
    ],
)
def test_a_record_nobody_gave_a_status_is_not_shown_as_proposed(status, kind, shown):
    from models.store.vocabulary import status_shown

    assert status_shown(status, kind) == shown


# ---------------------------------------------------------------------- statuses and non-advice


def test_the_statuses_the_issue_found_unsupported_are_not_claimed(catalog):
    """Cárdenas's offer of bases was refused in part (Martinez 686); the PME expansion's only basis was
    an undated sentence about enrollment in general. Neither may carry a status again."""
    for key in ("deare09-hist-cardenas-wwii-offer", "deare09-pme-expansion"):
        assert catalog.recommendations[key].seeded_status is None, key
        claims = [e.key for e in catalog.evidence.values() if key in e.recommendations and e.status_claim]
        assert claims == [], (key, claims)


def test_a_reported_phone_call_is_an_event_not_advice_to_sustain_something(catalog):
    assert "curry17-sustain-na-defense-ministerial" not in catalog.recommendations
    assert "curry17-mattis-call-2017" in catalog.events


# ------------------------------------------------------------------------------------ conflicts


KNOWN_CONFLICTS = {
    "wwii-us-bases-in-mexico": {
        "2009-deare-ndu-strategic-forum-243",
        "2014-martinez-nps-thesis-building-trust",
    },
    "who-approves-foreign-troops": {"2009-deare-ndu-strategic-forum-243", CURRY},
    "sedena-name-at-the-split": {
        "2009-deare-ndu-strategic-forum-243",
        "2014-martinez-nps-thesis-building-trust",
    },
    "bwg-sub-groups": {"2009-deare-ndu-strategic-forum-243", CURRY},
    "mexican-independence-year": {
        "2009-deare-ndu-strategic-forum-243",
        "2014-martinez-nps-thesis-building-trust",
    },
}


@pytest.mark.parametrize("key, sources", sorted(KNOWN_CONFLICTS.items()))
def test_each_disagreement_between_sources_is_kept_with_both_sides(catalog, key, sources):
    conflict = catalog.conflicts[key]
    cited = {c.source for side in conflict.sides for c in side.citations}
    assert sources <= cited, (key, cited)
    assert all(side.says.strip() for side in conflict.sides) and conflict.note.strip()


def test_a_conflict_with_one_side_or_two_sides_on_the_same_lines_is_refused():
    from pydantic import ValidationError

    from models.catalog.schema import ConflictSeed

    side = {"says": "One reading.", "citations": [{"source": CURRY, "section": "I", "lines": "10"}]}
    with pytest.raises(ValidationError):
        ConflictSeed(key="x-one", topic="t", note="n", sides=[side])
    with pytest.raises(ValidationError, match="same lines"):
        ConflictSeed(key="x-same", topic="t", note="n", sides=[side, {**side, "says": "Another."}])


def test_the_cardenas_offer_points_to_the_conflict_that_explains_why_it_has_no_status(catalog):
    assert "deare09-hist-cardenas-wwii-offer" in catalog.conflicts["wwii-us-bases-in-mexico"].records


# ---------------------------------------------------------------------------------- the review


def test_seeds_review_is_what_the_catalog_says_today(catalog):
    """REVIEW.md is generated (python -m models.catalog.review); an edit to seeds/ without
    regenerating it fails here, so the review can never describe an older catalog."""
    from models.catalog import review

    assert (REPO / "seeds" / "REVIEW.md").read_text(encoding="utf-8") == review.render(catalog)


def test_the_review_gives_every_recommendation_one_line_with_its_status_basis(catalog):
    from models.catalog import review

    text = review.render(catalog)
    for key in catalog.recommendations:
        lines = [ln for ln in text.splitlines() if ln.startswith(f"| {key} |")]
        assert len(lines) == 1, key
    statuses = review.final_statuses(catalog)
    for key, (status, _as_of, basis) in statuses.items():
        assert status != "proposed" and "lines" in basis, key
    for key in catalog.recommendations:
        if key not in statuses:
            assert "no status claimed" in next(ln for ln in text.splitlines() if ln.startswith(f"| {key} |"))


def test_the_review_names_each_records_office_and_the_register(catalog):
    """Class 5 of issue 16: an owner is an office of seeds/offices.yaml; 84 owner spellings for 138
    records became 35 offices, and 88 inferred owners 69 once the cited lines were read for them; the gaps
    review (class 8) added four Martinez 2014 records, three of them with inferred owners (142 and 72)."""
    from models.catalog import review
    from models.catalog.offices import canonical_owner

    text = review.render(catalog)
    line = next(ln for ln in text.splitlines() if ln.startswith("| martinez14-trust-building-metric |"))
    assert "| U.S. Northern Command [U.S. Northern Command (USNORTHCOM)] |" in line  # named at lines 237-239
    line = next(ln for ln in text.splitlines() if ln.startswith("| curry17-research-agenda |"))
    assert "| Naval Postgraduate School and defense research community (inferred) |" in line
    assert "35 offices own the 142 recommendations, written in 77 ways" in text
    assert "72 owners are inferred" in text
    assert {canonical_owner(catalog, r.owner) for r in catalog.recommendations.values()} == {
        o.name for o in catalog.offices.values()
    }
