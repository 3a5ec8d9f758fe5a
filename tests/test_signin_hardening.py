"""Sign-in against someone trying to get in or to keep others out: wrong, locked and disabled look
alike (one message, one password check of the same cost), guessing from one client pauses that
client and never locks the owner out elsewhere, a lock runs out however long the guessing goes on,
wrong current passwords on My account count, and a password of spaces is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

import models.rules.auth as auth
from models.rules.auth import REFUSED, AuthError, authenticate, change_password, create_user, hash_password
from models.rules.users import operator_user
from models.store.db import read_session, write_session
from models.store.errors import InvalidInput
from models.store.tables import AuditEvent, User, utcnow

PASSWORD = "correct horse battery staple"
ATTACKER, OWNER_PC = "203.0.113.9", "198.51.100.7"


@pytest.fixture
def accounts(engine):
    with write_session(engine) as s:
        create_user(s, username="alice", role="editor", password=PASSWORD, actor=operator_user(s))
        create_user(s, username="bob", role="viewer", password=PASSWORD, actor=operator_user(s))
        create_user(s, username="gone", role="viewer", password=PASSWORD, actor=operator_user(s))
        s.exec(select(User).where(User.username == "gone")).one().disabled = True
    return engine


def signin(engine, username="alice", password=PASSWORD, client=OWNER_PC, now=None):
    with write_session(engine) as s:
        return authenticate(s, username=username, password=password, client=client, now=now)


def refused(engine, **kw) -> str:
    with pytest.raises(AuthError) as e:
        signin(engine, **kw)
    return str(e.value)


def trail(engine, username):
    with read_session(engine) as s:
        return [
            (e.action, e.reason)
            for e in s.exec(
                select(AuditEvent).where(AuditEvent.record_key == username).order_by(AuditEvent.seq)
            ).all()
        ]


@pytest.fixture
def verify_calls(monkeypatch):
    """How many Argon2 verifications each attempt costs (the work that sets its timing)."""
    calls = []
    real = auth._hasher

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, hashed, password):
            calls.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(auth, "_hasher", Counting())
    return calls


def test_wrong_unknown_locked_and_disabled_get_one_message_and_the_same_work(accounts, verify_calls):
    t0 = utcnow()
    for i in range(5):  # lock alice for the attacker's client
        refused(accounts, password=f"guess number {i}", client=ATTACKER, now=t0)
    verify_calls.clear()
    messages = {
        "wrong password": refused(accounts, password="not the password", now=t0),
        "unknown user": refused(accounts, username="mallory", now=t0),
        "locked": refused(accounts, client=ATTACKER, now=t0),  # the right password, from the locked client
        "disabled": refused(accounts, username="gone", now=t0),
    }
    assert set(messages.values()) == {REFUSED}, messages
    assert len(verify_calls) == 4  # one Argon2 check each, whichever the case
    signin(accounts, now=t0)
    assert len(verify_calls) == 5
    # the trail says what really happened, for an administrator
    assert (
        "signin_refused",
        f"this account is locked for this client ({ATTACKER}) after 5 failed sign-ins",
    ) in trail(accounts, "alice")
    assert trail(accounts, "gone")[-1] == ("signin_failed", "this account is disabled")


def test_guessing_from_one_client_never_locks_the_owner_out_elsewhere(accounts):
    t0 = utcnow()
    for minute in range(0, 90, 3):  # an hour and a half of guessing
        refused(accounts, password=f"guess {minute}", client=ATTACKER, now=t0 + timedelta(minutes=minute))
        if minute % 15 == 9:
            assert signin(accounts, now=t0 + timedelta(minutes=minute)).username == "alice"
    assert "lockout" in [a for a, _ in trail(accounts, "alice")]


def test_a_lock_runs_out_after_one_window_however_long_the_guessing_goes_on(accounts):
    t0 = utcnow()
    for i in range(5):
        refused(accounts, password=f"guess {i}", client=ATTACKER, now=t0)
    for minute in range(1, 15):  # refused attempts while locked are not counted: they cannot extend it
        refused(accounts, password=f"more {minute}", client=ATTACKER, now=t0 + timedelta(minutes=minute))
    refused(accounts, client=ATTACKER, now=t0 + timedelta(minutes=14, seconds=59))
    assert signin(accounts, client=ATTACKER, now=t0 + timedelta(minutes=15, seconds=1)).username == "alice"


def test_a_client_guessing_many_accounts_is_paused_for_all_of_them(accounts):
    t0 = utcnow()
    names = [f"user{i}" for i in range(20)]
    for name in names:  # one guess each at twenty usernames
        refused(accounts, username=name, password="Winter2026!", client=ATTACKER, now=t0)
    refused(
        accounts, username="bob", client=ATTACKER, now=t0 + timedelta(minutes=1)
    )  # the right password: paused
    assert trail(accounts, "bob")[-1][1].startswith(
        f"this client ({ATTACKER}) is paused after 20 failed sign-ins"
    )
    assert (
        signin(accounts, username="bob", now=t0 + timedelta(minutes=1)).username == "bob"
    )  # elsewhere: fine
    assert signin(accounts, username="bob", client=ATTACKER, now=t0 + timedelta(minutes=16)).username == "bob"


def test_many_clients_together_lock_the_account_for_everyone_for_one_window(accounts):
    t0 = utcnow()
    for c in range(10):
        for i in range(5):
            refused(accounts, password=f"guess {i}", client=f"192.0.2.{c}", now=t0 + timedelta(seconds=c))
    refused(accounts, now=t0 + timedelta(minutes=1))  # the owner too: 50 failures from several clients
    assert trail(accounts, "alice")[-1] == (
        "signin_refused",
        "this account is locked after 50 failed sign-ins from several clients",
    )
    assert signin(accounts, now=t0 + timedelta(minutes=16)).username == "alice"


def test_wrong_current_passwords_on_my_account_count_and_are_refused_while_locked(accounts):
    t0 = utcnow()

    def change(old, now, new="a brand new passphrase"):
        with write_session(accounts) as s:
            change_password(
                s,
                user=s.exec(select(User).where(User.username == "alice")).one(),
                old_password=old,
                new_password=new,
                client=ATTACKER,
                now=now,
            )

    for i in range(5):
        with pytest.raises(AuthError, match="the current password is not right"):
            change(f"guess {i}", t0)
    assert [a for a, _ in trail(accounts, "alice")].count("password_change_failed") == 5
    with pytest.raises(AuthError, match="paused after repeated failures"):
        change(PASSWORD, t0 + timedelta(minutes=1))  # the right one, while locked: refused, nothing changed
    refused(
        accounts, client=ATTACKER, now=t0 + timedelta(minutes=2)
    )  # and signing in from there is locked too
    assert (
        signin(accounts, now=t0 + timedelta(minutes=2)).username == "alice"
    )  # same password still works elsewhere
    change(PASSWORD, t0 + timedelta(minutes=16))
    assert (
        signin(accounts, password="a brand new passphrase", now=t0 + timedelta(minutes=17)).username
        == "alice"
    )


@pytest.mark.parametrize("password", [" " * 12, "\t" * 20, " " * 30, "   short   ", "\u3000" * 12])
def test_a_password_of_only_spaces_or_padded_to_length_is_refused(engine, accounts, password):
    with pytest.raises(InvalidInput, match="only spaces|at least 12 characters"):
        hash_password(password)
    with pytest.raises(InvalidInput):
        with write_session(accounts) as s:
            create_user(s, username="carol", role="viewer", password=password, actor=operator_user(s))
    with pytest.raises(InvalidInput):
        with write_session(accounts) as s:
            change_password(
                s,
                user=s.exec(select(User).where(User.username == "bob")).one(),
                old_password=PASSWORD,
                new_password=password,
            )
    assert signin(accounts, username="bob").username == "bob"  # nothing changed


def test_a_passphrase_with_spaces_inside_is_fine():
    assert hash_password("four words with spaces").startswith("$argon2id$")
