"""Checks that need a careful reader's eye: does each record say only what its passage says?

:mod:`models.catalog.checks` proves a citation exists and no run of words is copied. A record can
pass that and still mislead a staff officer: a status dated before the passage that reports it, a
"recommendation" whose own summary says the source draws no such lesson, a summary that is the
source sentence with words swapped, an evidence date taken from a footnote. Each function here
returns problems worded for the person editing the YAML, so ``python -m models.catalog.reading``
and the tests report the same thing.
"""

from __future__ import annotations

import calendar
import difflib
import re
import sys
from datetime import date
from pathlib import Path

from models.catalog.checks import Catalog, load_catalog
from models.catalog.schema import Citation, parse_partial_date

SIMILARITY_LIMIT = 0.6  # a sentence this close to some stretch of its cited lines is a paraphrase
MIN_SENTENCE_WORDS = 8  # shorter sentences are names and figures, which carry over by rule

# A summary that says these things is describing the source's silence, not its advice.
_DENIALS = re.compile(
    r"\b(draws? no such (lesson|conclusion)|does not (itself )?(recommend|propose|advise|urge|prescribe)"
    r"|makes? no (such )?recommendation|not (itself )?a recommendation|offers? no (such )?(advice|"
    r"recommendation)|stops short of (recommending|advising|urging|proposing)"
    r"|draws? no (explicit )?(lesson|recommendation|advice)|draws? no such advice"
    r"|does not (state|present|frame|offer|make) (this|it|that) as (a )?(recommendation|advice)"
    r"|without (saying|stating|putting) (so|it|this) as advice|not as advice)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_ABBREVIATIONS = re.compile(r"\b(U\.S|U\.N|D\.C|Mr|Dr|Gen|Adm|No|St)\.")


def period_end(value: str) -> date:
    """The last day a partial date can mean: a year-only claim is true by 31 December, not on 1 January."""
    d, precision = parse_partial_date(value)
    if precision == "year":
        return date(d.year, 12, 31)
    if precision == "month":
        return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
    return d


def reported_on(value: str, published: str) -> date:
    """When a passage can be taken to report a claim: the end of the claim's period, but never
    after the text that reports it was published."""
    return min(period_end(value), parse_partial_date(published)[0])


class SourceTexts:
    """The five texts, line by line as ``cat -n`` numbers them."""

    def __init__(self, cat: Catalog, sources_dir: Path) -> None:
        self.files = {s.id: s for s in cat.sources}
        self.lines = {
            s.id: (Path(sources_dir) / s.file).read_text(encoding="utf-8").splitlines() for s in cat.sources
        }

    def cited(self, c: Citation) -> str:
        return "\n".join(self.lines[c.source][c.line_start - 1 : c.line_end])

    def published(self, source_id: str) -> str:
        return self.files[source_id].published


_FOOTNOTE = re.compile(r"^\s*[\u2070\u00b9\u00b2\u00b3\u2074-\u2079]+")


def _years(text: str) -> set[int]:
    """Years the passage itself prints; a footnote's publication year dates the cited work, not the fact."""
    return {int(y) for line in text.splitlines() if not _FOOTNOTE.match(line) for y in _YEAR.findall(line)}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-\n", ""))


def dates_in_passages(cat: Catalog, texts: SourceTexts) -> list[str]:
    """A status or evidence date must be one its cited lines print (or, for a status, the date of the
    text that reports it as current). Anything else was taken from elsewhere."""
    problems = []
    for key, rec in cat.recommendations.items():
        s = rec.seeded_status
        if not s:
            continue
        year = parse_partial_date(s.as_of)[0].year
        printed = set().union(*(_years(texts.cited(c)) for c in s.citations))
        own = {parse_partial_date(texts.published(c.source))[0].year for c in s.citations}
        if year not in printed and year not in own:
            problems.append(
                f"recommendation {key!r}: seeded_status as_of {s.as_of} is not a year its cited lines "
                f"print ({sorted(printed) or 'none'}); date it to the passage or drop the status"
            )
    for key, ev in cat.evidence.items():
        if not ev.observed:
            continue
        year = parse_partial_date(ev.observed)[0].year
        printed = set().union(*(_years(texts.cited(c)) for c in ev.citations))
        if year not in printed:
            problems.append(
                f"evidence {key!r}: observed {ev.observed} appears nowhere in its cited lines "
                f"({sorted(printed) or 'no year printed'}); leave observed out (undated) or cite the date"
            )
    return problems


def events_dated_in_passages(cat: Catalog, texts: SourceTexts) -> list[str]:
    """A timeline event's year (and month, where one is given) must be printed in its cited lines,
    a footnote included (a dated readout of a call dates the call); the reporting text's own date is
    no stand-in for an event it calls recent."""
    problems = []
    for key, ev in cat.events.items():
        d, precision = parse_partial_date(ev.date)
        text = " ".join(texts.cited(c) for c in ev.citations)
        if str(d.year) not in {y for y in _YEAR.findall(text)}:
            problems.append(
                f"event {key!r}: {ev.date} is not a year its cited lines print; cite the line that dates it"
            )
        elif precision != "year" and not re.search(
            rf"\b({calendar.month_name[d.month]}|{calendar.month_abbr[d.month]}\.)", text
        ):
            problems.append(f"event {key!r}: the month of {ev.date} is not in its cited lines")
    return problems


def statuses_after_their_passage(cat: Catalog, texts: SourceTexts) -> list[str]:
    """No status may be reported as of a day before the passage could have reported it, and none may
    come before the record's own proposal (its creation as the loader dates it)."""
    problems = []
    claims: dict[str, list[tuple[date, str]]] = {}
    for key, rec in cat.recommendations.items():
        if rec.seeded_status:
            s = rec.seeded_status
            claims.setdefault(key, []).append(
                (reported_on(s.as_of, texts.published(s.citations[0].source)), key)
            )
    for key, ev in cat.evidence.items():
        if ev.status_claim and ev.observed:
            when = reported_on(ev.observed, texts.published(ev.citations[0].source))
            for r in ev.recommendations:
                claims.setdefault(r, []).append((when, key))
    for rkey, dated in claims.items():
        rec = cat.recommendations[rkey]
        src = rec.citations[0].source
        created = min([parse_partial_date(texts.published(src))[0]] + [d for d, _ in dated])
        for when, where in dated:
            if when < created:
                problems.append(
                    f"recommendation {rkey!r}: status from {where!r} dated {when} before {created}"
                )
        if rec.kind not in ("historical_proposal",):
            for when, where in dated:
                if when < parse_partial_date(texts.published(src))[0]:
                    problems.append(
                        f"recommendation {rkey!r}: {where!r} reports a status on {when}, before the source "
                        f"that makes the recommendation was written; only a historical proposal can be "
                        f"acted on before its source"
                    )
    return problems


def summaries_that_deny_advice(cat: Catalog) -> list[str]:
    """A recommendation whose own summary says the source gives no such advice is not one."""
    return [
        f"recommendation {key!r}: its summary says the source does not make it "
        f"({m.group(0)!r}); retype it as evidence, obstacle or context, or remove it"
        for key, rec in cat.recommendations.items()
        if (m := _DENIALS.search(f"{rec.title} {rec.summary}"))
    ]


def closest_window(sentence: list[str], passage: list[str]) -> float:
    """Best SequenceMatcher ratio of a sentence against every same-length stretch of a passage."""
    n = len(sentence)
    if n == 0 or not passage:
        return 0.0
    sm = difflib.SequenceMatcher(autojunk=False)
    sm.set_seq2(sentence)
    best = 0.0
    for i in range(max(1, len(passage) - n + 1)):
        window = passage[i : i + n]
        sm.set_seq1(window)
        if sm.real_quick_ratio() <= best or sm.quick_ratio() <= best:
            continue
        best = max(best, sm.ratio())
    return best


ALL_KINDS = ("recommendations", "obstacles", "institutions", "evidence", "events", "conflicts")


def _prose(cat: Catalog, kinds: tuple[str, ...]):
    for kind in (k for k in kinds if k != "conflicts"):
        for key, item in getattr(cat, kind).items():
            texts = [getattr(item, n, None) for n in ("summary",)]
            if kind == "recommendations" and item.seeded_status:
                texts.append(item.seeded_status.note)
            yield kind, key, [t for t in texts if t], item.citations
    if "conflicts" in kinds:  # each side is checked against the lines it cites
        for key, conflict in cat.conflicts.items():
            for side in conflict.sides:
                yield "conflicts", key, [side.says], side.citations


def summaries_too_close(
    cat: Catalog, texts: SourceTexts, limit: float = SIMILARITY_LIMIT, kinds: tuple[str, ...] = ALL_KINDS
) -> list[str]:
    """Paraphrase by substitution: a sentence whose words, in order, mostly match its cited lines."""
    problems = []
    for kind, key, prose, citations in _prose(cat, kinds):
        passage = [w for c in citations for w in _words(texts.cited(c))]
        for text in prose:
            for sentence in _SENTENCE.split(_ABBREVIATIONS.sub(lambda m: m.group(1), text)):
                words = _words(sentence)
                if len(words) < MIN_SENTENCE_WORDS:
                    continue
                ratio = closest_window(words, passage)
                if ratio >= limit:
                    problems.append(
                        f"{kind} {key!r}: a sentence is {ratio:.2f} similar to its cited lines "
                        f"(limit {limit}): {sentence[:90]!r}...; say it in your own words"
                    )
                    break
    return problems


def all_problems(cat: Catalog, sources_dir: Path) -> list[str]:
    texts = SourceTexts(cat, sources_dir)
    return (
        dates_in_passages(cat, texts)
        + events_dated_in_passages(cat, texts)
        + statuses_after_their_passage(cat, texts)
        + summaries_that_deny_advice(cat)
        + summaries_too_close(cat, texts)
    )


def main(argv: list[str]) -> int:
    seeds = Path(argv[1]) if len(argv) > 1 else Path("seeds")
    sources = Path(argv[2]) if len(argv) > 2 else Path("../shared/sources")
    problems = all_problems(load_catalog(seeds), sources)
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    print("reading ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
