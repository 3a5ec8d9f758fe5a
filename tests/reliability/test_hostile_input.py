"""Hostile input: fuzzing every parser and validator, and storing nasty text exactly.

The parsers and validators are fuzzed with Hypothesis: whatever they are given, they either
refuse it with the error their callers know how to show (``InvalidInput`` for the CSV import,
``ValidationError`` for the schemas, ``CatalogError`` for catalog files) or accept something
that obeys the schema, checked here by an oracle written independently of the schema code.

Text meant to attack a page, a query or a reader (script tags, SQL, bidi overrides,
zero-width characters, very long strings) must be stored exactly as given and come back out
unchanged through every write path (create, update, evidence, CSV import) and every export,
on SQLite and PostgreSQL; the HTML report must show it as text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import unicodedata
import uuid
from datetime import date, timedelta

import pytest
import yaml
from helpers import read_rec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlmodel import select

from models.catalog.checks import CatalogError, validate_file
from models.catalog.schema import CatalogFile
from models.rules.evidence_files import safe_filename, store_file
from models.rules.recommendations import attach_evidence, create_recommendation, update_recommendation
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.schemas import (
    BIDI_CONTROLS,
    EvidenceCreate,
    RecommendationCreate,
    RecommendationUpdate,
    UserCreate,
    single_line_problem,
)
from models.store.settings import Settings
from models.store.tables import AuditEvent, EvidenceFile, EvidenceItem, User
from models.store.vocabulary import STATUSES, Actor, Confidence, RecommendationKind, Theme
from models.trail.export_formats import Scope
from models.trail.exports import export
from models.trail.verify import verify_store
from models.workflow.csv_import import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    import_recommendations,
    parse_recommendations_csv,
)

FUZZ = settings(
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DB_FUZZ = settings(
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SQL = "'; DROP TABLE recommendation; --"
RTL = "\u202egnp.exe\u202c"  # right-to-left override: shows as "exe.png"
ZW = "zero\u200bwidth\u200cjoin\u200dbom\ufeffend"
HOSTILE = [
    SCRIPT,
    IMG,
    SQL,
    RTL,
    ZW,
    "Robert'); DROP TABLE auditevent;--",
    '" OR 1=1 -- ',
    "%s %(title)s {0} $1 ? :name",  # placeholder syntax of every driver
    '=HYPERLINK("http://example.invalid","x")',
    '<a href="javascript:alert(1)">click</a>',
    "**bold** _em_ [link](javascript:alert(1)) <b>tag</b> :red[x] $x^2$",
    "line one\nline two\r\nline three\rline four",
    "tab\tvertical\x0bformfeed\x0cbell\x07escape\x1b[31mred",
    "e\u0301 vs \u00e9 (NFD and NFC stay as given)",
    "emoji \U0001f469\u200d\U0001f469\u200d\U0001f467 and \U0001d54f astral",
    "..\\..\\windows\\system32 ../../etc/passwd",
    "\u0645\u0631\u062d\u0628\u0627 mixed \u05e9\u05dc\u05d5\u05dd bidi",
]
LONG_TITLE = ("<script>" + "\u202e" + "A" * 300)[:300]
LONG_SUMMARY = ("".join(HOSTILE) * 400)[:20_000]

KEY_RE = re.compile(r"[a-z0-9][a-z0-9-]{1,79}")
USERNAME_RE = re.compile(r"[A-Za-z0-9._@-]{2,80}")


# ------------------------------------------------------------------ oracles, independent of the schema code


def _clean(v: str, lo: int, hi: int) -> None:
    assert isinstance(v, str) and lo <= len(v) <= hi, (v, lo, hi)
    assert "\x00" not in v


# written out here rather than imported, so the oracle does not share the schema's mistakes
INVISIBLE = re.compile(
    r"[\s\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    r"\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
ONE_LINE_REFUSED = re.compile(r"[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(v: str) -> bool:
    return any(not INVISIBLE.fullmatch(ch) and unicodedata.category(ch)[0] not in "ZCM" for ch in v)


def _title_like(v: str) -> None:
    _clean(v, 1, 300)
    assert _visible(v), repr(v)  # not blank, nor only invisible characters
    assert not ONE_LINE_REFUSED.search(v), repr(v)  # one line, displayed in the order it is stored


def assert_valid_recommendation(r: RecommendationCreate) -> None:
    assert KEY_RE.fullmatch(r.key), r.key
    assert r.parent_key is None or KEY_RE.fullmatch(r.parent_key)
    _title_like(r.title)
    _title_like(r.owner)
    _clean(r.summary, 1, 20_000)
    assert r.theme in {t.value for t in Theme} and r.who_must_act in {a.value for a in Actor}
    assert r.kind in {k.value for k in RecommendationKind} and r.confidence in {c.value for c in Confidence}
    assert type(r.progress) is int and 0 <= r.progress <= 100
    assert type(r.owner_inferred) is bool
    assert r.target_date is None or (
        type(r.target_date) is date
        and date(2000, 1, 1) <= r.target_date <= date.today().replace(year=date.today().year + 31)
    )
    assert r.primary_source_id is None or "\x00" not in r.primary_source_id


def assert_valid_update(u: RecommendationUpdate) -> None:
    assert type(u.expected_version) is int and u.expected_version >= 1
    _clean(u.reason, 1, 4000)
    assert _visible(u.reason), repr(u.reason)
    assert u.status is None or u.status in STATUSES
    assert u.owner is None or _title_like(u.owner) is None
    assert u.progress is None or (type(u.progress) is int and 0 <= u.progress <= 100)
    assert u.target_date is None or type(u.target_date) is date


def assert_valid_evidence(e: EvidenceCreate) -> None:
    _title_like(e.title)
    _clean(e.summary, 0, 20_000)
    assert e.kind in ("file", "citation", "source_report")
    assert e.observed_on is None or (
        type(e.observed_on) is date and date(1800, 1, 1) <= e.observed_on <= date.today() + timedelta(days=1)
    )


def assert_valid_user(u: UserCreate) -> None:
    assert USERNAME_RE.fullmatch(u.username), u.username
    assert u.role in ("viewer", "editor", "auditor", "admin")
    _clean(u.display_name, 0, 200)
    assert not ONE_LINE_REFUSED.search(u.display_name)
    assert u.office is None or _title_like(u.office) is None
    assert u.email is None or _clean(u.email, 0, 254) is None


# ------------------------------------------------------------------ the CSV import parser

SETTINGS = Settings(upload_limit_mb=1, max_field_chars=20_000)


def _parse(data: bytes):
    """Parse, or return None for a refusal; any other exception fails the test."""
    try:
        rows = parse_recommendations_csv(data, settings=SETTINGS)
    except InvalidInput as e:
        assert str(e).startswith("nothing imported:"), str(e)
        return None
    assert rows, "a file that parses must yield rows"
    for line, item in rows:
        assert type(line) is int and line >= 2
        assert_valid_recommendation(item)
    return rows


@FUZZ
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_are_either_parsed_into_valid_rows_or_refused_with_invalid_input(data):
    _parse(data)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_a_valid_header_are_parsed_or_refused_with_invalid_input(data):
    _parse(",".join(REQUIRED_COLUMNS).encode() + b"\n" + data)


hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE),
    st.text(alphabet=",\"'\r\n \t\x00\ufeff\u202e\u200b\\", max_size=8),
)
VALID_CELLS = {
    "key": st.from_regex(r"[a-z0-9][a-z0-9-]{1,12}", fullmatch=True),
    "title": st.sampled_from(HOSTILE + ["A title"]),
    "summary": st.sampled_from(HOSTILE + [LONG_SUMMARY]),
    "theme": st.sampled_from([t.value for t in Theme]),
    "who_must_act": st.sampled_from([a.value for a in Actor]),
    "owner": st.sampled_from(HOSTILE + ["OSD Policy"]),
    "kind": st.sampled_from([k.value for k in RecommendationKind]),
    "confidence": st.sampled_from([c.value for c in Confidence]),
    "owner_inferred": st.sampled_from(["true", "false", "1", "0", "yes", "no"]),
    "target_date": st.dates().map(date.isoformat),
    "progress": st.integers(0, 100).map(str),
    "parent": st.just(""),
}


@st.composite
def csv_files(draw):
    optional = draw(st.lists(st.sampled_from(OPTIONAL_COLUMNS), unique=True))
    header = draw(st.permutations(list(REQUIRED_COLUMNS) + optional))
    if draw(st.integers(0, 9)) == 0:  # now and then a broken header: missing, unknown or repeated column
        header = draw(
            st.lists(
                st.sampled_from(header + ["bogus", "title", "key "]), min_size=1, max_size=len(header) + 2
            )
        )
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(VALID_CELLS.get(col.strip(), hostile_text)) for col in header]
        if row and draw(st.integers(0, 5)) == 0:  # one row in six gets one arbitrary cell
            row[draw(st.integers(0, len(row) - 1))] = draw(hostile_text)
        rows.append(row)
    out = io.StringIO(newline="")
    w = csv.writer(
        out,
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        lineterminator=draw(st.sampled_from(["\r\n", "\n"])),
    )
    w.writerow(header)
    w.writerows(rows)
    text = draw(st.sampled_from(["", "\ufeff"])) + out.getvalue()
    return header, rows, text


@FUZZ
@given(csv_files())
def test_csv_shaped_text_is_parsed_exactly_or_refused_with_invalid_input(f):
    header, rows, text = f
    parsed = _parse(text.encode("utf-8"))
    if parsed is None:
        return
    # accepted: the header was usable, every non-blank row is there once, and each holds its cells
    assert len(set(header)) == len(header), f"a header with a repeated column was accepted: {header}"
    non_blank = [r for r in rows if any(v.strip() for v in r)]
    assert len(parsed) == len(non_blank)
    for (_, item), cells in zip(parsed, non_blank):
        given_ = dict(zip(header, cells))
        assert item.key == given_["key"]
        assert item.summary == given_["summary"]
        for name in ("title", "owner"):
            assert getattr(item, name) in given_[name] and getattr(item, name).strip() == given_[name].strip()


def test_a_repeated_column_in_the_header_is_refused_not_silently_overwritten():
    data = (
        b"key,title,summary,theme,who_must_act,owner,title\n"
        b"rec-x,First title,s,counter_drug,us,OSD,Second title\n"
    )
    with pytest.raises(InvalidInput, match=r"header \(line 1\): repeated column\(s\): title"):
        parse_recommendations_csv(data, settings=SETTINGS)


# ------------------------------------------------------------------ the schemas

anything = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.text(max_size=30),
        st.sampled_from(HOSTILE),
        st.dates(),
        st.dates().map(date.isoformat),
        st.text(alphabet="\x00 \t\u200b\x1c", max_size=3),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@st.composite
def fields_of(draw, model, likely: dict):
    """Mostly plausible input (required fields present, likely values), then a few fields
    dropped, replaced by anything at all, or added."""
    data = {
        name: draw(likely[name])
        for name, f in model.model_fields.items()
        if name in likely and (f.is_required() or draw(st.booleans()))
    }
    for name in draw(st.lists(st.sampled_from([*model.model_fields, "unexpected"]), max_size=2, unique=True)):
        if draw(st.booleans()):
            data[name] = draw(anything)
        else:
            data.pop(name, None)
    return data


def _accepts(model, data):
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


@FUZZ
@given(
    fields_of(
        RecommendationCreate,
        {
            **VALID_CELLS,
            "parent_key": VALID_CELLS["key"],
            "progress": st.integers(-5, 105),
            "target_date": st.dates(),
            "owner_inferred": st.booleans(),
        },
    )
)
def test_recommendation_create_accepts_only_what_the_schema_allows(data):
    item = _accepts(RecommendationCreate, data)
    if item is not None:
        assert_valid_recommendation(item)


@FUZZ
@given(
    fields_of(
        RecommendationUpdate,
        {
            "expected_version": st.integers(-2, 5),
            "reason": hostile_text,
            "status": st.sampled_from(STATUSES + ("done", "")),
            "owner": hostile_text,
            "progress": st.integers(-5, 105),
            "target_date": st.dates(),
        },
    )
)
def test_recommendation_update_accepts_only_what_the_schema_allows(data):
    item = _accepts(RecommendationUpdate, data)
    if item is not None:
        assert_valid_update(item)


@FUZZ
@given(
    fields_of(
        EvidenceCreate,
        {
            "title": hostile_text,
            "summary": hostile_text,
            "observed_on": st.dates(),
            "kind": st.sampled_from(["file", "citation", "source_report", "file\n", "FILE"]),
        },
    )
)
def test_evidence_create_accepts_only_what_the_schema_allows(data):
    item = _accepts(EvidenceCreate, data)
    if item is not None:
        assert_valid_evidence(item)


@FUZZ
@given(
    fields_of(
        UserCreate,
        {
            "username": st.one_of(st.from_regex(r"[A-Za-z0-9._@-]{2,12}", fullmatch=True), hostile_text),
            "role": st.sampled_from(["viewer", "editor", "auditor", "admin", "system", "root"]),
            "display_name": hostile_text,
            "office": hostile_text,
            "email": hostile_text,
        },
    )
)
def test_user_create_accepts_only_what_the_schema_allows(data):
    item = _accepts(UserCreate, data)
    if item is not None:
        assert_valid_user(item)


@pytest.mark.parametrize(
    "model, data",
    [
        (UserCreate, {"username": "ann", "role": "viewer", "display_name": "Ann\x00"}),
        (UserCreate, {"username": "ann", "role": "viewer", "email": "ann\x00@example.org"}),
        (RecommendationUpdate, {"expected_version": 1, "reason": "\x1c\x1d"}),
    ],
)
def test_text_a_database_cannot_store_or_a_reader_cannot_see_is_refused(model, data):
    with pytest.raises(ValidationError):
        model.model_validate(data)


# ------------------------------------------------------------------ catalog files


def _validate_yaml(tmp_path, text: str):
    path = tmp_path / f"{uuid.uuid4().hex}.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        return validate_file(path, CatalogFile)
    except CatalogError as e:
        assert str(e).startswith(str(path)), str(e)  # names the file being edited
        return None
    finally:
        path.unlink()


CATALOG_NAMES = [
    "source",
    "coverage_note",
    "recommendations",
    "obstacles",
    "institutions",
    "evidence",
    "indicators",
    "events",
    "key",
    "title",
    "summary",
    "kind",
    "citations",
    "lines",
    "section",
    "values",
    "date",
]
yaml_data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(HOSTILE),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(CATALOG_NAMES), st.integers(), st.booleans(), st.text(max_size=5)),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_a_catalog_file_is_read_or_refused_with_a_catalog_error(tmp_path, text):
    _validate_yaml(tmp_path, text)


@FUZZ
@given(yaml_data)
def test_any_yaml_document_as_a_catalog_file_is_read_or_refused_with_a_catalog_error(tmp_path, data):
    _validate_yaml(tmp_path, yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("text", ["5: x\n", "true: 1\n", "[" * 3000, "{a: " * 3000])
def test_odd_catalog_files_are_refused_with_a_catalog_error(tmp_path, text):
    assert _validate_yaml(tmp_path, text) is None


# ------------------------------------------------------------------ evidence file names

path_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "/",
                "\\",
                ".",
                "..",
                " ",
                "\x00",
                ":",
                "\u202e",
                "\u200b",
                "C:",
                "~",
                "\n",
                "\u2215",
                "\uff0f",
                "etc",
                "passwd",
                ".txt",
            ]
        ),
        st.characters(),
    ),
    max_size=20,
).map("".join)


@FUZZ
@given(st.one_of(st.text(), path_text))
def test_safe_filename_never_returns_a_path_that_could_climb_or_hide(name):
    try:
        clean = safe_filename(name)
    except InvalidInput as e:
        assert "file name is empty" in str(e)
        return
    assert clean and 1 <= len(clean) <= 200
    assert "/" not in clean and "\\" not in clean and "\x00" not in clean
    assert clean not in (".", "..") and not clean.startswith(".")
    assert all(ch.isprintable() for ch in clean)


# ------------------------------------------------------------------ hostile text stored exactly, both databases


def _users(session) -> tuple[User, User]:
    return (
        session.exec(select(User).where(User.username == "ed")).one(),
        session.exec(select(User).where(User.username == "aud")).one(),
    )


def _rec_data(key: str, title: str, summary: str, owner: str) -> RecommendationCreate:
    return RecommendationCreate(
        key=key, title=title, summary=summary, theme="counter_drug", who_must_act="us", owner=owner
    )


def one_line(text: str) -> str:
    """The text with what one-line fields refuse (controls, line breaks, bidi overrides) taken out;
    what those fields do with such text is tested in tests/test_hostile_text.py."""
    return "".join(ch for ch in text if single_line_problem(ch) is None)


@pytest.mark.parametrize("text", HOSTILE + [LONG_TITLE], ids=lambda t: repr(t[:20]))
def test_hostile_text_is_stored_exactly_through_create_update_and_evidence(engine, users, text):
    title = one_line(text[:300]).strip()
    with write_session(engine) as s:
        ed, _ = _users(s)
        create_recommendation(s, data=_rec_data("rec-h", title, text, title), actor=ed, reason=text)
    assert (read_rec(engine, "rec-h").title, read_rec(engine, "rec-h").summary) == (title, text)

    with write_session(engine) as s:
        ed, _ = _users(s)
        update_recommendation(
            s,
            key="rec-h",
            actor=ed,
            change=RecommendationUpdate(
                expected_version=1, owner=title[:280] + " (acting)", reason=text[:4000].strip() or "x"
            ),
        )
    stored = read_rec(engine, "rec-h")
    assert (stored.owner, stored.version) == (title[:280] + " (acting)", 2)

    file = store_file(io.BytesIO(text.encode("utf-8")), f"{text[:60]}.txt")
    assert file["filename"] == safe_filename(f"{text[:60]}.txt")
    with write_session(engine) as s:
        ed, _ = _users(s)
        attach_evidence(
            s,
            keys=["rec-h"],
            evidence=EvidenceCreate(title=title, summary=text),
            actor=ed,
            reason=text,
            files=[file],
        )
    with read_session(engine) as s:
        item = s.exec(select(EvidenceItem)).one()
        assert (item.title, item.summary) == (title, text)
        assert s.exec(select(EvidenceFile.filename)).one() == file["filename"]
        events = s.exec(
            select(AuditEvent).where(AuditEvent.record_type != "user").order_by(AuditEvent.seq)
        ).all()
        assert [e.reason for e in events] == [text, text[:4000].strip() or "x", text]
        assert (
            json.loads(events[0].after)["title"] == title and json.loads(events[0].after)["summary"] == text
        )
        assert json.loads(events[2].after)["title"] == title
        report = verify_store(s)
    assert report.ok, report.summary()


def _csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.DictWriter(out, fieldnames=["key", "title", "summary", "theme", "who_must_act", "owner"])
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def test_hostile_text_survives_csv_import_and_every_export(engine, users, tmp_path):
    texts = HOSTILE + [LONG_TITLE]
    rows = [
        {
            "key": f"rec-{i:02d}",
            "title": one_line(t[:300]).strip(),
            "summary": t if i else LONG_SUMMARY,
            "theme": "counter_drug",
            "who_must_act": "us",
            "owner": one_line(t[:300]).strip(),
        }
        for i, t in enumerate(texts)
    ]
    parsed = parse_recommendations_csv(_csv_bytes(rows))
    with write_session(engine) as s:
        ed, _ = _users(s)
        import_recommendations(s, rows=parsed, actor=ed, filename="hostile.csv")
    for r in rows:
        stored = read_rec(engine, r["key"])
        assert (stored.title, stored.summary, stored.owner) == (r["title"], r["summary"], r["owner"])

    with read_session(engine) as s:
        _, aud = _users(s)
    out = {
        fmt: export(engine, fmt=fmt, scope=Scope(), actor=aud, out_path=tmp_path / f"trail.{fmt}")
        for fmt in ("jsonl", "csv", "html")
    }

    with open(out["jsonl"].path, encoding="utf-8") as fh:
        jsonl = [json.loads(line) for line in fh]
    with open(out["csv"].path, encoding="utf-8", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    for exported in (jsonl, csv_rows):
        created = {e["record_key"]: json.loads(e["after"]) for e in exported if e["action"] == "create"}
        assert {k: (v["title"], v["summary"], v["owner"]) for k, v in created.items()} == {
            r["key"]: (r["title"], r["summary"], r["owner"]) for r in rows
        }

    report = out["html"].path.read_bytes().decode("utf-8")  # as written: no newline translation
    for r in rows:
        assert html.escape(r["title"]) in report and html.escape(r["owner"]) in report
    assert (
        "<script" not in report.lower() and "<img" not in report.lower() and "<a href" not in report.lower()
    )
    with read_session(engine) as s:
        assert verify_store(s).ok


# Drawn from what the fields accept (one-line fields take no controls, line breaks or bidi
# overrides; no field takes NUL), so nearly every example reaches the store; the refusals
# themselves are tested in tests/test_hostile_text.py.
ONE_LINE_TEXT = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=BIDI_CONTROLS)
ANY_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")


@DB_FUZZ
@given(
    title=st.text(ONE_LINE_TEXT, min_size=1, max_size=300),
    summary=st.text(ANY_TEXT, min_size=1, max_size=2000),
    owner=st.one_of(st.sampled_from(HOSTILE), st.text(ONE_LINE_TEXT, min_size=1, max_size=300)),
)
def test_whatever_the_schema_accepts_is_stored_and_read_back_exactly(engine, users, title, summary, owner):
    try:
        data = _rec_data(f"rec-{uuid.uuid4().hex[:12]}", title, summary, owner)
    except ValidationError:
        assume(False)
    with write_session(engine) as s:
        ed, _ = _users(s)
        create_recommendation(s, data=data, actor=ed, reason="fuzz")
    stored = read_rec(engine, data.key)
    assert (stored.title, stored.summary, stored.owner) == (data.title, data.summary, data.owner)
