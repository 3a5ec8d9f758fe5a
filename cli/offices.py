"""``rectrack office ...``: the office register that owners are checked against."""

from __future__ import annotations

import typer

from cli.common import actor_for, app, engine_ready, user_errors
from models.store.db import read_session, write_session

office_app = typer.Typer(help="The office register (who can own a recommendation).", no_args_is_help=True)
app.add_typer(office_app, name="office")


@office_app.command("add")
@user_errors
def office_add(
    key: str,
    name: str = typer.Option(..., "--name", help="The office's name, spelt as owners will show it."),
    reason: str = typer.Option(..., "--reason", help="Why (required)."),
    as_user: str = typer.Option(..., "--as", help="Username acting (an admin)."),
) -> None:
    """Add an office so recommendations can be given to it (admins only)."""
    from models.rules.offices import add_office

    with write_session(engine_ready()) as session:
        office = add_office(session, key=key, name=name, actor=actor_for(session, as_user), reason=reason)
        typer.echo(f"added office {office.key}: {office.name}")


@office_app.command("list")
@user_errors
def office_list() -> None:
    """Every office in the register, with how many recommendations it owns."""
    from models.rules.offices import register

    with read_session(engine_ready()) as session:
        offices = register(session)
    for key, name, owned in offices:
        typer.echo(f"{key}\t{name}\t{owned}")
    if not offices:
        typer.echo(
            "the register is empty: owners are not checked until an office is added (or rectrack seed)"
        )
