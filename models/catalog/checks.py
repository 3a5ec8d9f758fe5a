"""Reading the whole catalog and checking what no single file can check alone.

A catalog error must name the file, the record and the field, because the people who fix it
are editing YAML by hand. Checks that need the source texts (line ranges exist, no sentence
copied) run only where the source library is present.

Run ``python -m models.catalog.checks [SEEDS_DIR] [SOURCES_DIR]`` to check a catalog by hand.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from models.catalog.offices import unknown_owner
from models.catalog.schema import (
    CatalogFile,
    Citation,
    ConflictSeed,
    ConflictsFile,
    EventSeed,
    EvidenceSeed,
    IndicatorSeed,
    InstitutionSeed,
    ObstacleSeed,
    OfficeSeed,
    OfficesFile,
    PriorityFile,
    PrioritySeed,
    RecommendationSeed,
    SourceSeed,
    SourcesFile,
)


class CatalogError(ValueError):
    """A catalog problem, worded for the person editing the file."""


def _describe_loc(data: Any, loc: tuple) -> str:
    """``recommendations[3] (key 'x') field 'title'`` from a pydantic error location."""
    parts: list[str] = []
    node = data
    for i, step in enumerate(loc):
        if isinstance(step, int) and parts:
            parts[-1] = f"{parts[-1]}[{step}]"
            try:
                node = node[step]
                if isinstance(node, dict) and "key" in node and i < len(loc) - 1:
                    parts[-1] += f" (key {node['key']!r})"
            except (IndexError, KeyError, TypeError):
                node = None
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    if not parts:
        return "file"
    record, *fields = parts
    return f"{record} field {'.'.join(fields)!r}" if fields else f"field {record!r}"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise CatalogError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise CatalogError(f"{path}: not valid YAML{where}: {getattr(e, 'problem', e)}") from None
    except RecursionError:
        raise CatalogError(
            f"{path}: nested too deeply to read; a catalog file needs only a few levels"
        ) from None


_Model = TypeVar("_Model", bound=BaseModel)


def validate_file(path: Path, model: type[_Model]) -> _Model:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        shown = [_explain(data, err, model) for err in errors[:3]]
        more = f" (and {len(errors) - 3} more problems)" if len(errors) > 3 else ""
        raise CatalogError(f"{path}: " + "; ".join(shown) + more) from None


def _explain(data: Any, err: ErrorDetails, model: type[BaseModel]) -> str:
    """One problem, with a 'did you mean' for a misspelt field name."""
    text = f"{_describe_loc(data, tuple(err['loc']))}: {err['msg']}"
    if err["type"] == "extra_forbidden":
        import difflib

        names = {
            n
            for m in (
                CatalogFile,
                RecommendationSeed,
                ObstacleSeed,
                InstitutionSeed,
                EvidenceSeed,
                IndicatorSeed,
                EventSeed,
                SourceSeed,
            )
            for n in m.model_fields
        }
        guess = difflib.get_close_matches(str(err["loc"][-1]), sorted(names), n=1)
        if guess:
            text += f" (did you mean {guess[0]!r}?)"
    return text


@dataclass
class Catalog:
    sources: list[SourceSeed]
    recommendations: dict[str, RecommendationSeed] = field(default_factory=dict)
    obstacles: dict[str, ObstacleSeed] = field(default_factory=dict)
    institutions: dict[str, InstitutionSeed] = field(default_factory=dict)
    evidence: dict[str, EvidenceSeed] = field(default_factory=dict)
    indicators: dict[str, IndicatorSeed] = field(default_factory=dict)
    events: dict[str, EventSeed] = field(default_factory=dict)
    coverage_notes: dict[str, str] = field(default_factory=dict)
    priority: dict[str, PrioritySeed] = field(default_factory=dict)  # seeds/priority.yaml, by key
    conflicts: dict[str, ConflictSeed] = field(default_factory=dict)  # seeds/conflicts.yaml, by key
    offices: dict[str, OfficeSeed] = field(default_factory=dict)  # seeds/offices.yaml, by key
    origin: dict[tuple[str, str], Path] = field(default_factory=dict)

    def all_citations(self):
        for kind in ("recommendations", "obstacles", "institutions", "evidence", "events"):
            for key, item in getattr(self, kind).items():
                for c in item.citations:
                    yield kind, key, c
        for key, rec in self.recommendations.items():
            if rec.seeded_status:
                for c in rec.seeded_status.citations:
                    yield "recommendations", key, c
        for key, ind in self.indicators.items():
            for v in ind.values:
                yield "indicators", key, v.citation
        for key, p in self.priority.items():
            yield "priority", key, p.citation
        for key, conflict in self.conflicts.items():
            for side in conflict.sides:
                for c in side.citations:
                    yield "conflicts", key, c


def _merge_shared(existing: Any, new: Any, agree: tuple[str, ...], where: str) -> BaseModel:
    """Obstacles, institutions and indicators may be defined by several files under one key."""
    for name in agree:
        if getattr(existing, name) != getattr(new, name):
            raise CatalogError(
                f"{where}: key {new.key!r} is defined elsewhere with {name} "
                f"{getattr(existing, name)!r}, here {getattr(new, name)!r}; make them agree"
            )
    update: dict[str, Any] = {}
    if hasattr(new, "citations"):
        merged = list(existing.citations)
        merged += [c for c in new.citations if c not in merged]
        update["citations"] = merged
    if hasattr(new, "values"):
        update["values"] = list(existing.values) + list(new.values)
    if hasattr(new, "recommendations"):
        update["recommendations"] = sorted(set(existing.recommendations) | set(new.recommendations))
    for name in ("summary", "description", "acronym"):
        if hasattr(new, name) and not getattr(existing, name) and getattr(new, name):
            update[name] = getattr(new, name)
    return existing.model_copy(update=update)


def load_catalog(seeds_dir: Path, only: list[Path] | None = None, check_refs: bool = True) -> Catalog:
    """Validate every file, merge them, and check that every key a record names exists.

    ``only`` limits the load to some files (an editor checking the file they are writing);
    ``check_refs=False`` then lets keys defined in other files go unresolved.
    """
    seeds_dir = Path(seeds_dir)
    sources_file = validate_file(seeds_dir / "sources.yaml", SourcesFile)
    cat = Catalog(sources=sources_file.sources)
    files = only if only is not None else sorted((seeds_dir / "catalog").glob("*.yaml"))
    shared = {
        "obstacles": ("title", "category", "side"),
        "institutions": ("name", "kind", "country"),
        "indicators": ("name", "unit", "country", "parent"),
    }
    for path in files:
        cf: CatalogFile = validate_file(path, CatalogFile)
        if cf.source and cf.coverage_note:
            cat.coverage_notes[cf.source] = cf.coverage_note
        for kind in ("recommendations", "evidence", "events"):
            store = getattr(cat, kind)
            for item in getattr(cf, kind):
                if item.key in store:
                    raise CatalogError(
                        f"{path}: {kind} key {item.key!r} is already defined in "
                        f"{cat.origin[(kind, item.key)]}; keys must be unique"
                    )
                store[item.key] = item
                cat.origin[(kind, item.key)] = path
        for kind, agree in shared.items():
            store = getattr(cat, kind)
            for item in getattr(cf, kind):
                if item.key in store:
                    store[item.key] = _merge_shared(store[item.key], item, agree, str(path))
                else:
                    store[item.key] = item
                    cat.origin[(kind, item.key)] = path
    priority_file = seeds_dir / "priority.yaml"
    if only is None and priority_file.exists():
        pf: PriorityFile = validate_file(priority_file, PriorityFile)
        for item in pf.priority:
            cat.priority[item.key] = item
            cat.origin[("priority", item.key)] = priority_file
    conflicts_file = seeds_dir / "conflicts.yaml"
    if only is None and conflicts_file.exists():
        xf: ConflictsFile = validate_file(conflicts_file, ConflictsFile)
        for item in xf.conflicts:
            if item.key in cat.conflicts:
                raise CatalogError(f"{conflicts_file}: conflict key {item.key!r} appears twice")
            cat.conflicts[item.key] = item
            cat.origin[("conflicts", item.key)] = conflicts_file
    offices_file = seeds_dir / "offices.yaml"
    if only is None and offices_file.exists():
        of: OfficesFile = validate_file(offices_file, OfficesFile)
        cat.offices = {o.key: o for o in of.offices}
    if check_refs:
        _check_references(cat)
        if problem := unknown_owner(cat):
            raise CatalogError(problem)
    return cat


def _check_references(cat: Catalog) -> None:
    def missing(kind: str, key: str, field_name: str, target: str, ref: str) -> CatalogError:
        return CatalogError(
            f"{cat.origin[(kind, key)]}: {kind} (key {key!r}) field {field_name!r}: "
            f"no {target} has key {ref!r}"
        )

    for key, rec in cat.recommendations.items():
        if rec.parent and rec.parent not in cat.recommendations:
            raise missing("recommendations", key, "parent", "recommendation", rec.parent)
        for o in rec.obstacles:
            if o not in cat.obstacles:
                raise missing("recommendations", key, "obstacles", "obstacle", o)
        for i in rec.institutions:
            if i not in cat.institutions:
                raise missing("recommendations", key, "institutions", "institution", i)
    for key, ev in cat.evidence.items():
        for r in ev.recommendations:
            if r not in cat.recommendations:
                raise missing("evidence", key, "recommendations", "recommendation", r)
    for key in cat.priority:
        if key not in cat.recommendations:
            raise CatalogError(
                f"{cat.origin[('priority', key)]}: priority (key {key!r}) field 'key': "
                f"no recommendation has key {key!r}"
            )
    for key, inst in cat.institutions.items():
        for r in inst.recommendations:
            if r not in cat.recommendations:
                raise missing("institutions", key, "recommendations", "recommendation", r)
    kinds = ("recommendations", "obstacles", "institutions", "evidence", "events", "indicators")
    known = {k for kind in kinds for k in getattr(cat, kind)}
    for key, conflict in cat.conflicts.items():
        for r in conflict.records:
            if r not in known:
                raise missing("conflicts", key, "records", "catalog record", r)
    for key, ind in cat.indicators.items():
        if ind.parent and ind.parent not in cat.indicators:
            raise missing("indicators", key, "parent", "indicator", ind.parent)
    # parents must not form a cycle
    for key in cat.recommendations:
        seen: set[str] = set()
        cur: str | None = key
        while cur:
            if cur in seen:
                raise CatalogError(f"recommendation {key!r}: parent chain loops back on itself")
            seen.add(cur)
            cur = cat.recommendations[cur].parent


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("-\n", ""))


def check_against_sources(cat: Catalog, sources_dir: Path, copy_window: int = 8) -> list[str]:
    """Problems found against the texts: citations past the end, and copied runs of words.

    A run of ``copy_window`` words shared with the cited source counts as copying; names and
    figures are shorter than that.
    """
    problems: list[str] = []
    lines_by_source: dict[str, list[str]] = {}
    shingles: dict[str, set[tuple[str, ...]]] = {}
    for s in cat.sources:
        path = Path(sources_dir) / s.file
        if not path.exists():
            problems.append(f"source {s.id}: file {path} is missing")
            continue
        text = path.read_text(encoding="utf-8")
        lines_by_source[s.id] = text.splitlines()
        w = _words(text)
        shingles[s.id] = {tuple(w[i : i + copy_window]) for i in range(len(w) - copy_window + 1)}

    for kind, key, c in cat.all_citations():
        n = len(lines_by_source.get(c.source, []))
        if c.source in lines_by_source and c.line_end > n:
            problems.append(f"{kind} {key!r}: citation {c.source} lines {c.lines} past the end ({n} lines)")

    def prose(item: BaseModel) -> list[str]:
        # an institution's proper name carries over from the texts like a figure does
        out = []
        for name in ("title", "summary", "note", "description"):
            v = getattr(item, name, None)
            if isinstance(v, str):
                out.append(v)
        return out

    all_shingles = set().union(*shingles.values()) if shingles else set()
    for kind in ("recommendations", "obstacles", "institutions", "evidence", "events", "indicators"):
        for key, item in getattr(cat, kind).items():
            texts = prose(item)
            if isinstance(item, RecommendationSeed) and item.seeded_status:
                texts.append(item.seeded_status.note)
            if isinstance(item, IndicatorSeed):
                texts += [v.note or "" for v in item.values] + [v.conflict_note or "" for v in item.values]
            for t in texts:
                w = _words(t)
                for i in range(len(w) - copy_window + 1):
                    if tuple(w[i : i + copy_window]) in all_shingles:
                        problems.append(
                            f"{kind} {key!r}: copies the source word for word: "
                            f'"{" ".join(w[i : i + copy_window])}"; say it in your own words'
                        )
                        break
    own_words: list[tuple[str, str, tuple[str, ...]]]
    own_words = [("priority", k, (p.reason, p.close_plan or "")) for k, p in cat.priority.items()]
    own_words += [
        ("conflict", k, (x.topic, x.note, *(side.says for side in x.sides))) for k, x in cat.conflicts.items()
    ]
    for what, key, texts_ in own_words:
        for t in texts_:
            w = _words(t)
            for i in range(len(w) - copy_window + 1):
                if tuple(w[i : i + copy_window]) in all_shingles:
                    problems.append(
                        f"{what} {key!r}: copies the source word for word: "
                        f'"{" ".join(w[i : i + copy_window])}"; say it in your own words'
                    )
                    break
    for key, text in cat.coverage_notes.items():
        w = _words(text)
        if any(tuple(w[i : i + copy_window]) in all_shingles for i in range(len(w) - copy_window + 1)):
            problems.append(f"coverage note of {key}: copies the source word for word")
    return problems


def cited_lines(sources_dir: Path, source_file: str, c: Citation) -> list[str]:
    path = Path(sources_dir) / source_file
    lines = path.read_text(encoding="utf-8").splitlines()
    return lines[c.line_start - 1 : c.line_end]


def main(argv: list[str]) -> int:
    """``[SEEDS_DIR [SOURCES_DIR]] [--file ONE.yaml]``: --file checks one file on its own."""
    only = None
    if "--file" in argv:
        i = argv.index("--file")
        only = [Path(argv[i + 1])]
        argv = argv[:i] + argv[i + 2 :]
    seeds = Path(argv[1]) if len(argv) > 1 else Path("seeds")
    sources = Path(argv[2]) if len(argv) > 2 else Path("../shared/sources")
    try:
        cat = load_catalog(seeds, only=only, check_refs=only is None)
    except CatalogError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    problems = check_against_sources(cat, sources) if sources.exists() else []
    for p in problems:
        print(f"problem: {p}", file=sys.stderr)
    counts = {
        k: len(getattr(cat, k))
        for k in ("recommendations", "obstacles", "institutions", "evidence", "indicators", "events")
    }
    counts["priority"] = len(cat.priority)
    counts["indicator_values"] = sum(len(i.values) for i in cat.indicators.values())
    print("catalog ok" if not problems else f"{len(problems)} problems", counts)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
