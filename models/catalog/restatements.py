"""Near-duplicate recommendations: pairs whose title and summary share most of their words.

seeds/README.md promises that a later source repeating earlier advice is cross-referenced, not
silently doubled; without a check, a new file can add the same advice under a fresh key and the
dashboard counts it twice. Each pair above the threshold must be settled by a person: one summary
names the other key, one is the other's parent, or ``seeds/restatements.yaml`` lists the pair as
different with a reason.

Run ``python -m models.catalog.restatements [SEEDS_DIR] [N]`` to print the N closest pairs.
"""

from __future__ import annotations

import re
import sys
from itertools import combinations
from pathlib import Path

import yaml

from models.catalog.checks import Catalog, load_catalog
from models.catalog.schema import RecommendationSeed

THRESHOLD = 0.15  # Jaccard over content-word stems; every pair above it was read against the sources

_STOP = frozenset(
    """a an and are as at be been by for from has have in into is it its of on or that the their
    this to was were which with who will would should must can could may more most other than
    not no such also through between both each one two three new use used using make makes made
    they them these those so if but all any our we he she his her than then there where when how
    what about over under up down out only own same very just u s us""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> frozenset[str]:
    """Stems cut to six letters, so "trains", "training" and "trained" count as one word."""
    return frozenset(w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2)


def similarity(a: RecommendationSeed, b: RecommendationSeed) -> float:
    wa = content_words(f"{a.title} {a.summary}")
    wb = content_words(f"{b.title} {b.summary}")
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


def close_pairs(cat: Catalog, threshold: float = THRESHOLD) -> list[tuple[float, str, str]]:
    """Pairs at or above ``threshold``, closest first, each pair's keys in sorted order."""
    out = []
    for ka, kb in combinations(sorted(cat.recommendations), 2):
        score = similarity(cat.recommendations[ka], cat.recommendations[kb])
        if score >= threshold:
            out.append((score, ka, kb))
    return sorted(out, key=lambda t: (-t[0], t[1], t[2]))


def settled(cat: Catalog, ka: str, kb: str, different: set[frozenset[str]]) -> bool:
    a, b = cat.recommendations[ka], cat.recommendations[kb]
    return (
        kb in a.summary
        or ka in b.summary
        or a.parent == kb
        or b.parent == ka
        or frozenset((ka, kb)) in different
    )


def read_allow_list(seeds_dir: Path) -> dict[frozenset[str], str]:
    """``seeds/restatements.yaml``: pairs a reader found to be different advice, with why."""
    path = seeds_dir / "restatements.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    return {frozenset(d["pair"]): d["why"] for d in (data or {}).get("different", [])}


def unsettled_pairs(cat: Catalog, seeds_dir: Path, threshold: float = THRESHOLD) -> list[str]:
    different = set(read_allow_list(seeds_dir))
    return [
        f"{ka} / {kb} ({score:.2f}): name the earlier key in the later summary, set a parent, "
        f"or list the pair under 'different' in {seeds_dir / 'restatements.yaml'}"
        for score, ka, kb in close_pairs(cat, threshold)
        if not settled(cat, ka, kb, different)
    ]


def main(argv: list[str]) -> int:
    seeds = Path(argv[0]) if argv else Path("seeds")
    top = int(argv[1]) if len(argv) > 1 else 25
    cat = load_catalog(seeds)
    for score, ka, kb in close_pairs(cat, 0.0)[:top]:
        mark = "ok" if settled(cat, ka, kb, set(read_allow_list(seeds))) else "--"
        print(f"{score:.3f} {mark} {ka}  {kb}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
