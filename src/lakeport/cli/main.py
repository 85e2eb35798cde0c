"""The ``lakeport`` command."""

from __future__ import annotations

from typing import Optional

import typer

from .. import __version__
from . import contracts, cost, data, demo, local, recovery, tables, upload
from .app import CliState

app = typer.Typer(
    name="lakeport",
    help="Bring on-premise files into an AWS data lake: validated, partitioned, catalogued Parquet.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(contracts.app, name="contract")
app.command()(data.ingest)
app.command()(data.runs)
app.add_typer(recovery.quarantine_app, name="quarantine")
app.command()(recovery.replay)
app.command()(data.query)
app.command()(tables.history)
app.command()(tables.rollback)
app.command()(tables.maintain)
app.add_typer(cost.app, name="cost")
app.command()(upload.upload)
app.command()(demo.demo)
app.command()(demo.examples)
app.add_typer(local.app, name="local")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lakeport {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    endpoint_url: Optional[str] = typer.Option(
        None, "--endpoint-url", envvar="AWS_ENDPOINT_URL", help="AWS endpoint, e.g. the local emulator's"
    ),
    region: Optional[str] = typer.Option(None, "--region", envvar="AWS_REGION", help="AWS region"),
    profile: Optional[str] = typer.Option(None, "--profile", envvar="AWS_PROFILE", help="AWS profile"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version"),
) -> None:
    ctx.obj = CliState(endpoint_url=endpoint_url, region=region, profile=profile)


def run() -> None:
    app()
