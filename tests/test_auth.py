"""Accounts: Argon2id hashes, lockout and its expiry, disabled users, single sign-on mapping."""

from datetime import timedelta

import pytest
from helpers import change, make_rec
from sqlalchemy import inspect, text
from sqlmodel import select

from models.rules.auth import (
    REFUSED,
    AuthError,
    authenticate,
    bootstrap_admin,
    change_password,
    create_user,
    reset_password,
)
from models.rules.single_sign_on import user_for_identity
from models.rules.users import operator_user, set_disabled, set_role
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput, PermissionDenied
from models.store.tables import AuditEvent, User, utcnow

PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(engine):
    with write_session(engine) as s:
        create_user(
            s,
            username="alice",
            role="editor",
            password=PASSWORD,
            actor=operator_user(s),
            email="alice@example.mil",
        )
        create_user(s, username="root", role="admin", password=PASSWORD + "!", actor=operator_user(s))
    return "alice"


def signin(engine, password, now=None, username="alice"):
    with write_session(engine) as s:
        return authenticate(s, username=username, password=password, now=now)


def reasons(engine, username):
    with read_session(engine) as s:
        return [
            e.reason
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.record_key == username).order_by(AuditEvent.seq)
            ).all()
        ]


def actions(engine, username):
    with read_session(engine) as s:
        return [
            e.action
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.record_key == username).order_by(AuditEvent.seq)
            ).all()
        ]


def test_the_right_password_signs_in_and_is_recorded(engine, alice):
    assert signin(engine, PASSWORD).username == "alice"
    assert actions(engine, "alice")[-1] == "signin"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(engine, alice):
    with pytest.raises(AuthError) as wrong:
        signin(engine, "nope nope nope")
    with pytest.raises(AuthError) as unknown:
        signin(engine, PASSWORD, username="mallory")
    assert str(wrong.value) == str(unknown.value) == REFUSED
    assert actions(engine, "alice")[-1] == "signin_failed"
    assert actions(engine, "mallory") == ["signin_failed"]


def test_five_failures_lock_the_account_and_the_lock_expires(engine, alice):
    t0 = utcnow()
    for i in range(5):
        with pytest.raises(AuthError, match="wrong"):
            signin(engine, "bad password!", now=t0 + timedelta(seconds=i))
    with pytest.raises(AuthError, match="^wrong username or password, or the account cannot sign in now"):
        signin(engine, PASSWORD, now=t0 + timedelta(minutes=14))
    assert "lockout" in actions(engine, "alice")
    assert signin(engine, PASSWORD, now=t0 + timedelta(minutes=16)).username == "alice"


def test_failures_spread_beyond_the_window_do_not_lock(engine, alice):
    t0 = utcnow()
    for i in range(8):
        with pytest.raises(AuthError, match="wrong"):
            signin(engine, "bad password!", now=t0 + timedelta(minutes=4 * i))
    assert signin(engine, PASSWORD, now=t0 + timedelta(minutes=33)).username == "alice"


def test_stored_hashes_are_argon2id_and_no_password_is_stored_anywhere(engine, alice):
    signin(engine, PASSWORD)
    with pytest.raises(AuthError):
        signin(engine, "a wrong guess at it")
    with read_session(engine) as s:
        assert (
            s.exec(select(User.password_hash).where(User.username == "alice")).one().startswith("$argon2id$")
        )
        dump = []
        for table in inspect(engine).get_table_names():
            for row in s.connection().execute(text(f'SELECT * FROM "{table}"')):
                dump.extend(str(v) for v in row)
    blob = "\n".join(dump)
    assert PASSWORD not in blob and "a wrong guess at it" not in blob


def test_a_disabled_user_cannot_sign_in_or_act(engine, alice, users):
    make_rec(engine)
    with write_session(engine) as s:
        set_disabled(
            s, username="ed", disabled=True, actor=s.exec(select(User).where(User.username == "root")).one()
        )
        set_disabled(
            s,
            username="alice",
            disabled=True,
            actor=s.exec(select(User).where(User.username == "root")).one(),
        )
    with pytest.raises(AuthError, match="cannot sign in now"):
        signin(engine, PASSWORD)
    assert "this account is disabled" in reasons(engine, "alice")[-1]
    with pytest.raises(PermissionDenied, match="disabled"):
        change(engine, "rec-a", actor="ed", status="accepted")


def test_single_sign_on_maps_a_known_email_and_refuses_an_unknown_one(engine, alice):
    with write_session(engine) as s:
        assert user_for_identity(s, email="Alice@Example.mil").username == "alice"
    with pytest.raises(PermissionDenied, match="no access yet"):
        with write_session(engine) as s:
            user_for_identity(s, email="stranger@example.com")
    assert actions(engine, "stranger@example.com") == ["signin_refused"]


def test_role_changes_and_password_resets_are_audited_and_admin_only(engine, alice):
    with write_session(engine) as s:
        root = s.exec(select(User).where(User.username == "root")).one()
        set_role(s, username="alice", role="auditor", actor=root)
        new = reset_password(s, username="alice", actor=root)
    assert "role_change" in actions(engine, "alice") and "password_reset" in actions(engine, "alice")
    assert signin(engine, new).role == "auditor"
    with pytest.raises(PermissionDenied):
        with write_session(engine) as s:
            set_role(
                s,
                username="root",
                role="viewer",
                actor=s.exec(select(User).where(User.username == "alice")).one(),
            )


def test_the_last_admin_cannot_be_demoted(engine, alice):
    with pytest.raises(InvalidInput, match="last active admin"):
        with write_session(engine) as s:
            set_role(s, username="root", role="viewer", actor=operator_user(s))


def test_users_change_their_own_password_only_with_the_current_one(engine, alice):
    with write_session(engine) as s:
        me = s.exec(select(User).where(User.username == "alice")).one()
        with pytest.raises(AuthError, match="current password is not right"):
            change_password(
                s, user=me, old_password="guess guess guess", new_password="another long password"
            )
        change_password(s, user=me, old_password=PASSWORD, new_password="another long password")
    assert signin(engine, "another long password").username == "alice"


def test_a_short_password_is_refused(engine):
    with pytest.raises(InvalidInput, match="at least 12 characters"):
        with write_session(engine) as s:
            create_user(s, username="bob", role="viewer", password="short", actor=operator_user(s))


def test_a_fresh_install_gets_a_generated_admin_password_once(engine):
    with write_session(engine) as s:
        first = bootstrap_admin(s, actor=operator_user(s))
    with write_session(engine) as s:
        assert bootstrap_admin(s, actor=operator_user(s)) is None
    assert first and len(first) >= 16
    assert signin(engine, first, username="admin").role == "admin"


def test_no_password_appears_in_any_export(engine, alice, tmp_path):
    import zipfile

    from models.trail.export_formats import Scope
    from models.trail.exports import export

    signin(engine, PASSWORD)
    with pytest.raises(AuthError):
        signin(engine, "a wrong guess at it")
    with read_session(engine) as s:
        root = s.exec(select(User).where(User.username == "root")).one()
    blobs = []
    for fmt in ("csv", "jsonl", "html", "bundle"):
        out = export(engine, fmt=fmt, scope=Scope(), actor=root, out_path=tmp_path / f"trail.{fmt}")
        if fmt == "bundle":
            with zipfile.ZipFile(out.path) as zf:
                blobs += [zf.read(n) for n in zf.namelist()]
        else:
            blobs.append(out.path.read_bytes())
    everything = b"\n".join(blobs)
    assert b"signin" in everything  # the sign-ins are in the trail...
    assert (
        PASSWORD.encode() not in everything and b"a wrong guess at it" not in everything
    )  # ...their secrets are not
