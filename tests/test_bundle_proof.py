"""Bundles that prove themselves (issue 12, part 3): a signed manifest, every file tied to the hashed
events, a zip read without trusting it, and the auditor's page comparing a bundle with the live
chain. Each attack from the issue is a test; the bundle the store exported verifies cleanly."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest
from helpers import small_trail
from sqlmodel import select
from typer.testing import CliRunner

from models.store.db import read_session
from models.store.settings import get_settings
from models.store.tables import User
from models.trail.bundle_files import Derived
from models.trail.bundle_verify import verify_against_store, verify_bundle
from models.trail.chain import GENESIS, content_bytes, iso
from models.trail.export_formats import BUNDLE_FORMAT, COLUMNS
from models.trail.exports import export
from models.trail.keys import fingerprint, installation_key, public_pem, sign


@pytest.fixture
def bundle(engine, users, tmp_path) -> Path:
    small_trail(engine)
    with read_session(engine) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    return export(engine, fmt="bundle", scope=_whole(), actor=aud, out_path=tmp_path / "b.zip").path


def _whole():
    from models.trail.export_formats import Scope

    return Scope()


def trusted():
    return installation_key().public_key()


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def signature_for(manifest: bytes, key=None) -> bytes:
    key = key or installation_key()
    sig, fp = sign(manifest, key)
    return json.dumps(
        {
            "format": "rectrack-signature/1",
            "key_fingerprint": fp,
            "public_key": public_pem(key.public_key()),
            "signature": sig,
        }
    ).encode()


def rebuilt(src: Path, out: Path, changes: dict[str, bytes], *, resign: bool) -> Path:
    """``src`` with files replaced and the manifest re-hashed to match; re-signed with the
    installation key (an attacker who has it: the regeneration checks must still object) or with
    the old signature left in place (one who has not)."""
    files = entries(src)
    files.update(changes)
    manifest = json.loads(files["manifest.json"])
    for name, data in changes.items():
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    body = json.dumps(manifest, indent=2).encode()
    files["manifest.json"] = body
    files["manifest.sha256"] = f"{hashlib.sha256(body).hexdigest()}  manifest.json\n".encode()
    if resign:
        files["manifest.sig"] = signature_for(body)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def test_an_exported_bundle_proves_itself_with_the_installation_key(bundle):
    report = verify_bundle(bundle, trusted_key=trusted())
    assert report.ok, report.problems
    assert report.authentic and report.signer == fingerprint(trusted())
    assert report.regenerated == ["events.csv", "recommendations.jsonl", "report.html"]
    assert report.evidence_checked == 1 and report.not_covered == []
    assert verify_bundle(bundle, trusted_fingerprint=fingerprint(trusted()).upper()).authentic


def test_without_a_key_the_verdict_says_authenticity_was_not_checked(bundle):
    report = verify_bundle(bundle)
    assert report.ok and not report.authentic
    assert report.authenticity().startswith(f"authenticity NOT checked: signed by key {report.signer}")


def test_recommendations_jsonl_is_what_the_events_imply_and_an_untouched_store_holds(bundle, engine):
    from models.store.tables import Recommendation

    lines = [json.loads(x) for x in entries(bundle)["recommendations.jsonl"].splitlines()]
    with read_session(engine) as s:
        rows = s.exec(select(Recommendation).order_by(Recommendation.key)).all()
        assert [(r["key"], r["status"], r["owner"], r["version"], r["title"]) for r in lines] == [
            (r.key, r.status, r.owner, r.version, r.title) for r in rows
        ]
    assert [r["status"] for r in lines] == ["implemented", "under_review"]


@pytest.mark.parametrize(
    "name, old, new",
    [
        ("recommendations.jsonl", b'"under_review"', b'"implemented"'),
        ("events.csv", b"moved", b"moved on the minister's order"),
        ("report.html", b"evidence trail report", b"evidence trail report: all closed"),
    ],
)
def test_a_file_edited_with_the_manifest_rehashed_is_named(bundle, tmp_path, name, old, new):
    edited = entries(bundle)[name].replace(old, new)
    unsigned = verify_bundle(rebuilt(bundle, tmp_path / "x.zip", {name: edited}, resign=False))
    assert unsigned.problems == [
        "manifest.json's signature does not verify: the manifest was changed after it was signed",
        f"{name}: differs from the file its events regenerate: it was edited after export",
    ]
    signed = verify_bundle(
        rebuilt(bundle, tmp_path / "y.zip", {name: edited}, resign=True), trusted_key=trusted()
    )
    assert signed.problems == [
        f"{name}: differs from the file its events regenerate: it was edited after export"
    ]


def test_evidence_content_replaced_with_the_manifest_rehashed_is_named(bundle, tmp_path):
    [name] = [n for n in entries(bundle) if n.startswith("evidence/")]
    forged = rebuilt(bundle, tmp_path / "x.zip", {name: b"minutes that say otherwise"}, resign=True)
    assert verify_bundle(forged, trusted_key=trusted()).problems == [
        f"{name}: its content does not hash to the SHA-256 its evidence event recorded: it was replaced"
    ]


def forged_from_nothing(out: Path, key=None) -> Path:
    """Three events with correct hashes and every derived file made by the exporter's own code: all
    a forger without the installation key can do."""
    events, prev = [], GENESIS
    for seq, (action, rkey) in enumerate(
        [("create", "rec-x"), ("status_change", "rec-x"), ("export", "bundle")], 1
    ):
        at = iso(__import__("datetime").datetime(2026, 1, seq, tzinfo=__import__("datetime").UTC))
        after = (
            json.dumps({"title": "Forged", "owner": "Nobody", "version": seq}) if rkey == "rec-x" else None
        )
        values = [
            seq,
            at,
            at,
            "mallory",
            action,
            "recommendation",
            rkey,
            None,
            "implemented",
            None,
            after,
            "x",
            prev,
        ]
        prev = hashlib.sha256(content_bytes(values)).hexdigest()
        events.append(dict(zip(COLUMNS, [*values, prev])))
    manifest = {
        "format": BUNDLE_FORMAT,
        "exported_at": "2026-01-03T00:00:00.000000+00:00",
        "exporter": "mallory",
        "scope": {"keys": [], "owner": None, "since": None, "until": None},
        "chain_head": {"seq": 3, "hash": prev},
        "events_included": 3,
        "banner": "UNCLASSIFIED",
        "derived": [],
        "files": {},
    }
    files = {
        "events.jsonl": "".join(
            json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in events
        )
    }
    csv_out, recs, report = io.StringIO(newline=""), io.StringIO(newline=""), io.StringIO(newline="")
    derived = Derived(csv_out)
    for e in events:
        derived.add(e)
    derived.write_recommendations(recs)
    derived.write_report(report, manifest)
    files.update(
        {"events.csv": csv_out.getvalue(), "chain.jsonl": "", "recommendations.jsonl": recs.getvalue()}
    )
    files["report.html"] = report.getvalue()
    data = {n: v.encode() for n, v in files.items()}
    manifest["files"] = {
        n: {"sha256": hashlib.sha256(v).hexdigest(), "bytes": len(v)} for n, v in data.items()
    }
    body = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", body)
        if key is not None:
            zf.writestr("manifest.sig", signature_for(body, key))
        for n, v in data.items():
            zf.writestr(n, v)
    return out


def test_a_three_event_bundle_forged_from_nothing_fails(bundle, engine, tmp_path):
    assert verify_bundle(forged_from_nothing(tmp_path / "f.zip")).problems == [
        "the bundle carries no signature (manifest.sig): anyone could have written it"
    ]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    own = forged_from_nothing(tmp_path / "g.zip", key=Ed25519PrivateKey.generate())
    offline = verify_bundle(own)
    assert offline.ok and not offline.authentic, "consistent, but only under the forger's own key"
    assert (
        verify_bundle(own, trusted_key=trusted())
        .problems[0]
        .endswith("it was not exported by that installation")
    )
    with read_session(engine) as s:
        page = verify_against_store(s, own)
    assert "it was not exported by that installation" in page.problems[0]
    assert "event 1 of the bundle differs from the live store's event 1" in page.problems


def test_the_auditors_page_compares_a_bundle_with_the_live_chain(bundle, engine):
    with read_session(engine) as s:
        report = verify_against_store(s, bundle)
    assert report.ok and report.authentic and report.live_events == 17, report.problems
    from test_checkpoints import rehash_from, sql

    sql(engine, "UPDATE auditevent SET reason = 'rewritten' WHERE seq = 16")
    rehash_from(engine, 16)
    with read_session(engine) as s:
        report = verify_against_store(s, bundle)
    assert report.problems == [
        "event 16 of the bundle differs from the live store's event 16",
        "event 17 of the bundle differs from the live store's event 17",
    ]


def zip_of(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


def test_a_symlink_entry_is_refused(bundle, tmp_path):
    link = zipfile.ZipInfo("evidence/passwd")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = zip_of(tmp_path / "l.zip", [*entries(bundle).items(), (link, b"/etc/passwd")])
    assert verify_bundle(bad).problems == ["zip entry 'evidence/passwd' is a symbolic link: refused"]


@pytest.mark.parametrize(
    "name, why",
    [
        ("/etc/cron.d/x", "has an absolute path"),
        ("evidence/../../x", "has a '..' path that points outside the bundle"),
        ("manifest.json", "appears twice"),
    ],
)
def test_absolute_dotdot_and_duplicate_entries_are_refused(bundle, tmp_path, name, why):
    with pytest.warns(UserWarning) if name == "manifest.json" else _nothing():
        bad = zip_of(tmp_path / "p.zip", [*entries(bundle).items(), (name, b"x")])
    assert verify_bundle(bad).problems == [f"zip entry {name!r} {why}: refused"]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_expanded(bundle, tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.json", b"\0" * (80 * 1024 * 1024))
    assert bomb.stat().st_size < 200_000
    monkeypatch.setenv("RECTRACK_BUNDLE_MAX_ENTRY_MB", "64")
    get_settings.cache_clear()
    [problem] = verify_bundle(bomb).problems
    assert problem.startswith(
        "zip entry 'manifest.json' would expand to 83,886,080 bytes, more than the 67,108,864"
    )
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for n in range(3):  # each under the cap for one file, together over the total
            zf.writestr(f"evidence/{n}", b"\0" * (40 * 1024 * 1024))
    monkeypatch.setenv("RECTRACK_BUNDLE_MAX_TOTAL_MB", "100")
    get_settings.cache_clear()
    [problem] = verify_bundle(bomb).problems
    assert problem.startswith("the zip would expand to more than 104,857,600 bytes")


def _truncated(bundle: Path) -> bytes:
    return bundle.read_bytes()[: bundle.stat().st_size // 2]


def _with(bundle, **changes):
    files = entries(bundle)
    files.update({k.replace("_", "."): v for k, v in changes.items()})
    return files


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda b, d: d.write_bytes(b"this is not a zip"), "not a readable zip file"),
        (lambda b, d: d.write_bytes(_truncated(b)), "not a readable zip file"),
        (lambda b, d: d.write_bytes(b""), "not a readable zip file"),
        (lambda b, d: zip_of(d, [("events.jsonl", b"")]), "the zip has no manifest.json: it is not a bundle"),
        (lambda b, d: zip_of(d, [("manifest.json", b"{not json")]), "manifest.json is not valid JSON"),
        (lambda b, d: zip_of(d, [("manifest.json", b"[1, 2]")]), "manifest.json is not a bundle manifest"),
        (
            lambda b, d: zip_of(d, [("manifest.json", b'{"format": "rectrack-bundle/2"}')]),
            "names no chain head",
        ),
    ],
)
def test_every_malformed_input_is_a_named_problem(bundle, tmp_path, make, expected):
    target = tmp_path / "m.zip"
    make(bundle, target)
    report = verify_bundle(target)
    assert not report.ok and expected in report.problems[0], report.problems


def test_a_broken_events_line_or_a_bad_signature_file_is_named_not_a_traceback(bundle, tmp_path):
    lines = entries(bundle)["events.jsonl"].split(b"\n")
    lines[2] = b'{"seq": 3, "oops'
    bad = rebuilt(bundle, tmp_path / "e.zip", {"events.jsonl": b"\n".join(lines)}, resign=True)
    assert verify_bundle(bad).problems == ["events.jsonl line 3 is not valid JSON"]
    files = entries(bundle)
    files["manifest.sig"] = b'{"signature": 5}'
    assert verify_bundle(zip_of(tmp_path / "s.zip", list(files.items()))).problems == [
        "manifest.sig is not a signature file (fields missing or malformed)"
    ]


def _rezip(folder: Path, out: Path, *, as_folder: bool) -> Path:
    """Zip ``folder`` again with another tool: the zip command (folder entries, maximum compression),
    or Python's zipfile storing uncompressed with folder entries where zip is not installed."""
    base = folder.parent if as_folder else folder
    if shutil.which("zip"):
        target = folder.name if as_folder else "."
        subprocess.run(["zip", "-q", "-r", "-9", str(out), target], cwd=base, check=True)
        return out
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, str(p.relative_to(base)) + ("/" if p.is_dir() else ""))
    return out


@pytest.mark.parametrize("as_folder", [False, True])
def test_a_bundle_unzipped_and_rezipped_with_another_tool_still_verifies(bundle, tmp_path, as_folder):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    again = _rezip(folder, tmp_path / "again.zip", as_folder=as_folder)
    with zipfile.ZipFile(again) as zf:
        assert any(i.is_dir() for i in zf.infolist()), "the other tool wrote folder entries"
    report = verify_bundle(again, trusted_key=trusted())
    assert report.ok and report.authentic, report.problems


def test_the_cli_checks_a_bundle_against_a_public_key_or_says_it_did_not(bundle, tmp_path):
    from cli.main import app

    pem = tmp_path / "pub.pem"
    pem.write_text(public_pem(trusted()))
    checked = CliRunner().invoke(app, ["verify", "--bundle", str(bundle), "--key", str(pem)])
    assert checked.exit_code == 0, checked.output
    assert (
        "events.csv, recommendations.jsonl, report.html regenerated from the events byte for byte"
        in checked.output
    )
    assert (
        checked.output.splitlines()[-1] == f"signed by the trusted installation key {fingerprint(trusted())}"
    )
    unchecked = CliRunner().invoke(app, ["verify", "--bundle", str(bundle)])
    assert unchecked.exit_code == 0 and "authenticity NOT checked" in unchecked.output
    wrong = CliRunner().invoke(app, ["verify", "--bundle", str(bundle), "--fingerprint", "ab" * 32])
    assert wrong.exit_code == 1 and "not by the key you trust (abababababababab…)" in wrong.stderr


def test_text_a_spreadsheet_or_a_line_splitter_would_mangle_still_regenerates_byte_for_byte(
    engine, users, tmp_path
):
    from helpers import change, make_rec

    tricky = '=HYPERLINK("x") "quoted", \r\n line\u2028separator \u202e bidi \U0001f600 \\ back'
    make_rec(engine, key="rec-odd", title='-1+1 @sum =HYPERLINK("x") \U0001f600', summary=tricky)
    change(engine, "rec-odd", reason=tricky, status="accepted")
    with read_session(engine) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    path = export(engine, fmt="bundle", scope=_whole(), actor=aud, out_path=tmp_path / "odd.zip").path
    report = verify_bundle(path, trusted_key=trusted())
    assert report.ok and len(report.regenerated) == 3, report.problems
