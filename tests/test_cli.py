"""The rectrack command: help on every command, exact output, one-line errors, exit codes."""

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.helpers import CLI_PASSWORD, cli

runner = CliRunner()


@pytest.fixture
def cli_store(tmp_path, monkeypatch, request):
    """A migrated store the CLI reaches through DATABASE_URL (SQLite here; PostgreSQL below)."""
    kind = getattr(request, "param", "sqlite")
    url = request.getfixturevalue("pg_database")() if kind == "pg" else f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    from models.store.settings import get_settings

    get_settings.cache_clear()
    assert run("db", "upgrade").exit_code == 0
    assert (
        run("user", "add", "ed", "--role", "editor", "--password-stdin", input=CLI_PASSWORD + "\n").exit_code
        == 0
    )
    return url


def run(*args, input=None):
    return cli(*args, input=input)


def _commands(group, prefix=()):
    for cmd in group.registered_commands:
        yield prefix + (cmd.name or cmd.callback.__name__.replace("_", "-"),), cmd
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, prefix + (sub.name,))


@pytest.mark.parametrize(
    "path,cmd", list(_commands(app)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help_text(path, cmd):
    assert (cmd.help or (cmd.callback.__doc__ or "")).strip(), f"rectrack {' '.join(path)} has no help"
    result = run(*path, "--help")
    assert result.exit_code == 0 and "Usage" in result.output


@pytest.mark.parametrize("cli_store", ["sqlite", "pg"], indirect=True)
def test_seed_list_show_and_set_status_work_end_to_end(cli_store, tmp_path):
    result = run("seed")
    assert result.exit_code == 0 and result.output.startswith("store is up to date") is False
    again = run("seed")
    assert "nothing changed" in again.output
    listed = run("list", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    keys = {r["key"] for r in rows}
    assert {"deare09-bwg-revival", "deare09-pme-expansion"} <= keys
    shown = json.loads(run("show", "deare09-bwg-revival", "--json").stdout)
    assert shown["citations"] and shown["history"][0]["action"] == "create"
    status = shown["status"]
    target = {
        "proposed": "under_review",
        "under_review": "accepted",
        "accepted": "in_progress",
        "in_progress": "on_hold",
        "on_hold": "in_progress",
    }.get(status, "in_progress")
    moved = run("set-status", "deare09-bwg-revival", target, "--reason", "met in 2026", "--as", "ed")
    assert moved.exit_code == 0, moved.output
    assert moved.stdout == f"deare09-bwg-revival: now {target} (version {shown['version'] + 1})\n"
    verified = run("verify")
    assert (
        verified.exit_code == 0
        and verified.stdout.startswith("trail verified: ")
        and "unbroken chain" in verified.stdout
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ("set-status", "deare09-bwg-revival", "finished", "--reason", "x", "--as", "ed"),
            "unknown status 'finished'",
        ),
        (
            ("set-status", "no-such-key", "accepted", "--reason", "x", "--as", "ed"),
            "no recommendation with key 'no-such-key'",
        ),
        (
            ("set-status", "deare09-bwg-revival", "implemented", "--reason", "x", "--as", "ed"),
            "cannot move from",
        ),
        (
            ("set-status", "deare09-bwg-revival", "accepted", "--reason", " ", "--as", "ed"),
            "a reason is required",
        ),
        (
            ("set-status", "deare09-bwg-revival", "accepted", "--reason", "x", "--as", "nobody"),
            "wrong username or password",
        ),
        (("list", "--status", "done"), "unknown status 'done'"),
        (("import", "missing.csv", "--as", "ed"), "does not exist"),
        (("user", "add", "xy", "--role", "god"), "role: Value error, unknown role 'god'"),
        (("user", "add", "x y", "--role", "viewer"), "username: Value error, must be 2-80 characters"),
    ],
)
def test_user_errors_are_one_line_on_stderr_with_exit_1(cli_store, args, message):
    run("seed")
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "Traceback" not in result.output


def test_import_reports_every_bad_row(cli_store, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,title,summary,theme,who_must_act,owner\nk-1,T,S,nope,us,O\nk-2,T,S,research,mars,O\n")
    result = run("import", str(bad), "--as", "ed")
    assert result.exit_code == 1
    assert "line 2, theme" in result.stderr and "line 3, who_must_act" in result.stderr
    assert run("list", "--json").stdout == ""


def test_a_command_on_a_store_without_schema_says_how_to_create_it(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    from models.store.settings import get_settings

    get_settings.cache_clear()
    result = run("list")
    assert result.exit_code == 1 and "rectrack db upgrade" in result.stderr
