"""A run's data files committed to its Iceberg table as one snapshot, whatever partitions it touches.

* ``append`` — a fast append: the new files are added; no existing file is read or copied.
* ``overwrite_partitions`` — the files of every partition the run wrote to are replaced by the run's
  files (a dynamic partition overwrite); the other partitions are untouched.
* ``upsert`` — the run's rows replace the table's rows whose primary key arrives, wherever those rows
  are (a key may move to another partition): each table file holding such a key is rewritten without
  those rows (copy-on-write of the affected files only), in the same snapshot as the run's files.
  Files whose key range cannot hold an incoming key are not read (Iceberg's column statistics).

Each attempt starts from the table as it is now: it loads the table, returns at once when a snapshot
of this run is already there (the snapshot summary carries ``lakeport.run-id``: a retried run never
commits twice), plans against the current snapshot and commits once. When another writer committed
in between, Glue refuses the commit on the table's version (or pyiceberg's validation finds a file it
meant to replace gone); the attempt is thrown away and the next one plans again, so an upsert checks
its keys against the new snapshot. Rewritten files have names fixed by (run, replaced file), so a
later attempt overwrites an earlier one's leftovers rather than adding copies.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, Type

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..contract import Contract
from ..engine.layout import split_uri
from ..errors import CommitConflictError

log = logging.getLogger(__name__)

RUN_ID_PROPERTY = "lakeport.run-id"
KEY_SEPARATOR = "\x1f"
MAX_ATTEMPTS = 12


@dataclass
class CommitOutcome:
    """What one run's commit did to the table."""

    snapshot_id: Optional[int] = None
    operation: str = "none"
    files_added: int = 0
    files_removed: int = 0
    files_rewritten: int = 0
    rows_replaced: int = 0
    attempts: int = 0
    already_committed: bool = False
    conflicts: List[str] = field(default_factory=list)


def run_snapshot(table: Any, run_id: str) -> Optional[Any]:
    """The snapshot a run committed, if it is still in the table's metadata."""
    for snapshot in table.metadata.snapshots:
        summary = snapshot.summary
        if summary is not None and summary.get(RUN_ID_PROPERTY) == run_id:
            return snapshot
    return None


def key_array(table: pa.Table, columns: Sequence[str], types: Optional[Sequence[pa.DataType]] = None) -> pa.Array:
    """One comparable value per row for a (possibly composite) key, cast to ``types`` when given."""

    def column(index: int, name: str) -> pa.Array:
        values = table.column(name)
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if types is not None and values.type != types[index]:
            values = pc.cast(values, types[index])
        return values

    if len(columns) == 1:
        return column(0, columns[0])
    parts = [pc.cast(column(i, c), pa.string()) for i, c in enumerate(columns)]
    return pc.binary_join_element_wise(*[pc.fill_null(p, "\x00") for p in parts], KEY_SEPARATOR)


def _partition_of(data_file: Any) -> Tuple[Any, ...]:
    """A file's partition values (lakeport tables keep their first partition spec)."""
    record = data_file.partition
    return tuple(record[i] for i in range(len(record)))


def commit_conflicts() -> Tuple[Type[Exception], ...]:
    """What pyiceberg raises when the table changed under a commit: the catalog refused the new
    metadata (``CommitFailedException``), or, from 0.11, a concurrent change conflicts with this one."""
    from pyiceberg import exceptions

    found: List[Type[Exception]] = [exceptions.CommitFailedException]
    validation = getattr(exceptions, "ValidationException", None)  # pyiceberg >= 0.11
    if isinstance(validation, type) and issubclass(validation, Exception):
        found.append(validation)
    return tuple(found)


# pyiceberg 0.12 retries a failed commit itself by rebasing it on the new snapshot, without planning
# it again: an upsert would keep the deletes it planned on the old snapshot and miss a key that a
# concurrent run just added. lakeport plans every attempt itself, so the library must not retry.
_NO_LIBRARY_RETRY = {"commit.retry.num-retries": "0"}


def planned_once(table: Any) -> Any:
    """``table`` for a transaction that fails on a concurrent change instead of being rebased.

    Only this in-memory copy carries the setting: a commit applies its updates to the catalog's
    current metadata, so the stored table properties (which other engines read) stay as they are."""
    from pyiceberg.table import Table

    properties = {**table.metadata.properties, **_NO_LIBRARY_RETRY}
    metadata = table.metadata.model_copy(update={"properties": properties})
    return Table(table.name(), metadata, table.metadata_location, table.io, table.catalog)


class RunCommit:
    """Commit one run's files (``commit``); ``load_table`` returns the table as it is now."""

    def __init__(
        self,
        load_table: Callable[[], Any],
        contract: Contract,
        run_id: str,
        filesystem: Any,
        *,
        properties: Optional[Dict[str, str]] = None,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.load_table = load_table
        self.contract = contract
        self.run_id = run_id
        self.filesystem = filesystem
        self.properties = {RUN_ID_PROPERTY: run_id, **(properties or {})}
        self.max_attempts = max_attempts
        self.sleep = sleep

    def commit(self, new_files: Sequence[str]) -> CommitOutcome:
        conflicts = commit_conflicts()
        outcome = CommitOutcome()
        incoming: Optional[pa.Array] = None
        for attempt in range(1, self.max_attempts + 1):
            outcome.attempts = attempt
            table = self.load_table()
            done = run_snapshot(table, self.run_id)
            if done is not None:
                outcome.snapshot_id = done.snapshot_id
                outcome.already_committed = True
                outcome.operation = str(done.summary.operation.value) if done.summary else "unknown"
                return outcome
            if not new_files:
                return outcome  # every row was quarantined or a duplicate: nothing to commit
            if self.contract.write_mode == "upsert" and incoming is None:
                incoming = self._incoming_keys(new_files)
            try:
                return self._attempt(table, new_files, incoming, outcome)
            except conflicts as exc:
                outcome.conflicts.append(str(exc).splitlines()[0])
                if attempt == self.max_attempts:
                    break
                wait = min(0.05 * (2 ** (attempt - 1)), 2.0)
                log.info(
                    "%s run %s: the table changed while committing (%s); planning again",
                    self.contract.dataset,
                    self.run_id,
                    outcome.conflicts[-1],
                )
                self.sleep(wait + random.uniform(0, wait / 4))
        raise CommitConflictError(
            f"dataset {self.contract.dataset}: run {self.run_id} could not commit after {outcome.attempts}"
            f" attempts; other writers kept changing the table ({outcome.conflicts[-1] if outcome.conflicts else ''})",
            hint="retry the run (the state machine does); nothing of this run is visible yet",
        )

    # -- one attempt --------------------------------------------------------------------------------

    def _attempt(
        self, table: Any, new_files: Sequence[str], incoming: Optional[pa.Array], outcome: CommitOutcome
    ) -> CommitOutcome:
        from pyiceberg.io.pyarrow import parquet_file_to_data_file

        def data_file(path: str) -> Any:
            return parquet_file_to_data_file(table.io, table.metadata, path)

        with ThreadPoolExecutor(max_workers=8) as pool:
            added = list(pool.map(data_file, sorted(new_files)))
        mode = self.contract.write_mode
        removed: List[Any] = []
        rewritten: List[Any] = []
        rows_replaced = 0
        if mode == "overwrite_partitions" and table.current_snapshot() is not None:
            touched = {_partition_of(f) for f in added}
            for task in table.scan().plan_files():
                if _partition_of(task.file) in touched:
                    removed.append(task.file)
                    rows_replaced += task.file.record_count
        elif mode == "upsert" and table.current_snapshot() is not None and incoming is not None and len(incoming):
            removed, rewritten, rows_replaced = self._replace_keys(table, incoming)
        tx = planned_once(table).transaction()
        update = tx.update_snapshot(snapshot_properties=self.properties)
        if removed:
            with update.overwrite() as overwrite:
                for f in removed:
                    overwrite.delete_data_file(f)
                for path in rewritten:
                    overwrite.append_data_file(data_file(path))
                for f in added:
                    overwrite.append_data_file(f)
        else:
            with update.fast_append() as append:
                for f in added:
                    append.append_data_file(f)
        tx.commit_transaction()
        committed = run_snapshot(self.load_table(), self.run_id)
        outcome.snapshot_id = committed.snapshot_id if committed is not None else None
        outcome.operation = "overwrite" if removed else "append"
        outcome.files_added = len(added) + len(rewritten)
        outcome.files_removed = len(removed)
        outcome.files_rewritten = len(rewritten)
        outcome.rows_replaced = rows_replaced
        return outcome

    # -- upsert -------------------------------------------------------------------------------------

    def _incoming_keys(self, new_files: Sequence[str]) -> pa.Array:
        keys = list(self.contract.primary_key)
        pieces = [
            key_array(pq.read_table(split_uri(u)[1], columns=keys, filesystem=self.filesystem, partitioning=None), keys)
            for u in new_files
        ]
        return pc.unique(pa.chunked_array(pieces).combine_chunks()) if pieces else pa.array([])

    def _key_types(self, incoming: pa.Array) -> Optional[List[pa.DataType]]:
        return [incoming.type] if len(self.contract.primary_key) == 1 else None

    def _candidate_filter(self, incoming: pa.Array) -> Any:
        """Files whose first key column's range cannot hold an incoming key are left out of the plan."""
        from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, LessThanOrEqual

        if len(self.contract.primary_key) != 1:
            return AlwaysTrue()
        bounds = pc.min_max(incoming)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is None or not isinstance(low, (int, str)):
            return AlwaysTrue()
        name = self.contract.primary_key[0]
        return And(GreaterThanOrEqual(name, low), LessThanOrEqual(name, high))  # type: ignore[call-arg,misc,unused-ignore]

    def _replace_keys(self, table: Any, incoming: pa.Array) -> Tuple[List[Any], List[str], int]:
        keys = list(self.contract.primary_key)
        value_set = incoming
        removed: List[Any] = []
        rewritten: List[str] = []
        replaced = 0
        seen: Set[str] = set()
        for task in table.scan(row_filter=self._candidate_filter(incoming)).plan_files():
            path = task.file.file_path
            if path in seen:
                continue
            seen.add(path)
            stored = pq.read_table(split_uri(path)[1], columns=keys, filesystem=self.filesystem, partitioning=None)
            hits = pc.is_in(key_array(stored, keys, self._key_types(incoming)), value_set=value_set)
            count = pc.sum(hits).as_py() or 0
            if not count:
                continue
            removed.append(task.file)
            replaced += count
            if count == stored.num_rows:
                continue
            whole = pq.read_table(split_uri(path)[1], filesystem=self.filesystem, partitioning=None)
            target = rewrite_name(path, self.run_id)
            from ..engine.python.writer import PARQUET_OPTIONS

            with self.filesystem.open_output_stream(split_uri(target)[1]) as sink:
                pq.write_table(whole.filter(pc.invert(hits)), sink, **PARQUET_OPTIONS)
            rewritten.append(target)
        return removed, rewritten, replaced


def rewrite_name(path: str, run_id: str) -> str:
    """Where a run writes what is left of a table file after its upsert removed some rows."""
    folder, _, _name = path.rpartition("/")
    digest = hashlib.sha256(path.encode()).hexdigest()[:12]
    return f"{folder}/part-{run_id}-rewrite-{digest}.parquet"
