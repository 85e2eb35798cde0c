"""``lakeport history``, ``rollback`` and ``maintain``: a curated Iceberg table's snapshots and upkeep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Tuple

import typer

if TYPE_CHECKING:
    from ..contract import Contract
from .app import CliState, console, guard, state
from .data import OUTPUT_HELP, _check_output
from .render import print_rows


def _contract_and_table(s: CliState, dataset: str) -> Tuple[Contract, Any, Any]:
    """The dataset's contract, its curated tables' handle and its table as it is now."""
    from ..iceberg.tables import CuratedTables, open_catalog
    from ..registry import ContractRegistry

    contract: Contract = guard(
        lambda: ContractRegistry(s.aws.client("dynamodb"), s.resources.datasets_table).get(dataset)
    )
    tables = CuratedTables(open_catalog(s.aws), s.aws.client("glue"))
    return contract, tables, guard(lambda: _load(tables, contract))


def _load(tables: Any, contract: Contract) -> Any:
    from pyiceberg.exceptions import NoSuchTableError

    from ..errors import ConfigurationError

    try:
        return tables.load(contract)
    except NoSuchTableError:
        raise ConfigurationError(
            f"{contract.dataset} has no curated table yet ({contract.database}.{contract.table})",
            hint=f"the table is created by its first run: 'lakeport ingest {contract.dataset}'",
        ) from None


def history(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    limit: int = typer.Option(20, help="show the newest N snapshots (0: all)"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """The table's snapshots, newest first: which run committed each, what it added and removed.

    Any of them can be read with 'lakeport query --as-of <snapshot id or ISO time>' or made current
    again with 'lakeport rollback'."""
    from ..iceberg.reading import history as table_history

    s = state(ctx)
    _, _, table = _contract_and_table(s, dataset)
    snapshots = list(reversed(table_history(table)))
    if limit > 0:
        snapshots = snapshots[:limit]
    table_output = output == "table"
    rows: List[Tuple[Any, ...]] = [
        (
            (("* " if info.current else "  ") + str(info.snapshot_id)) if table_output else info.snapshot_id,
            info.committed_at.strftime("%Y-%m-%d %H:%M:%S"),
            info.operation,
            info.run_id or "",
            info.added_files,
            info.removed_files,
            info.added_rows,
            info.removed_rows,
            info.total_rows,
        )
        for info in snapshots
    ]
    snapshot_column = "snapshot" if table_output else "snapshot_id"
    columns = [snapshot_column, "committed (UTC)", "operation", "run", "+files", "-files", "+rows", "-rows", "rows"]
    print_rows(columns, rows, output, right=("+files", "-files", "+rows", "-rows", "rows"))
    if table_output:
        console.print("[dim]* the current snapshot; maintenance snapshots have no run[/]")


def rollback(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    to: str = typer.Option(..., "--to", help="a snapshot id from 'lakeport history', or an ISO time"),
) -> None:
    """Make an earlier snapshot current again: the runs committed after it disappear from queries.

    Nothing is deleted: the undone snapshots stay in the history until they expire, and a rollback
    can itself be undone by rolling forward to one of them."""
    from ..iceberg.maintain import rollback as rollback_table
    from ..iceberg.reading import resolve_snapshot

    s = state(ctx)
    _, _, table = _contract_and_table(s, dataset)
    target: Optional[int] = guard(lambda: resolve_snapshot(table, to))
    if target is None:
        console.print(f"{dataset}: the table had no snapshot at {to}; nothing to roll back to")
        raise typer.Exit(1)
    undone = guard(lambda: rollback_table(table, target))
    console.print(f"{dataset}: snapshot {target} is current again; {len(undone)} snapshot(s) undone")
    for info in undone:
        run = f"run {info.run_id}" if info.run_id else "maintenance"
        console.print(f"  {info.snapshot_id}  {info.committed_at:%Y-%m-%d %H:%M:%S}  {info.operation:<9} {run}")
    if any(info.run_id for info in undone):
        console.print(
            "[dim]the files ledger still lists the undone runs' objects as ingested: to load them again,"
            f" run 'lakeport ingest {dataset} <s3 uri> --force' (or 'lakeport replay {dataset} --run <id>')[/]"
        )


def maintain(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    compact: bool = typer.Option(True, help="rewrite each partition's small files as larger ones"),
    expire: bool = typer.Option(True, help="remove snapshots older than the contract's snapshot_retention_days"),
    orphans: bool = typer.Option(True, help="delete files no snapshot refers to (older than --orphan-age-days)"),
    orphan_age_days: float = typer.Option(3.0, help="only delete unreferenced files older than this"),
) -> None:
    """Compact small files, expire old snapshots and delete orphaned files (runs never do this)."""
    from datetime import timedelta

    from ..iceberg import maintain as upkeep

    s = state(ctx)
    contract, tables, _ = _contract_and_table(s, dataset)

    def tables_loader() -> Any:  # the table as it is now: compaction loads it again on every attempt
        return _load(tables, contract)

    filesystem = s.aws.s3_filesystem()
    report = upkeep.MaintenanceReport()
    if compact:
        guard(lambda: upkeep.compact(tables_loader, filesystem, report=report))
    if expire:
        guard(lambda: upkeep.expire(tables_loader(), contract, report=report))
    if orphans:
        guard(
            lambda: upkeep.remove_orphans(
                tables_loader(), filesystem, older_than=timedelta(days=orphan_age_days), report=report
            )
        )
    console.print(
        f"{dataset}: compacted {report.files_compacted} file(s) in {report.partitions_compacted} partition(s)"
        f" into {report.files_written}; expired {report.snapshots_expired} snapshot(s)"
        f" (keeping {report.kept_snapshots}); deleted {report.orphans_deleted} orphaned file(s)"
        f" ({report.orphan_bytes_deleted:,} bytes)"
    )
    for note in report.notes:
        console.print(f"[dim]{note}[/]")
