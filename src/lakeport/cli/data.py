"""``lakeport ingest``, ``runs``, ``quarantine`` and ``query``."""

from __future__ import annotations

from functools import partial
from typing import Any, List, Optional

import pyarrow as pa
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..contract import Contract
from ..errors import ConfigurationError
from ..ingest import Ingestor, IngestRequest, RunSummary
from ..ledger.files import SourceObject
from ..ledger.runs import RunLedger
from ..registry import ContractRegistry
from ..s3objects import list_objects
from .app import CliState, console, fail, guard, state
from .reasons import print_run_table
from .render import print_arrow, print_rows

OUTPUT_HELP = "table (default), csv or json"


def _check_output(output: str) -> str:
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json")
    return output


def query_engine(s: CliState, engine: str = "auto") -> Any:
    from ..query import AthenaQueryEngine, LocalQueryEngine

    if engine == "athena" or (engine == "auto" and not s.local):
        return AthenaQueryEngine(s.aws.client("athena"), s.resources.athena_workgroup)
    return LocalQueryEngine(s.aws.client("glue"), s.aws.s3_filesystem())


def ingest(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    uris: Optional[List[str]] = typer.Argument(
        None, help="s3:// objects or prefixes (default: everything under the contract's source prefix)"
    ),
    force: bool = typer.Option(False, help="ingest objects again even if the ledger says they are done (a replay)"),
    engine: str = typer.Option("python", help="python or spark"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """Ingest raw objects now, in this process (backfills and replays); the ledger skips what is done."""
    s = state(ctx)
    resources = s.resources
    contract: Contract = guard(
        lambda: ContractRegistry(s.aws.client("dynamodb"), resources.datasets_table).get(dataset)
    )
    targets = uris or [f"s3://{resources.raw_bucket}/{contract.source.prefix}"]
    objects: List[SourceObject] = []
    for uri in targets:
        if not uri.startswith("s3://"):
            fail(
                ConfigurationError(
                    f"{uri!r} is not an s3:// URI",
                    hint=f"e.g. s3://{resources.raw_bucket}/{contract.source.prefix}",
                )
            )
        objects.extend(guard(partial(list_objects, s.aws.client("s3"), uri, contract)))
    if not objects:
        console.print(f"nothing to ingest under {', '.join(targets)}")
        return
    ingestor = Ingestor(s.aws, resources)
    request = IngestRequest(
        dataset=contract.dataset,
        objects=objects,
        force=force,
        engine=engine,
        engine_reason="lakeport ingest (command line)",
    )
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        progress.add_task(f"ingesting {len(objects)} object(s) into {contract.dataset}", total=None)
        summary = guard(lambda: ingestor.run(request))
    print_summary(summary, output)


def print_summary(summary: RunSummary, output: str = "table") -> None:
    rows = [
        [
            f.source.uri,
            f.state,
            f.rows_read,
            f.rows_written,
            f.rows_quarantined,
            f.rows_duplicate,
            f.reason or "",
        ]
        for f in summary.files
    ]
    print_rows(
        ["object", "state", "read", "written", "quarantined", "duplicates", "reason"],
        rows,
        output,
        title=(
            f"run {summary.run_id} of {summary.dataset}: {summary.state} in {summary.seconds:.1f} s ({summary.engine})"
        ),
        right=["read", "written", "quarantined", "duplicates"],
    )
    if output == "table":
        for skipped in summary.skipped:
            console.print(f"[dim]skipped[/] {skipped}", highlight=False)
        if summary.partitions:
            shown = ", ".join(summary.partitions[:8]) + (" …" if len(summary.partitions) > 8 else "")
            console.print(f"partitions: {shown}", highlight=False)


def runs(
    ctx: typer.Context,
    dataset: Optional[str] = typer.Argument(None, help="only this dataset"),
    limit: int = typer.Option(20, help="how many runs, newest first"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """Run history with row counts, engine and why, duration and cost."""
    s = state(ctx)
    ledger = RunLedger(s.aws.client("dynamodb"), s.resources.runs_table)
    records = guard(lambda: ledger.list(dataset, limit=limit))
    if output == "table":
        footer = f"{len(records)} run(s), newest first; --output json gives every field, cost included"
        print_run_table(console, records, footer=footer)
        return
    print_rows(
        [
            "run_id",
            "dataset",
            "state",
            "engine",
            "why",
            "files",
            "read",
            "written",
            "quarantined",
            "duplicates",
            "seconds",
            "usd",
            "error",
        ],
        [
            [
                r.run_id,
                r.dataset,
                r.state,
                r.engine,
                r.engine_reason,
                r.files,
                r.rows_read,
                r.rows_written,
                r.rows_quarantined,
                r.rows_duplicate,
                r.duration_seconds,
                r.estimated_cost_usd,
                r.error or "",
            ]
            for r in records
        ],
        output,
        right=["files", "read", "written", "quarantined", "duplicates", "seconds", "usd"],
    )


def quarantine(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    run_id: Optional[str] = typer.Option(None, "--run", help="only rows of this run"),
    limit: int = typer.Option(20, help="how many rows"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """Rejected rows with their reasons, source object and row."""
    s = state(ctx)
    database, _, table = dataset.partition(".")
    where = f"WHERE lakeport_run_id = '{run_id.replace(chr(39), '')}'" if run_id else ""
    sql = (
        f"SELECT lakeport_run_id, lakeport_source, lakeport_source_row, lakeport_reason, lakeport_raw "
        f"FROM {database}.{table}_quarantine {where} "
        f"ORDER BY lakeport_run_id DESC, lakeport_source, lakeport_source_row LIMIT {int(limit)}"
    )
    result = guard(lambda: query_engine(s).execute(sql))
    if output == "table":
        result = _quarantine_for_people(result)
    print_arrow(result, output, title=f"quarantined rows of {dataset}")


def _quarantine_for_people(result: pa.Table) -> pa.Table:
    """Short column names, the object's file name instead of its URI (csv and json keep the URI), and
    the raw line only when some row has one (rows that could not be parsed)."""
    sources = result.column("lakeport_source").to_pylist()
    columns = {
        "run": result.column("lakeport_run_id"),
        "file": pa.array([None if s is None else s.rsplit("/", 1)[-1] for s in sources], pa.string()),
        "row": result.column("lakeport_source_row"),
        "reason": result.column("lakeport_reason"),
    }
    raw = result.column("lakeport_raw")
    if raw.null_count < len(raw):
        columns["raw line"] = raw
    return pa.table(columns)


def query(
    ctx: typer.Context,
    sql: str = typer.Argument(..., help='Athena SQL, e.g. "SELECT count(*) FROM sales.orders"'),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
    engine: str = typer.Option("auto", help="auto (local on the emulator, Athena on AWS), local or athena"),
) -> None:
    """Run Athena SQL: in the Athena workgroup on AWS, with DuckDB over the catalogued Parquet locally."""
    s = state(ctx)
    result = guard(lambda: query_engine(s, engine).execute(sql))
    print_arrow(result, output)


def vacuum(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    retention_hours: float = typer.Option(24.0, help="keep generations replaced or written less than this ago"),
) -> None:
    """Delete curated generations no query can be reading any more (runs do this for what they touch)."""
    from datetime import timedelta

    from ..catalog import Catalog
    from ..engine.layout import TableLayout
    from ..vacuum import vacuum as vacuum_dataset

    s = state(ctx)
    resources = s.resources
    contract = guard(lambda: ContractRegistry(s.aws.client("dynamodb"), resources.datasets_table).get(dataset))
    catalog = Catalog(s.aws.client("glue"))
    if contract.partition_by:
        live = list(guard(lambda: catalog.get_partitions(contract.database, contract.table)).values())
    else:
        live = [guard(lambda: catalog.table_location(contract.database, contract.table))]
    layout = TableLayout.for_contract(
        contract, f"s3://{resources.curated_bucket}", f"s3://{resources.quarantine_bucket}"
    )
    result = guard(
        lambda: vacuum_dataset(
            s.aws.s3_filesystem(),
            s.aws.client("s3"),
            resources.artifacts_bucket,
            layout,
            contract.dataset,
            live,
            retention=timedelta(hours=retention_hours),
        )
    )
    console.print(
        f"{dataset}: deleted {len(result.generations_deleted)} generation(s) ({result.files_deleted} file(s));"
        f" kept {result.kept_recent} recent; {len(live)} live"
    )
