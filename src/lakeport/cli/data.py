"""``lakeport ingest``, ``runs``, ``quarantine`` and ``query``."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, List, Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import ConfigurationError
from .app import CliState, console, err_console, fail, guard, state
from .reasons import print_run_table
from .render import print_arrow, print_rows

EXIT_REJECTED = 2
"""``lakeport ingest``'s exit status when the run committed but some or all of its files were rejected."""

if TYPE_CHECKING:  # the engine and the SDK load when a command needs them, not at every start
    import pyarrow as pa

    from ..contract import Contract
    from ..ingest import RunSummary
    from ..ledger.files import SourceObject

OUTPUT_HELP = "table (default), csv or json"


def _check_output(output: str) -> str:
    if output not in ("table", "csv", "json"):
        raise typer.BadParameter("use table, csv or json")
    return output


def query_engine(s: CliState, engine: str = "auto", as_of: Optional[str] = None) -> Any:
    """Athena on AWS; on the local stack its Athena too (it runs the queries, with the engine loaded
    already), unless --engine local or --as-of asks for the engine in this process."""
    if engine == "athena" or (engine == "auto" and (not s.local or as_of is None)):
        if as_of is not None:
            fail(
                ConfigurationError(
                    "--as-of reads earlier snapshots with the local engine only",
                    hint="on Athena write it in the SQL: SELECT ... FROM db.t FOR VERSION AS OF <snapshot id>"
                    " (or FOR TIMESTAMP AS OF TIMESTAMP '2026-01-01 00:00:00 UTC')",
                )
            )
        from ..query.athena import AthenaQueryEngine

        return AthenaQueryEngine(s.aws.client("athena"), s.resources.athena_workgroup, local=s.local)
    from ..query.local import LocalQueryEngine

    return LocalQueryEngine.for_context(s.aws, as_of=as_of)


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
    from ..ingest import Ingestor, IngestRequest
    from ..registry import ContractRegistry
    from ..s3objects import list_objects

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
    if summary.rejected:
        # the run committed what it could, but a person has a file to look at: not a silent success
        err_console.print(
            f"[bold red]{summary.state}:[/] {len(summary.rejected)} of {len(summary.files)} file(s) rejected as a"
            f" whole, none of their rows is in the table: {summary.rejection}",
            highlight=False,
            soft_wrap=True,
        )
        err_console.print(
            "[yellow]hint:[/] each rejected file is copied to the quarantine zone; fix the file and deliver it"
            f" again, or fix the contract and run 'lakeport ingest {contract.dataset} <uri> --force'",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_REJECTED)


def shared_folder(uris: List[str]) -> str:
    """The deepest folder (ending in "/") that holds every one of ``uris``; "" if none is shared."""
    folders = [u.rpartition("/")[0].split("/") for u in uris]
    if not folders:
        return ""
    shared: List[str] = []
    for parts in zip(*folders):
        if any(p != parts[0] for p in parts):
            break
        shared.append(parts[0])
    # an s3:// URI splits into "s3:", "", bucket, ...: share at least the bucket to say anything
    return "/".join(shared) + "/" if len(shared) >= 3 else ""


def print_summary(summary: RunSummary, output: str = "table") -> None:
    # for people, each object under the folder they share, named once in the title
    common = shared_folder([f.source.uri for f in summary.files]) if output == "table" else ""
    rows = [
        [
            f.source.uri[len(common) :],
            f.state,
            f.rows_read,
            f.rows_written,
            f.rows_quarantined,
            f.rows_duplicate,
            f.reason or "",
        ]
        for f in summary.files
    ]
    title = f"run {summary.run_id} of {summary.dataset}: {summary.state} in {summary.seconds:.1f} s ({summary.engine})"
    print_rows(
        ["object", "state", "read", "written", "quarantined", "duplicates", "reason"],
        rows,
        output,
        title=title,
        right=["read", "written", "quarantined", "duplicates"],
        shorten=["object"],
        keep=["state"],
        below=["reason"],  # a reason is a sentence: under its row, whole, so the names keep their room
    )
    if common:  # one logical line, so the folder can be copied whole however the terminal wraps it
        console.print(f"objects under {common}", soft_wrap=True, highlight=False)
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
    from ..ledger.runs import RunLedger

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
    import pyarrow as pa

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
    engine: str = typer.Option(
        "auto", help="auto or athena (Athena: AWS's, or the local stack's), local (DuckDB in this process)"
    ),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="read every curated table as of a snapshot id or an ISO time ('lakeport history')"
    ),
) -> None:
    """Run Athena SQL in the deployment's Athena workgroup (the local stack's Athena runs it with DuckDB
    over the tables' snapshots).

    Time travel: --as-of, or FOR VERSION AS OF <snapshot id> / FOR TIMESTAMP AS OF TIMESTAMP '...'
    after a table name, as on Athena."""
    s = state(ctx)
    from ..query.athena import AthenaQueryEngine

    chosen = query_engine(s, engine, as_of)
    if isinstance(chosen, AthenaQueryEngine):  # Athena's answer is printed as it comes, without pyarrow
        answer = guard(lambda: chosen.answer(sql))
        print_rows(answer.columns, answer.rows, output, right=answer.numeric)
        if output == "table":
            console.print(f"[dim]{len(answer.rows)} row(s)[/]")
        return
    print_arrow(guard(lambda: chosen.execute(sql)), output)
