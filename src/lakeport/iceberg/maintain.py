"""Table maintenance, never part of a run: compact small files, expire old snapshots, remove orphans,
roll back.

* **compact** — per partition, the data files smaller than ``small_file_bytes`` are rewritten as one
  file (bin-packed up to ``target_file_bytes``), in one snapshot that replaces them: readers see the
  same rows before and after. Files written under an older schema are brought to the current one.
* **expire** — snapshots older than the contract's retention (``snapshot_retention_days``, default
  7) are removed from the metadata; the current snapshot is always kept. Time travel reaches back
  as far as the oldest kept snapshot.
* **orphans** — objects under the table's location that no kept snapshot or metadata file refers
  to (files of expired snapshots, of runs that died before committing, of replaced compactions) are
  deleted once they are older than ``orphan_age`` (default 3 days, far longer than any run: a run in
  flight has written files it has not committed yet).

Every commit here goes through Iceberg's optimistic concurrency: when a run commits meanwhile, the
compaction plans again on the new snapshot.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from ..contract import Contract
from ..engine.layout import split_uri
from ..errors import CommitConflictError
from .commit import MAX_ATTEMPTS, commit_conflicts, planned_once
from .reading import snapshot_arrow_schema
from .tables import snapshot_retention_days

log = logging.getLogger(__name__)

MAINTENANCE_PROPERTY = "lakeport.maintenance"
DEFAULT_SMALL_FILE_BYTES = 64 << 20
DEFAULT_TARGET_FILE_BYTES = 256 << 20
DEFAULT_ORPHAN_AGE = timedelta(days=3)


@dataclass
class MaintenanceReport:
    partitions_compacted: int = 0
    files_compacted: int = 0
    files_written: int = 0
    snapshots_expired: int = 0
    orphans_deleted: int = 0
    orphan_bytes_deleted: int = 0
    snapshot_id: Optional[int] = None
    kept_snapshots: int = 0
    notes: List[str] = field(default_factory=list)


def _partition_key(data_file: Any) -> Tuple[Any, ...]:
    """A file's partition values (lakeport tables keep their first partition spec)."""
    record = data_file.partition
    return tuple(record[i] for i in range(len(record)))


def compact(
    load_table: Callable[[], Any],
    filesystem: Any,
    *,
    small_file_bytes: int = DEFAULT_SMALL_FILE_BYTES,
    target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
    now: Optional[datetime] = None,
    report: Optional[MaintenanceReport] = None,
) -> MaintenanceReport:
    """Rewrite each partition's small files as few larger ones, in one snapshot."""
    from pyiceberg.io.pyarrow import parquet_file_to_data_file

    from ..engine.python.writer import PARQUET_OPTIONS

    report = report or MaintenanceReport()
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        table = load_table()
        if table.current_snapshot() is None:
            return report
        groups: Dict[Tuple[Any, ...], List[Any]] = {}
        for task in table.scan().plan_files():
            if task.file.file_size_in_bytes < small_file_bytes:
                groups.setdefault(_partition_key(task.file), []).append(task.file)
        bins: List[List[Any]] = []
        for files in groups.values():
            current: List[Any] = []
            size = 0
            for f in sorted(files, key=lambda f: f.file_path):
                if current and size + f.file_size_in_bytes > target_file_bytes:
                    bins.append(current)
                    current, size = [], 0
                current.append(f)
                size += f.file_size_in_bytes
            if current:
                bins.append(current)
        bins = [b for b in bins if len(b) > 1]
        if not bins:
            report.notes.append("no partition has more than one small file")
            return report
        schema = snapshot_arrow_schema(table, None)
        written: List[Tuple[List[Any], str]] = []
        for index, group in enumerate(bins):
            folder = group[0].file_path.rpartition("/")[0]
            target = f"{folder}/part-compact-{stamp}-{index:05d}.parquet"
            with filesystem.open_output_stream(split_uri(target)[1]) as sink:  # noqa: SIM117 - Python 3.9
                with pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS) as writer:
                    for f in group:
                        data = pq.read_table(split_uri(f.file_path)[1], filesystem=filesystem, partitioning=None)
                        writer.write_table(_conform(data, schema))
            written.append((group, target))
        try:
            tx = planned_once(table).transaction()
            with tx.update_snapshot(snapshot_properties={MAINTENANCE_PROPERTY: "compact"}).overwrite() as overwrite:
                for group, target in written:
                    for f in group:
                        overwrite.delete_data_file(f)
                    overwrite.append_data_file(parquet_file_to_data_file(table.io, table.metadata, target))
            tx.commit_transaction()
        except commit_conflicts() as exc:
            log.info("compaction of %s: the table changed (%s); planning again", table.name(), exc)
            time.sleep(min(0.05 * 2**attempt, 2.0))
            continue
        report.partitions_compacted += len({_partition_key(g[0]) for g, _ in written})
        report.files_compacted += sum(len(g) for g, _ in written)
        report.files_written += len(written)
        report.snapshot_id = load_table().current_snapshot().snapshot_id
        return report
    raise CommitConflictError("compaction could not commit: other writers kept changing the table", hint="run it again")


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns in its order: cast where the type differs, null where absent."""
    columns = []
    for column in schema:
        if column.name in table.column_names:
            values = table.column(column.name)
            columns.append(values if values.type == column.type else pc.cast(values, column.type))
        else:
            columns.append(pa.nulls(table.num_rows, column.type))
    return pa.Table.from_arrays(columns, schema=schema)


def expire(
    table: Any, contract: Contract, now: Optional[datetime] = None, report: Optional[MaintenanceReport] = None
) -> MaintenanceReport:
    """Remove snapshots older than the contract's retention (the current one always stays)."""
    report = report or MaintenanceReport()
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=snapshot_retention_days(contract))
    current = table.current_snapshot()
    old = [
        s.snapshot_id
        for s in table.metadata.snapshots
        if s.timestamp_ms < cutoff.timestamp() * 1000 and (current is None or s.snapshot_id != current.snapshot_id)
    ]
    if old:
        table.maintenance.expire_snapshots().by_ids(old).commit()
    report.snapshots_expired += len(old)
    report.kept_snapshots = len(table.metadata.snapshots) - len(old)
    return report


def referenced_files(table: Any) -> Set[str]:
    """Every object the table's metadata refers to: metadata files, manifest lists, manifests, data."""
    metadata = table.metadata
    referenced: Set[str] = {table.metadata_location}
    referenced.update(entry.metadata_file for entry in metadata.metadata_log)
    for snapshot in metadata.snapshots:
        referenced.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            referenced.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=False):
                referenced.add(entry.data_file.file_path)
    return referenced


def remove_orphans(
    table: Any,
    filesystem: Any,
    older_than: timedelta = DEFAULT_ORPHAN_AGE,
    now: Optional[datetime] = None,
    report: Optional[MaintenanceReport] = None,
) -> MaintenanceReport:
    """Delete objects under the table's location that nothing refers to and that are old enough."""
    report = report or MaintenanceReport()
    referenced = {split_uri(p)[1] for p in referenced_files(table)}
    cutoff = (now or datetime.now(timezone.utc)) - older_than
    root = split_uri(table.location())[1].rstrip("/")
    for info in filesystem.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type != pafs.FileType.File or info.path in referenced:
            continue
        modified = info.mtime
        if modified is not None and modified.replace(tzinfo=modified.tzinfo or timezone.utc) > cutoff:
            continue
        filesystem.delete_file(info.path)
        report.orphans_deleted += 1
        report.orphan_bytes_deleted += max(info.size or 0, 0)
    return report


def rollback(table: Any, snapshot_id: int) -> List[Any]:
    """Make ``snapshot_id`` the current snapshot again; returns the snapshots that are no longer
    current history (newest first), so the caller can say which runs were undone."""
    from .reading import history

    if table.metadata.snapshot_by_id(snapshot_id) is None:
        from .reading import SnapshotNotFoundError

        raise SnapshotNotFoundError(
            f"{'.'.join(table.name())} has no snapshot {snapshot_id}",
            hint="list its snapshots with 'lakeport history <dataset>'",
        )
    current = table.current_snapshot()
    undone_ids: List[int] = []
    walk = current
    while walk is not None and walk.snapshot_id != snapshot_id:
        undone_ids.append(walk.snapshot_id)
        walk = table.metadata.snapshot_by_id(walk.parent_snapshot_id) if walk.parent_snapshot_id else None
    table.manage_snapshots().set_current_snapshot(snapshot_id=snapshot_id).commit()
    by_id = {s.snapshot_id: s for s in history(table)}
    return [by_id[i] for i in undone_ids if i in by_id]
