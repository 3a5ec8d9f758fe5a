"""``rectrack demo``: filling a new store with synthetic data for demonstrations and load tests."""

from pathlib import Path

import typer

from cli.common import app, user_errors


@app.command("demo")
@user_errors
def demo(
    database_url: str = typer.Option(
        ...,
        "--database-url",
        help="The NEW store to fill, e.g. sqlite:///data/demo.db or "
        "postgresql+psycopg://user@host/rectrack_demo. Refused if it holds "
        "any recommendation.",
    ),
    recommendations: int = typer.Option(1000, help="Synthetic recommendations to create."),
    events: int = typer.Option(20000, help="Audit events in all (creates, moves, evidence, accounts)."),
    evidence: int = typer.Option(100, help="Synthetic evidence items, each with one small file."),
    seed: int = typer.Option(
        7,
        help="Random seed: the same seed gives the same records and moves "
        "(dates run up to the day it is run).",
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Where evidence files go (default: RECTRACK_DATA_DIR or data/)."
    ),
) -> None:
    """Fill a new store with SYNTHETIC recommendations, events and evidence (for demos and load tests)."""
    from models.catalog.synthetic import generate, main_progress

    report = generate(
        database_url,
        recommendations=recommendations,
        events=events,
        evidence=evidence,
        seed=seed,
        data_dir=data_dir,
        progress=main_progress,
    )
    typer.echo(str(report))
    from models.store.settings import get_settings

    where = data_dir or get_settings().data_dir
    typer.echo(f"check it with: DATABASE_URL='{database_url}' RECTRACK_DATA_DIR='{where}' rectrack verify")
