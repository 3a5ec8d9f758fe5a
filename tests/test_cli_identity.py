"""Who did it is who did it (issue 12, part 4): a command acts for a person only once that person
signed in, nobody can borrow the catalog loader's identity, and what the operator does names the
OS account and host it ran from."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.rules.permissions import seeding
from models.rules.recommendations import update_recommendation
from models.rules.records import get_recommendation
from models.rules.users import operator_identity, system_user
from models.store.db import make_engine, read_session, write_session
from models.store.errors import PermissionDenied
from models.store.schemas import RecommendationUpdate
from models.store.tables import AuditEvent, Recommendation, User
from tests.helpers import CLI_PASSWORD
from tests.test_cli import cli_store, run  # noqa: F401  (fixture)

REC = "deare09-bwg-revival"


def _events_after(url: str, seq: int) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    with read_session(engine) as s:
        rows = s.exec(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.reason).where(AuditEvent.seq > seq)
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _head(url: str) -> int:
    engine = make_engine(url)
    with read_session(engine) as s:
        seq = s.exec(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).first() or 0
    engine.dispose()
    return seq


def _rec(url: str) -> Recommendation:
    engine = make_engine(url)
    with read_session(engine) as s:
        rec = get_recommendation(s, REC)
    engine.dispose()
    return rec


def _status_args(url: str) -> tuple[str, ...]:
    target = {"proposed": "accepted", "accepted": "in_progress"}.get(_rec(url).status, "in_progress")
    return ("set-status", REC, target, "--reason", "met in 2026")


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_no_one_can_act_as_the_catalog_loader_from_the_command_line(cli_store):
    run("seed")
    before, head = _rec(cli_store), _head(cli_store)
    got = run(*_status_args(cli_store), "--as", "catalog", input="anything\n")
    assert got.exit_code == 1
    assert "'catalog' is the catalog loader's identity" in got.stderr
    assert _rec(cli_store).version == before.version and _head(cli_store) == head


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_the_loaders_identity_closes_nothing_outside_seeding(cli_store):
    """The loader's closure exemption held for any caller; now only while the catalog loads."""
    run("seed")
    engine = make_engine(cli_store)
    with write_session(engine) as s:
        loader = system_user(s)
        rec = get_recommendation(s, REC)
        change = RecommendationUpdate(expected_version=rec.version, status="implemented", reason="x")
        with pytest.raises(PermissionDenied, match="acts only while the catalog is loaded"):
            update_recommendation(s, key=REC, change=change, actor=loader)
    with write_session(engine) as s, seeding():  # what the loader itself may do is unchanged
        rec = get_recommendation(s, REC)
        if rec.status == "proposed":
            change = RecommendationUpdate(expected_version=rec.version, status="accepted", reason="source")
            assert update_recommendation(s, key=REC, change=change, actor=system_user(s)).status == "accepted"
    engine.dispose()


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_acting_as_a_user_needs_their_password_and_a_wrong_one_changes_nothing(cli_store):
    run("seed")
    before, head = _rec(cli_store), _head(cli_store)
    wrong = run(*_status_args(cli_store), "--as", "ed", input="not the password\n")
    assert wrong.exit_code == 1 and "wrong username or password" in wrong.stderr
    none = run(*_status_args(cli_store), "--as", "ed", input="")
    assert none.exit_code == 1 and "needs ed's password on standard input" in none.stderr
    assert _rec(cli_store).version == before.version
    who, host = operator_identity()
    failed = _events_after(cli_store, head)
    assert [a for _, a, _ in failed] == ["signin_failed"]  # the empty stdin never reached the store
    right = run(*_status_args(cli_store), "--as", "ed")  # helpers.cli types CLI_PASSWORD
    assert right.exit_code == 0, right.output
    actors = _events_after(cli_store, head)[1:]
    assert actors[0][:2] == ("ed", "signin") and f"OS user {who!r} on {host!r}" in actors[0][2]
    assert actors[1][:2] == ("ed", "status_change")


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_a_login_token_acts_for_its_owner_only_until_logout(cli_store, monkeypatch):
    run("seed")
    login = run("login", "--as", "ed", input=CLI_PASSWORD + "\n")
    assert login.exit_code == 0, login.output
    token = login.stdout.strip()
    assert len(token) >= 40 and "ed" not in token.split("-")
    monkeypatch.setenv("RECTRACK_TOKEN", token)
    acted = run(*_status_args(cli_store), "--as", "ed", input="")  # no password asked
    assert acted.exit_code == 0, acted.output
    other = run(*_status_args(cli_store), "--as", "ed2", input="")
    assert other.exit_code == 1 and "RECTRACK_TOKEN signs in 'ed', not 'ed2'" in other.stderr
    assert run("logout").stdout == "signed out\n"
    after = run(*_status_args(cli_store), "--as", "ed", input="")
    assert after.exit_code == 1 and "is not an open session" in after.stderr


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_disabling_an_account_ends_its_command_line_sessions(cli_store, monkeypatch):
    run("seed")
    token = run("login", "--as", "ed", input=CLI_PASSWORD + "\n").stdout.strip()
    assert run("user", "disable", "ed").exit_code == 0
    monkeypatch.setenv("RECTRACK_TOKEN", token)
    got = run(*_status_args(cli_store), "--as", "ed", input="")
    assert got.exit_code == 1 and "is not an open session" in got.stderr


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_what_the_operator_does_names_the_os_account_and_host_and_still_verifies(cli_store):
    run("seed")
    assert (
        run("user", "add", "vic", "--role", "viewer", "--password-stdin", input=CLI_PASSWORD + "\n").exit_code
        == 0
    )
    who, host = operator_identity()
    engine = make_engine(cli_store)
    with read_session(engine) as s:
        added = s.exec(select(AuditEvent).where(AuditEvent.record_key == "vic")).one()
        operator = s.exec(select(User).where(User.username == added.actor)).one()
    engine.dispose()
    assert added.actor.startswith("os:") and operator.role == "operator"
    assert operator.display_name == f"Operator {who} on {host}"
    verified = run("verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("trail verified"), verified.output
    # an operator is not a person: no one signs in as it, and no admin can give it a role
    as_op = run(*_status_args(cli_store), "--as", added.actor, input=CLI_PASSWORD + "\n")
    assert as_op.exit_code == 1 and "wrong username or password" in as_op.stderr
    promote = run("user", "set-role", added.actor, "admin")
    assert promote.exit_code == 1 and "is a operator identity, not a person's account" in promote.stderr


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_one_operator_cannot_propose_as_an_editor_and_accept_as_an_auditor(cli_store, tmp_path):
    """The two-person rule compares people who each signed in: ed's password does not open aud."""
    run("seed")
    assert (
        run(
            "user", "add", "aud", "--role", "auditor", "--password-stdin", input="aud's own passphrase\n"
        ).exit_code
        == 0
    )
    rec = _rec(cli_store)
    assert rec.status in ("proposed", "accepted", "in_progress")
    if rec.status != "in_progress":
        for target in ("accepted", "in_progress")[("proposed", "accepted").index(rec.status) :]:
            assert run("set-status", REC, target, "--reason", "moving", "--as", "ed").exit_code == 0
    report = tmp_path / "closure-report.txt"
    report.write_text("the group met in 2026\n")
    proposed = run(
        "closure", "propose", REC, "implemented", "--reason", "done", "--evidence", str(report), "--as", "ed"
    )
    assert proposed.exit_code == 0, proposed.output
    borrowed = run(
        "closure", "accept", REC, "--reason", "looks done", "--as", "aud", input=CLI_PASSWORD + "\n"
    )
    assert borrowed.exit_code == 1 and "wrong username or password" in borrowed.stderr
    assert _rec(cli_store).status == "in_progress"
    accepted = run(
        "closure", "accept", REC, "--reason", "looks done", "--as", "aud", input="aud's own passphrase\n"
    )
    assert accepted.exit_code == 0, accepted.output
    assert _rec(cli_store).status == "implemented"
