"""``rectrack obstacle ...`` and ``rectrack step ...`` on the seeded catalog: exact output, the
trail verifies afterwards, and refusals are one line."""

from __future__ import annotations

import json

from tests.helpers import CLI_PASSWORD
from tests.test_cli import cli_store, run  # noqa: F401  (fixture)

REC = "deare09-bwg-revival"


def test_an_officer_records_links_and_plans_from_the_command_line(cli_store):
    assert run("seed").exit_code == 0
    added = run(
        "obstacle", "add", "ed-no-budget-line",
        "--title", "No budget line for the working group",
        "--category", "budgetary", "--side", "us",
        "--summary", "The forum brief says no office funds the meetings.",
        "--source", "2009-deare-ndu-strategic-forum-243", "--section", "Recommendations", "--lines", "10-12",
        "--link", REC, "--reason", "seen in the brief", "--as", "ed",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.stdout == f"obstacle ed-no-budget-line recorded and linked to {REC}\n"
    linked = run("obstacle", "link", REC, "budget-constraints", "--reason", "also this", "--as", "ed")
    assert linked.stdout == f"budget-constraints now blocks {REC}\n"
    again = run("obstacle", "link", REC, "budget-constraints", "--reason", "twice", "--as", "ed")
    assert again.exit_code == 1 and "is already linked" in again.output
    listed = run("obstacle", "list", REC).stdout.splitlines()
    assert any(line.startswith("ed-no-budget-line") and "blocking" in line for line in listed)
    for i in range(4):
        step = run(
            "step", "add", REC, "--title", f"Step {i + 1}", "--office", "J5", "--reason", "plan", "--as", "ed"
        )
        assert step.stdout == f"{REC}: step {i + 1} added; progress 0%\n", step.output
    done = run("step", "set", REC, "2", "--status", "done", "--reason", "met", "--as", "ed")
    assert done.stdout == f"{REC}: step 2 saved; progress 25%\n", done.output
    shown = json.loads(run("show", REC, "--json").stdout)
    assert shown["progress"] == 25 and [s["status"] for s in shown["steps"]][:2] == ["not_started", "done"]
    assert shown["obstacle_states"]["ed-no-budget-line"] == "blocking"
    unlinked = run("obstacle", "unlink", REC, "budget-constraints", "--reason", "a mistake", "--as", "ed")
    assert unlinked.stdout == f"budget-constraints unlinked from {REC}\n"
    verified = run("verify")
    assert verified.exit_code == 0, verified.output


def test_a_viewer_may_not_link_and_an_obstacle_needs_a_citation(cli_store):
    assert run("seed").exit_code == 0
    assert (
        run("user", "add", "vic", "--role", "viewer", "--password-stdin", input=CLI_PASSWORD + "\n").exit_code
        == 0
    )
    refused = run("obstacle", "link", REC, "budget-constraints", "--reason", "x", "--as", "vic")
    assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1
    uncited = run(
        "obstacle", "add", "ed-x", "--title", "X", "--category", "budgetary", "--side", "us",
        "--summary", "x", "--reason", "x", "--as", "ed",
    )  # fmt: skip
    assert uncited.exit_code == 1 and "attested" in uncited.output
