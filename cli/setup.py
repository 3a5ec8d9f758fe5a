"""``rectrack db upgrade``, ``seed`` and ``serve``: creating, seeding and serving a store."""

from __future__ import annotations

import os
import subprocess
import sys

import typer

from cli.common import app, user_errors
from models.catalog.checks import load_catalog
from models.store.db import make_engine, write_session
from models.store.settings import REPO_ROOT, get_settings
from models.store.upgrade import upgrade

db_app = typer.Typer(help="Create or upgrade the store's schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@user_errors
def db_upgrade() -> None:
    """Create the store, or bring its schema up to the latest migration."""
    upgrade()
    _key()
    typer.echo(f"store is up to date: {get_settings().url.split('@')[-1]}")


def _key() -> None:
    """The installation key is made on first start (and a readable-by-others one refused now)."""
    from models.trail.keys import installation_key

    installation_key()


def _seed() -> str:
    from models.catalog.loader import seed_catalog
    from models.rules.users import operator_user

    settings = get_settings()
    catalog = load_catalog(settings.seeds_dir)
    engine = make_engine()
    with write_session(engine) as session:
        report = seed_catalog(session, catalog=catalog, actor=operator_user(session))
    return str(report)


def _first_admin() -> None:
    from models.rules.auth import bootstrap_admin, needs_first_admin
    from models.rules.users import operator_user

    with write_session(make_engine()) as session:
        password = needs_first_admin(session) and bootstrap_admin(session, actor=operator_user(session))
    if password:
        typer.echo(
            "first start: created the administrator account\n"
            f"  username: admin\n  password: {password}\n"
            "  (shown only this once; sign in and change it, or run: rectrack user reset-password admin)"
        )


@app.command()
@user_errors
def seed() -> None:
    """Load the catalog in seeds/ (adds what is missing; never overwrites edits)."""
    upgrade()
    typer.echo(_seed())


@app.command()
@user_errors
def serve(
    port: int = typer.Option(8501, help="Port to serve on."),
    address: str = typer.Option("localhost", help="Address to bind."),
    headless: bool = typer.Option(True, help="Do not open a browser."),
    secrets: str = typer.Option(
        "", help="A secrets.toml to read (single sign-on [auth]) instead of .streamlit/secrets.toml."
    ),
) -> None:
    """Start the dashboard (creating and seeding the store on first start)."""
    upgrade()
    _key()
    typer.echo(_seed())
    _first_admin()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(REPO_ROOT / "dashboard" / "server.py"),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        str(headless).lower(),
        # the server refuses larger uploads itself: twice the limit the pages state, so a file just
        # over it is refused by the page in words instead (settings.upload_transfer_mb)
        "--server.maxUploadSize",
        str(get_settings().upload_transfer_mb),
    ]
    if secrets:
        cmd += ["--secrets.files", secrets]
    typer.echo(f"dashboard on http://{address}:{port}")
    raise typer.Exit(subprocess.call(cmd, cwd=REPO_ROOT, env=os.environ.copy()))
