"""Signed checkpoints (issue 12, part 2): an insider who rewrites the trail and recomputes every
hash, or cuts off its newest events, leaves a whole chain and rows that agree with it; only the
signed head the installation key vouched for still names what happened."""

from __future__ import annotations

import email
import hashlib
import json
import stat

import pytest
from helpers import add_account, small_trail
from sqlalchemy import text
from sqlmodel import select
from typer.testing import CliRunner

from models.store.db import read_session, write_session
from models.store.settings import get_settings
from models.store.tables import AuditEvent, User
from models.trail import verdicts
from models.trail.chain import GENESIS, HASHED_FIELDS, content_bytes
from models.trail.checkpoints import write_checkpoint
from models.trail.export_formats import Scope
from models.trail.exports import export
from models.trail.keys import KeyFileError, installation_key
from models.trail.verify import verify_store


@pytest.fixture
def store(engine, users):
    """16 events (six accounts and the operator who added them, two recommendations moved, evidence, a two-person closure), then an
    auditor's export: event 17, signed as a checkpoint."""
    small_trail(engine)
    export_jsonl(engine)
    return engine


def export_jsonl(engine):
    with read_session(engine) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    return export(engine, fmt="jsonl", scope=Scope(), actor=aud, out_path=get_settings().data_dir / "x.jsonl")


def verdict(engine):
    with read_session(engine) as s:
        return verify_store(s)


def rehash_from(engine, seq: int) -> None:
    """What a forger who knows the hash recipe does after editing: every hash from ``seq`` on
    recomputed, each linking to the one before, so the chain is whole again."""
    with write_session(engine) as s:
        prev = s.exec(select(AuditEvent.hash).where(AuditEvent.seq == seq - 1)).first() or GENESIS
        for e in s.exec(select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq)).all():
            e.prev_hash = prev
            e.hash = prev = hashlib.sha256(content_bytes(getattr(e, f) for f in HASHED_FIELDS)).hexdigest()
            s.add(e)


def sql(engine, *statements):
    with engine.begin() as c:
        for st in statements:
            c.execute(text(st))


def only_checkpoints_object(report) -> list[str]:
    assert report.chain_problem is None, "the forger left a whole chain"
    assert not report.store_problems and not report.file_problems, "and rows that agree with it"
    assert not report.ok
    return report.checkpoint_problems


def test_an_untouched_store_verifies_against_its_checkpoints(store):
    with read_session(store) as s:
        write_checkpoint(s, why="cron")
    report = verdict(store)
    assert report.ok, report.lines()
    assert report.checkpoints_checked == 2 and report.checkpoint_newest == 17
    assert "2 signed checkpoint(s) hold, the newest at event 17" in report.summary()


def test_the_newest_events_deleted_after_a_checkpoint_are_named(store):
    sql(store, "DELETE FROM auditevent WHERE seq = 17")  # the export: no row to set back
    [problem] = only_checkpoints_object(verdict(store))
    assert "(event 17, signed" in problem
    assert problem.endswith(
        "event 17 is missing from the store: events were deleted from the end of the "
        "trail, or deleted and the rest renumbered"
    )


def test_a_past_event_rewritten_with_every_later_hash_recomputed_is_named(store):
    with read_session(store) as s:
        signed = s.exec(select(AuditEvent.hash).where(AuditEvent.seq == 17)).one()
    sql(store, "UPDATE auditevent SET reason = 'checked the minutes twice' WHERE seq = 15")
    rehash_from(store, 15)
    [problem] = only_checkpoints_object(verdict(store))
    assert f"but the checkpoint signed {signed[:16]}…" in problem
    assert problem.endswith("the trail was rewritten at or before event 17 and its hashes recomputed")


def test_a_middle_event_deleted_with_seq_renumbered_and_hashes_recomputed_is_named(store):
    export_jsonl(store)  # event 18, a second checkpoint
    sql(store, "DELETE FROM auditevent WHERE seq = 17", "UPDATE auditevent SET seq = 17 WHERE seq = 18")
    rehash_from(store, 17)
    problems = only_checkpoints_object(verdict(store))
    assert any("(event 17," in p and "rewritten at or before event 17" in p for p in problems), problems
    assert any("(event 18," in p and "event 18 is missing from the store" in p for p in problems), problems


def _checkpoint_files():
    return sorted(get_settings().checkpoint_dir.glob("*.json"))


def test_a_forged_checkpoint_file_is_named_for_its_bad_signature(store):
    [real] = _checkpoint_files()
    doc = json.loads(real.read_text())
    doc["checkpoint"]["seq"], doc["checkpoint"]["head_hash"] = 3, "f" * 64
    forged = real.with_name("20991231T000000000000Z-000000003.json")
    forged.write_text(json.dumps(doc))
    assert verdict(store).checkpoint_problems == [
        f"checkpoint {forged.name} has a bad signature: the file was forged or altered after signing"
    ]


def test_a_checkpoint_signed_by_another_key_or_not_a_checkpoint_at_all_is_named(store, tmp_path, monkeypatch):
    monkeypatch.setenv("RECTRACK_KEY_FILE", str(tmp_path / "other-installation.pem"))
    get_settings.cache_clear()
    with read_session(store) as s:
        foreign = write_checkpoint(s, why="someone else's installation")
    monkeypatch.delenv("RECTRACK_KEY_FILE")
    get_settings.cache_clear()
    (get_settings().checkpoint_dir / "junk.json").write_text("{not json")
    problems = verdict(store).checkpoint_problems
    assert (
        f"checkpoint {foreign.path.name} is signed by an unknown key {foreign.fingerprint[:16]}…, not by "
        "this installation's key: it proves nothing about this store" in problems
    )
    assert "checkpoint junk.json is not valid JSON" in problems


def test_the_key_is_made_once_readable_by_its_owner_only_and_refused_when_others_can_read_it(store):
    path = get_settings().key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = installation_key().public_key()
    assert installation_key().public_key() == first, "never replaced"
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match=r"can be read by others \(mode 644\).*chmod 600"):
        installation_key()
    with read_session(store) as s:
        head = s.exec(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first()
    with pytest.raises(KeyFileError):
        export_jsonl(store)
    assert verdict(store).lines()[0].startswith(f"the installation key {path} can be read by others")
    with read_session(store) as s:
        assert verdicts.current(s)["state"] == "failed", "the trail page says so instead of failing"
    with read_session(store) as s:
        assert s.exec(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first() == head, (
            "a refused export records nothing"
        )


def test_the_trail_page_writes_one_checkpoint_a_day(store):
    for p in _checkpoint_files():
        p.unlink()
    with read_session(store) as s:
        assert verdicts.current(s)["state"] == "verified"
        verdicts.current(s)
    [daily] = _checkpoint_files()
    assert json.loads(daily.read_text())["checkpoint"]["why"] == "daily"


def run(engine, monkeypatch, *args):
    from cli.main import app

    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


def test_the_cli_signs_a_checkpoint_shows_the_public_key_and_verifies_against_both(
    store, monkeypatch, tmp_path
):
    signed = run(store, monkeypatch, "checkpoint")
    assert signed.exit_code == 0 and "event 17" in signed.output, signed.output
    shown = run(store, monkeypatch, "key", "show")
    assert shown.output.startswith("-----BEGIN PUBLIC KEY-----")
    pem, fp_line = shown.output.rsplit("-----END PUBLIC KEY-----\n", 1)
    (tmp_path / "pub.pem").write_text(pem + "-----END PUBLIC KEY-----\n")
    assert fp_line.startswith("fingerprint (SHA-256): ") and len(fp_line.split()[-1]) == 64
    ok = run(store, monkeypatch, "verify", "--key", str(tmp_path / "pub.pem"))
    assert ok.exit_code == 0 and "2 signed checkpoint(s) hold" in ok.output, ok.output
    sql(store, "DELETE FROM auditevent WHERE seq = 17")
    bad = run(store, monkeypatch, "verify")
    assert bad.exit_code == 1 and "error: checkpoint " in bad.stderr, bad.stderr


def test_rectrack_checkpoint_mails_the_signed_file_to_the_auditors_when_smtp_is_set(
    store, monkeypatch, smtp_server
):
    with write_session(store) as s:
        add_account(s, "aud2", "auditor", email="aud2@example.mil")
        add_account(s, "ed3", "editor", email="ed3@example.mil")
    port, received = smtp_server
    monkeypatch.setenv("RECTRACK_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("RECTRACK_SMTP_PORT", str(port))
    result = run(store, monkeypatch, "checkpoint")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "mailed to 1 auditor(s): aud2@example.mil"
    [mail] = received
    assert mail.rcpt_tos == ["aud2@example.mil"]
    msg = email.message_from_bytes(mail.content)
    [attached] = [p for p in msg.walk() if p.get_filename()]
    path = get_settings().checkpoint_dir / attached.get_filename()
    assert attached.get_payload(decode=True) == path.read_bytes()
    assert json.loads(path.read_text())["checkpoint"]["seq"] == 19  # the two accounts' events


def _checkpoint_names() -> list[str]:
    return sorted(p.name for p in get_settings().checkpoint_dir.glob("*.json"))


def test_no_checkpoint_is_signed_over_a_trail_that_contradicts_one(store):
    """Signing the head of a cut-off trail would let it verify against a checkpoint of its own."""
    from models.trail.checkpoints import TrailContradicted, ensure_daily

    before = _checkpoint_names()
    sql(store, "DELETE FROM auditevent WHERE seq = 17")
    with read_session(store) as s:
        with pytest.raises(
            TrailContradicted, match=r"no checkpoint signed: .*event 17 is missing from the store"
        ):
            write_checkpoint(s, why="cron")
        assert ensure_daily(s) is None
    assert _checkpoint_names() == before


def test_a_bundle_exported_from_a_cut_off_trail_says_so_and_does_not_verify(store, tmp_path):
    from models.trail.bundle_verify import verify_bundle

    sql(store, "DELETE FROM auditevent WHERE seq = 17")
    before = _checkpoint_names()
    with read_session(store) as s:
        aud = s.exec(select(User).where(User.username == "aud")).one()
    result = export(store, fmt="bundle", scope=Scope(), actor=aud, out_path=tmp_path / "cut.zip")
    assert [w.split(": ", 1)[0] for w in result.warnings] == ["the store contradicts a signed checkpoint"]
    assert _checkpoint_names() == before  # nothing vouches for the cut-off head
    report = verify_bundle(result.path, trusted_key=installation_key().public_key())
    assert report.authentic and not report.ok
    assert any(
        p.startswith("when exported, the store contradicted a checkpoint") and "(event 17, signed" in p
        for p in report.problems
    ), report.problems
