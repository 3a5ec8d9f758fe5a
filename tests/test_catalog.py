"""The cited catalog in seeds/: every record traces to a page, tables add up, nothing is doubled.

Checks that need the source texts (line ranges, copied words) skip, saying why, when the source
library (../shared/sources, or RECTRACK_SOURCES_DIR) is not present.
"""

from __future__ import annotations

import copy
import os
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from models.catalog.checks import _words, check_against_sources, load_catalog
from models.catalog.loader import seed_catalog
from models.catalog.restatements import close_pairs, read_allow_list, unsettled_pairs
from models.catalog.schema import SOURCE_IDS, CatalogFile, Citation, RecommendationSeed, parse_partial_date
from models.rules.users import operator_user
from models.store.db import make_engine, read_session, write_session
from models.store.tables import Indicator, IndicatorValue

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SOURCES = Path(os.environ.get("RECTRACK_SOURCES_DIR") or REPO.parent / "shared" / "sources")
DEARE = "2009-deare-ndu-strategic-forum-243"
SAMANEZ = "2020-samanez-cfc-collective-security-programs"
PREFIX = {
    "2002-ssi-mil-to-mil-conference-brief": "ssi02-",
    DEARE: "deare09-",
    "2014-martinez-nps-thesis-building-trust": "martinez14-",
    "2017-curry-nps-thesis-combating-drug-trafficking": "curry17-",
    SAMANEZ: "samanez20-",
}
HEADLINE = {  # key: (theme, kinds that fit how Deare makes the point)
    "deare09-unified-defense-ministry": ("defense_institutions", {"explicit", "implied"}),
    "deare09-bwg-revival": ("bilateral_mechanisms", {"explicit"}),
    "deare09-pme-expansion": ("education_training", {"explicit", "implied"}),
    "deare09-dto-issue-team": ("interagency_coordination", {"explicit"}),
}
# How far a printed total may sit from the sum of its printed parts, by unit: the Mérida table
# prints one decimal, so each figure may be off by 0.05; counts must add up exactly.
SUM_TOLERANCE = {
    "USD million": 0.1,
    "USD billion": 0.05,
    "USD": 1.0,
    "programs": 0,
    "cadets": 0,
    "students": 0,
    "agreements": 0,
}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(SEEDS)


@pytest.fixture(scope="module")
def files():
    """Each catalog file as written, so per-file rules (prefixes, the Samanez file) can be checked."""
    out = {}
    for path in sorted((SEEDS / "catalog").glob("*.yaml")):
        out[path] = CatalogFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


@pytest.fixture(scope="module")
def source_lines(catalog):
    if not SOURCES.is_dir():
        pytest.skip(
            f"source library not found at {SOURCES}; citation ranges and the own-words check need the texts"
        )
    return {s.id: (SOURCES / s.file).read_text(encoding="utf-8").splitlines() for s in catalog.sources}


def _parts_sum_problems(children: dict, values: dict, units: dict) -> list[str]:
    """``values[key][(period, country, source)] = value``; children grouped under their parent's key."""
    problems = []
    for parent, kids in children.items():
        assert units[parent] in SUM_TOLERANCE, (
            f"no summing tolerance chosen for unit {units[parent]!r} ({parent})"
        )
        tol = SUM_TOLERANCE[units[parent]] + 1e-9
        checked = 0
        for ident, total in values[parent].items():
            parts = [values[k][ident] for k in kids if ident in values[k]]
            if not parts:
                continue
            checked += 1
            if abs(sum(parts) - total) > tol:
                problems.append(f"{parent} {ident}: parts {parts} sum to {sum(parts)}, printed total {total}")
        if checked == 0:
            problems.append(f"{parent}: its parts and its total never meet in one period")
    return problems


# ---------------------------------------------------------------------------------------- citations


def test_every_citation_resolves_in_its_text_and_nothing_is_copied(catalog):
    if not SOURCES.is_dir():
        pytest.skip(f"source library not found at {SOURCES}; citations cannot be resolved against the texts")
    assert check_against_sources(catalog, SOURCES) == []


def test_a_citation_past_the_end_of_a_text_is_reported(catalog):
    if not SOURCES.is_dir():
        pytest.skip(f"source library not found at {SOURCES}; citations cannot be resolved against the texts")
    broken = copy.deepcopy(catalog)
    rec = broken.recommendations["deare09-bwg-revival"]
    bad = Citation(source=DEARE, section="Nowhere", lines="99998-99999")
    broken.recommendations["deare09-bwg-revival"] = rec.model_copy(
        update={"citations": [*rec.citations, bad]}
    )
    problems = check_against_sources(broken, SOURCES)
    assert any("deare09-bwg-revival" in p and "past the end" in p for p in problems)


def test_no_citation_points_at_blank_lines(catalog, source_lines):
    empty = [
        f"{kind} {key}: {c.source} lines {c.lines}"
        for kind, key, c in catalog.all_citations()
        if not any(line.strip() for line in source_lines[c.source][c.line_start - 1 : c.line_end])
    ]
    assert empty == []


# ---------------------------------------------------------------------------------------- coverage


def test_the_four_headline_recommendations_exist_cited_to_deare_2009(catalog):
    for key, (theme, kinds) in HEADLINE.items():
        rec = catalog.recommendations.get(key)
        assert rec is not None, f"{key} is missing"
        assert rec.citations[0].source == DEARE
        assert rec.theme == theme and rec.kind in kinds, (key, rec.theme, rec.kind)
        assert rec.parent is None


def test_every_source_has_a_coverage_note_or_recommendations(catalog):
    cited = defaultdict(int)
    for rec in catalog.recommendations.values():
        cited[rec.citations[0].source] += 1
    for source in SOURCE_IDS:
        assert catalog.coverage_notes.get(source) or cited[source], f"{source} has neither"


def test_the_2020_paper_says_it_makes_no_recommendations_and_the_catalog_holds_none(catalog):
    note = catalog.coverage_notes.get(SAMANEZ, "")
    assert re.search(r"makes no recommendations", note, re.I), note
    kinds = {r.kind for r in catalog.recommendations.values() if r.citations[0].source == SAMANEZ}
    assert kinds <= {"existing_policy"}, kinds


def test_the_2014_thesis_three_formal_recommendations_and_their_sub_items_are_present(catalog):
    formal = {
        "martinez14-strategic-guidance-partnership-trust": {
            "martinez14-imet-funds-to-pme",
            "martinez14-cocom-trust-directive",
            "martinez14-advanced-bpc-activities",
        },
        "martinez14-enhance-pme-bpc-platforms": {
            "martinez14-support-iadc",
            "martinez14-support-whinsec",
            "martinez14-support-iaafa",
        },
        "martinez14-indirect-institution-building": {
            "martinez14-expand-officer-exchanges",
            "martinez14-mexican-cadets-us-academies",
            "martinez14-mexico-expert-cadre",
        },
    }
    for parent, subs in formal.items():
        assert catalog.recommendations[parent].kind == "explicit"
        assert {k for k, r in catalog.recommendations.items() if r.parent == parent} >= subs


def test_the_2017_thesis_mexico_colombia_and_research_recommendations_are_present(catalog):
    for parent, at_least in (
        ("curry17-sustain-colombia-cooperation", 4),
        ("curry17-adjust-mexico-cooperation", 4),
        ("curry17-research-agenda", 6),
    ):
        subs = [k for k, r in catalog.recommendations.items() if r.parent == parent]
        assert len(subs) >= at_least, (parent, subs)
    assert catalog.recommendations["curry17-research-agenda"].kind == "research_agenda"


def test_every_obstacle_is_linked_from_at_least_one_recommendation(catalog):
    linked = {o for rec in catalog.recommendations.values() for o in rec.obstacles}
    assert sorted(set(catalog.obstacles) - linked) == []


# ---------------------------------------------------------------------------------------- duplicates


def test_no_key_is_defined_twice(files):
    seen: dict[tuple[str, str], Path] = {}
    for path, cf in files.items():
        for kind in ("recommendations", "evidence", "events"):
            for item in getattr(cf, kind):
                assert (kind, item.key) not in seen, (
                    f"{kind} {item.key} in {path} and {seen[(kind, item.key)]}"
                )
                seen[(kind, item.key)] = path
        for kind in ("obstacles", "institutions", "indicators"):  # shared kinds: once per file
            keys = [item.key for item in getattr(cf, kind)]
            assert len(keys) == len(set(keys)), f"{path}: a {kind} key appears twice"


def test_no_two_recommendations_share_a_normalised_title(catalog):
    by_title = defaultdict(list)
    for key, rec in catalog.recommendations.items():
        by_title[" ".join(_words(rec.title))].append(key)
    assert {t: ks for t, ks in by_title.items() if len(ks) > 1} == {}


def test_a_prefixed_key_lives_in_its_own_sources_file_and_shared_keys_are_unprefixed(files):
    prefixes = tuple(PREFIX.values())
    for path, cf in files.items():
        mine = PREFIX[cf.source]
        for kind in ("recommendations", "evidence", "events"):
            for item in getattr(cf, kind):
                assert item.key.startswith(mine), f"{path}: {kind} {item.key} lacks the prefix {mine}"
        for kind in ("obstacles", "institutions", "indicators"):
            for item in getattr(cf, kind):
                if item.key.startswith(prefixes):
                    assert item.key.startswith(mine), f"{path}: {kind} {item.key} belongs to another source"


def test_every_shared_obstacle_and_institution_is_in_the_readme_table(catalog):
    readme = (SEEDS / "README.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): m.group(2).strip() for m in re.finditer(r"^\| ([a-z0-9-]+) \| ([^|]+)\|", readme, re.M)
    }
    prefixes = tuple(PREFIX.values())
    for kind, label in (("obstacles", "title"), ("institutions", "name")):
        for key, item in getattr(catalog, kind).items():
            if not key.startswith(prefixes):
                assert rows.get(key) == getattr(item, label), (
                    f"README row for {key} should read {getattr(item, label)!r}"
                )


# ---------------------------------------------------------------------------------------- figures


def test_conflicting_values_carry_a_conflict_note_on_each_side(catalog):
    groups = defaultdict(list)
    for key, ind in catalog.indicators.items():
        for v in ind.values:
            groups[(key, v.period, v.country or ind.country)].append(v)
    for ident, vals in groups.items():
        if len({v.value for v in vals}) > 1:
            missing = [f"{v.citation.source} {v.citation.lines}" for v in vals if not v.conflict_note]
            assert not missing, (
                f"{ident}: values {[v.value for v in vals]} disagree; no conflict_note on {missing}"
            )


def test_a_conflict_note_names_what_it_disagrees_with(catalog):
    for key, ind in catalog.indicators.items():
        for v in ind.values:
            if v.conflict_note:
                assert re.search(r"\bline|\blines|\d{4}", v.conflict_note), (key, v.period, v.conflict_note)


def test_printed_parts_add_up_to_their_printed_totals(catalog):
    values, children, units = defaultdict(dict), defaultdict(list), {}
    for key, ind in catalog.indicators.items():
        units[key] = ind.unit
        if ind.parent:
            children[ind.parent].append(key)
            assert catalog.indicators[ind.parent].unit == ind.unit, f"{key} and its total differ in unit"
        for v in ind.values:
            values[key][(v.period, v.country or ind.country, v.citation.source)] = v.value
    assert children, "the catalog should carry at least one table of parts and totals"
    assert _parts_sum_problems(children, values, units) == []


def test_parts_still_add_up_after_loading_into_a_store(catalog, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'catalog.db'}")
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(engine)
    with write_session(engine) as s:
        seed_catalog(s, catalog=catalog, actor=operator_user(s))
    with read_session(engine) as s:
        inds = {i.id: i for i in s.exec(select(Indicator)).all()}
        rows = s.exec(select(IndicatorValue)).all()
    key_of = {i: ind.key for i, ind in inds.items()}
    values, children, units = defaultdict(dict), defaultdict(list), {}
    for ind in inds.values():
        units[ind.key] = ind.unit
        if ind.parent_id:
            children[key_of[ind.parent_id]].append(ind.key)
    for row in rows:
        values[key_of[row.indicator_id]][(row.period, row.country, row.source_id)] = row.value
    assert sum(len(i.values) for i in catalog.indicators.values()) == len(rows), "a value was lost in loading"
    assert {k: sorted(v) for k, v in children.items()} == {
        k: sorted(x for x, ind in catalog.indicators.items() if ind.parent == k) for k in children
    }
    assert _parts_sum_problems(children, values, units) == []
    engine.dispose()


def test_a_value_without_a_printed_year_stores_none_rather_than_a_guess(catalog):
    guessed = re.compile(
        r"\b(anchor|stand[- ]in|stands for|placed at|set to the thesis|year is the paper)", re.I
    )
    for key, ind in catalog.indicators.items():
        for v in ind.values:
            if v.year is not None and v.note:
                assert not guessed.search(v.note), (
                    f"{key} {v.period}: the note says the year {v.year} was chosen"
                )


# ---------------------------------------------------------------------------------------- statuses


def test_a_status_is_never_dated_before_the_source_that_made_the_recommendation(catalog):
    published = {s.id: parse_partial_date(s.published)[0].year for s in catalog.sources}

    def claims(key: str, rec: RecommendationSeed):
        if rec.seeded_status:
            yield rec.seeded_status.as_of, rec.seeded_status.status
        for ev in catalog.evidence.values():
            if ev.status_claim and key in ev.recommendations:
                yield ev.observed, ev.status_claim

    for key, rec in catalog.recommendations.items():
        if rec.kind in ("historical_proposal", "existing_policy"):
            continue  # these were made (or in force) before the source wrote about them
        for when, status in claims(key, rec):
            assert parse_partial_date(when)[0].year >= published[rec.citations[0].source], (key, status, when)


def test_the_unified_ministry_is_not_closed_on_an_inference(catalog):
    rec = catalog.recommendations["deare09-unified-defense-ministry"]
    assert rec.seeded_status is None
    assert not [
        e.key
        for e in catalog.evidence.values()
        if "deare09-unified-defense-ministry" in e.recommendations and e.status_claim
    ]


# ---------------------------------------------------------------------------------------- the 2020 paper


def _plain(token: str) -> bool:
    """An ordinary lower-case word: not a name, a figure or a short function word."""
    return (
        token.isalpha()
        and token[0].islower()
        and token
        not in {
            "a",
            "an",
            "and",
            "as",
            "at",
            "by",
            "for",
            "from",
            "in",
            "of",
            "on",
            "or",
            "the",
            "to",
            "with",
        }
    )


def _quoted_runs(text: str, shingles: set, window: int) -> list[str]:
    tokens = re.findall(r"[A-Za-z0-9]+", text.replace("-\n", ""))
    found = []
    for i in range(len(tokens) - window + 1):
        run = tokens[i : i + window]
        if tuple(t.lower() for t in run) in shingles and sum(_plain(t) for t in run) >= 2:
            found.append(" ".join(run))
    return found


def test_the_samanez_file_quotes_nothing_even_at_a_six_word_window(files, source_lines):
    window = 6
    words = _words("\n".join(source_lines[SAMANEZ]))
    shingles = {tuple(words[i : i + window]) for i in range(len(words) - window + 1)}
    # calibration: ten consecutive words of the paper's own prose, built here at run time and never
    # stored, must be caught, while the names and figures an honest paraphrase keeps must not be
    prose = [w for line in source_lines[SAMANEZ] for w in re.findall(r"[A-Za-z0-9]+", line)]
    probe = next(
        " ".join(prose[i : i + 10])
        for i in range(len(prose) - 10)
        if sum(_plain(t) for t in prose[i : i + 10]) >= 6
    )
    assert _quoted_runs(f"In short, {probe} as argued.", shingles, window), "a copied clause went unnoticed"
    assert not _quoted_runs(
        "Inter-American Treaty of Reciprocal Assistance (Rio Treaty) of 1947", shingles, window
    )

    cf = next(cf for cf in files.values() if cf.source == SAMANEZ)
    texts = [("coverage_note", cf.coverage_note or "")]
    for kind in ("recommendations", "obstacles", "institutions", "evidence", "indicators", "events"):
        for item in getattr(cf, kind):
            for name in ("title", "summary", "description", "note"):
                if isinstance(getattr(item, name, None), str):
                    texts.append((item.key, getattr(item, name)))
            if getattr(item, "seeded_status", None):
                texts.append((item.key, item.seeded_status.note))
            for v in getattr(item, "values", []):
                texts += [(item.key, t) for t in (v.note, v.conflict_note) if t]
    quoted = [(key, run) for key, text in texts for run in _quoted_runs(text, shingles, window)]
    assert quoted == []


def test_every_close_pair_of_recommendations_is_cross_referenced_parented_or_declared_different(catalog):
    """A later source repeating earlier advice must say so, or the dashboard counts it twice."""
    assert close_pairs(catalog), "the threshold no longer finds any pair: the check would pass vacuously"
    assert unsettled_pairs(catalog, SEEDS) == []
    different = read_allow_list(SEEDS)
    for pair, why in different.items():
        assert len(pair) == 2 and pair <= set(catalog.recommendations) and why.strip(), sorted(pair)


def test_dropping_one_cross_reference_makes_the_close_pair_fail(catalog):
    cat = copy.deepcopy(catalog)
    rec = cat.recommendations["curry17-hist-uh1h-helicopters"]
    cat.recommendations[rec.key] = rec.model_copy(
        update={"summary": rec.summary.replace("deare09-hist-uh1h-transfer", "the 2009 brief")}
    )
    assert [p for p in unsettled_pairs(cat, SEEDS) if "deare09-hist-uh1h-transfer" in p]
