"""Reading a curated Iceberg table: its keys, the data files of a snapshot, its history.

Local queries read the data files that pyiceberg plans for a snapshot (the current one, or one
picked by ``--as-of``), as one pyarrow dataset whose schema is the table's schema at that snapshot
(files written before a column was added read it as null; widened columns are cast). lakeport never
writes delete files, so the planned data files are the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator, List, Optional, Union

import pyarrow as pa
import pyarrow.dataset as ds

from ..contract import Contract
from ..engine.layout import split_uri
from ..errors import TerminalError
from .commit import RUN_ID_PROPERTY


class SnapshotNotFoundError(TerminalError):
    """No snapshot of the table matches the id or time asked for."""


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: int
    committed_at: datetime
    operation: str
    run_id: Optional[str]
    added_files: int
    removed_files: int
    added_rows: int
    removed_rows: int
    total_rows: int
    current: bool
    parent_id: Optional[int]


def history(table: Any) -> List[SnapshotInfo]:
    """The table's snapshots, oldest first, with the run that committed each."""
    current = table.current_snapshot()
    current_id = current.snapshot_id if current is not None else None
    out = []
    for snapshot in sorted(table.metadata.snapshots, key=lambda s: s.timestamp_ms):
        summary = snapshot.summary
        values = summary.additional_properties if summary is not None else {}

        def number(name: str, values: Any = values) -> int:
            try:
                return int(values.get(name, 0))
            except (TypeError, ValueError):
                return 0

        out.append(
            SnapshotInfo(
                snapshot_id=snapshot.snapshot_id,
                committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=timezone.utc),
                operation=str(summary.operation.value) if summary is not None else "unknown",
                run_id=values.get(RUN_ID_PROPERTY),
                added_files=number("added-data-files"),
                removed_files=number("deleted-data-files"),
                added_rows=number("added-records"),
                removed_rows=number("deleted-records"),
                total_rows=number("total-records"),
                current=snapshot.snapshot_id == current_id,
                parent_id=snapshot.parent_snapshot_id,
            )
        )
    return out


def resolve_snapshot(table: Any, as_of: Union[int, str, datetime, None]) -> Optional[int]:
    """The snapshot id for ``as_of``: a snapshot id, or a time (the snapshot current then); ``None``
    is the current snapshot."""
    if as_of is None:
        current = table.current_snapshot()
        return current.snapshot_id if current is not None else None
    name = ".".join(table.name()) if hasattr(table, "name") else "the table"
    if isinstance(as_of, str):
        text = as_of.strip()
        if text.lstrip("-").isdigit():
            as_of = int(text)
        else:
            try:
                as_of = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
            except ValueError:
                raise SnapshotNotFoundError(
                    f"{name}: '{as_of}' is neither a snapshot id nor a time",
                    hint="give a snapshot id from 'lakeport history' or a time such as 2024-05-01T12:00:00Z",
                ) from None
    if isinstance(as_of, int):
        if table.metadata.snapshot_by_id(as_of) is None:
            raise SnapshotNotFoundError(
                f"{name} has no snapshot {as_of}", hint="list its snapshots with 'lakeport history <dataset>'"
            )
        return as_of
    moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)
    millis = int(moment.timestamp() * 1000)
    chosen = None
    for entry in table.metadata.snapshot_log:  # the current-snapshot history, rollbacks included
        if entry.timestamp_ms <= millis:
            chosen = entry.snapshot_id
    if chosen is None:
        raise SnapshotNotFoundError(
            f"{name} had no snapshot yet at {moment.isoformat()}",
            hint="list its snapshots with 'lakeport history <dataset>'",
        )
    return chosen


def snapshot_arrow_schema(table: Any, snapshot_id: Optional[int]) -> pa.Schema:
    schema = table.schema()
    if snapshot_id is not None:
        snapshot = table.metadata.snapshot_by_id(snapshot_id)
        if snapshot is not None and snapshot.schema_id is not None:
            schema = next((s for s in table.metadata.schemas if s.schema_id == snapshot.schema_id), schema)
    arrow = schema.as_arrow()
    # plain (not large) strings and binaries: what the data files hold and DuckDB reads fastest
    fields = []
    for f in arrow:
        type_ = f.type
        if pa.types.is_large_string(type_):
            type_ = pa.string()
        elif pa.types.is_large_binary(type_):
            type_ = pa.binary()
        fields.append(pa.field(f.name, type_))
    return pa.schema(fields)


def data_files(table: Any, snapshot_id: Optional[int], row_filter: Any = None) -> List[str]:
    if snapshot_id is None:
        return []
    scan = (
        table.scan(snapshot_id=snapshot_id) if row_filter is None else table.scan(row_filter, snapshot_id=snapshot_id)
    )
    return sorted(task.file.file_path for task in scan.plan_files())


def snapshot_dataset(table: Any, filesystem: Any, snapshot_id: Optional[int]) -> ds.Dataset:
    """The rows of a snapshot as a pyarrow dataset over its data files."""
    schema = snapshot_arrow_schema(table, snapshot_id)
    paths = [split_uri(p)[1] for p in data_files(table, snapshot_id)]
    return ds.FileSystemDataset.from_paths(paths, schema=schema, format=ds.ParquetFileFormat(), filesystem=filesystem)


def table_keys(table: Any, filesystem: Any, contract: Contract, run_id: str) -> Iterator[Any]:
    """Every primary-key value in the table's current snapshot, rows of ``run_id`` left out (a retry
    after the commit must not reject its own rows)."""
    keys = list(contract.primary_key)
    snapshot_id = resolve_snapshot(table, None)
    if snapshot_id is None:
        return
    dataset = snapshot_dataset(table, filesystem, snapshot_id)
    mine = ds.field("lakeport_run_id") == run_id
    for batch in dataset.to_batches(
        columns=[*keys, "lakeport_run_id"], filter=~mine | ds.field("lakeport_run_id").is_null()
    ):
        if len(keys) == 1:
            yield from batch.column(keys[0]).to_pylist()
        else:
            yield from zip(*(batch.column(c).to_pylist() for c in keys))
