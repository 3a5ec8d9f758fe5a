"""``rectrack user ...``: managing accounts."""

from __future__ import annotations

import sys

import typer

from cli.common import app, engine_ready, fail, operator, sign_in, user_errors
from models.store.db import read_session, write_session

user_app = typer.Typer(help="Manage accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
@user_errors
def user_add(
    username: str,
    role: str = typer.Option(..., help="viewer, editor, auditor or admin."),
    office: str | None = typer.Option(None, help="Owning office an editor updates for."),
    name: str = typer.Option("", help="Display name."),
    email: str | None = typer.Option(None, help="E-mail the single sign-on identity maps to."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input instead of generating one."
    ),
    no_password: bool = typer.Option(False, "--no-password", help="Single sign-on only: no local password."),
) -> None:
    """Add an account; prints a generated password once unless one is given on stdin."""
    from pydantic import ValidationError

    from models.rules.auth import create_user, generate_password

    password = (
        None
        if no_password
        else (sys.stdin.readline().rstrip("\n") if password_stdin else generate_password())
    )
    try:
        with write_session(engine_ready()) as session:
            user = create_user(
                session,
                username=username,
                role=role,
                office=office,
                display_name=name,
                email=email,
                password=password,
                actor=operator(session),
            )
    except ValidationError as e:
        err = e.errors()[0]
        fail(f"{'.'.join(map(str, err['loc']))}: {err['msg']}")
    typer.echo(f"added {user.username} ({user.role})")
    if password and not password_stdin:
        typer.echo(f"password (shown once): {password}")


def _admin_action(fn, **kwargs):
    with write_session(engine_ready()) as session:
        return fn(session, actor=operator(session), **kwargs)


@user_app.command("set-role")
@user_errors
def user_set_role(username: str, role: str) -> None:
    """Give an account another role."""
    from models.rules.users import set_role

    user = _admin_action(set_role, username=username, role=role)
    typer.echo(f"{user.username} is now {user.role}")


@user_app.command("set-office")
@user_errors
def user_set_office(
    username: str, office: str = typer.Argument("", help="Office name; empty for none.")
) -> None:
    """Assign an editor to an owning office (they then update only its recommendations)."""
    from models.rules.users import set_office

    user = _admin_action(set_office, username=username, office=office)
    typer.echo(f"{user.username} office: {user.office or '(none)'}")


@user_app.command("disable")
@user_errors
def user_disable(username: str) -> None:
    """Disable an account: it can no longer sign in or act."""
    from models.rules.users import set_disabled

    _admin_action(set_disabled, username=username, disabled=True)
    typer.echo(f"{username} disabled")


@user_app.command("enable")
@user_errors
def user_enable(username: str) -> None:
    """Re-enable a disabled account."""
    from models.rules.users import set_disabled

    _admin_action(set_disabled, username=username, disabled=False)
    typer.echo(f"{username} enabled")


@user_app.command("reset-password")
@user_errors
def user_reset_password(username: str) -> None:
    """Set a new generated password (shown once) and lift any lockout."""
    from models.rules.auth import reset_password

    password = _admin_action(reset_password, username=username)
    typer.echo(f"new password for {username} (shown once): {password}")


@user_app.command("list")
@user_errors
def user_list() -> None:
    """List accounts with role, office and state."""
    from models.reads.accounts import user_list as accounts

    with read_session(engine_ready()) as session:
        for u in accounts(session):
            state = "disabled" if u["disabled"] else "active"
            typer.echo(f"{u['username']:<24} {u['role']:<8} {state:<9} {u['office'] or ''}")


@app.command()
@user_errors
def login(username: str = typer.Option(..., "--as", help="Your username.")) -> None:
    """Sign in once (password on standard input) and print a session token; with it in
    RECTRACK_TOKEN, commands given --as act for you without asking again, until `rectrack logout`,
    the idle timeout or the session's maximum age, as in the browser."""
    token = sign_in(username, issue_token=True)
    typer.echo(token)


@app.command()
@user_errors
def logout() -> None:
    """End the session whose token is in RECTRACK_TOKEN (everywhere it is used)."""
    import os

    from models.rules.web_sessions import end_token

    token = os.environ.get("RECTRACK_TOKEN", "").strip()
    if not token:
        fail("RECTRACK_TOKEN is not set: there is no command-line session to end")
    with write_session(engine_ready()) as session:
        ended = end_token(session, token=token)
    typer.echo("signed out" if ended else "that session had already ended")
