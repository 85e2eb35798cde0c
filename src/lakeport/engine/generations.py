"""Build each touched partition's new generation from the run's files and the live data.

After an engine has written a run's rows into generation folders (``.../run=<run_id>/``), the new
generation of each touched partition must be *complete* before the catalog points at it:

* ``append`` — the live generation's files are copied (server-side on S3) next to the new ones,
  or, once a partition holds :data:`COMPACT_FILES` small files, rewritten as one;
* ``overwrite_partitions`` — the new generation is the run's rows only;
* ``upsert`` — within the run the latest row per primary key wins (manifest order, then row), and
  live rows whose key arrives in this run are left out of the rewritten partitions, wherever they
  are (a key may move to another partition).

Every step is idempotent: re-running it after a crash, even after the catalog already points at the
new generation, produces the same files under the same names.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs as pafs

from ..contract import Contract
from .layout import GENERATION_PREFIX, TableLayout, split_uri
from .model import SUCCEEDED, EngineResult, PartitionKey, WrittenFile

KEY_SEPARATOR = "\x1f"
COMPACT_FILES = 16
"""An append into a partition of this many files or more rewrites them as one instead of copying."""
COMPACT_BYTES = 256 << 20
"""... unless they hold more than this: large files are not the small-file problem."""
COMPACT_ROW_GROUP_ROWS = 1 << 20


@dataclass
class GenerationPlan:
    """New location per partition, and what was copied or rewritten to fill it."""

    locations: Dict[PartitionKey, str] = field(default_factory=dict)
    copied_files: int = 0
    rewritten_files: int = 0
    compacted_files: int = 0  # live files of an append partition rewritten as one
    rows_superseded: Dict[str, int] = field(default_factory=dict)  # source uri -> rows dropped by upsert


def list_parquet(filesystem: Any, location: str) -> List[str]:
    """The Parquet files directly in a location (URIs), sorted."""
    _scheme, path = split_uri(location)
    try:
        infos = filesystem.get_file_info(pafs.FileSelector(path.rstrip("/"), allow_not_found=True))
    except FileNotFoundError:
        return []
    prefix = location if location.endswith("/") else location + "/"
    return sorted(
        prefix + info.base_name
        for info in infos
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
    )


def key_array(table: pa.Table, columns: Sequence[str]) -> pa.Array:
    """One comparable value per row for a (possibly composite) key."""
    if len(columns) == 1:
        values = table.column(columns[0])
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    parts = [pc.cast(table.column(c), pa.string()) for c in columns]
    return pc.binary_join_element_wise(*[pc.fill_null(p, "\x00") for p in parts], KEY_SEPARATOR)


class Generations:
    """The generation logic shared by every engine (engines may override :meth:`merge_upsert`)."""

    def __init__(self, filesystem: Any, layout: TableLayout, contract: Contract, run_id: str) -> None:
        self.filesystem = filesystem
        self.layout = layout
        self.contract = contract
        self.run_id = run_id

    # -- reading live data --------------------------------------------------------------------------

    def read_partition_file(self, uri: str, key: PartitionKey, columns: Optional[Sequence[str]] = None) -> pa.Table:
        """Read a curated file, adding back identity partition columns (they live in the path)."""
        identity = set(self.contract.identity_partition_columns)
        stored = None if columns is None else [c for c in columns if c not in identity]
        table = pq.read_table(split_uri(uri)[1], columns=stored, filesystem=self.filesystem)
        for name, value in zip(self.layout.partition_names, key):
            if name in identity and (columns is None or name in columns):
                from .python.convert import convert_text  # typed like the contract column

                column = self.contract.column(name)
                typed = convert_text(pa.array([value] * table.num_rows, pa.string()), column).values
                table = table.append_column(name, typed)
        return table

    def live_keys(self, live: Dict[PartitionKey, str]) -> Iterable[Any]:
        """Every primary-key value in the live table (for ``unique`` checks against the table).

        Rows of this very run are left out: after a crash between the catalog switch and the
        ledgers, the live table already holds them, and the retry must not reject itself.
        """
        key_cols = list(self.contract.primary_key)
        for key, location in live.items():
            for uri in list_parquet(self.filesystem, location):
                table = self.read_partition_file(uri, key, [*key_cols, "lakeport_run_id"])
                mine = pc.equal(pc.cast(table.column("lakeport_run_id"), pa.string()), self.run_id)
                table = table.filter(pc.invert(pc.fill_null(mine, False)))
                if len(key_cols) == 1:
                    yield from table.column(key_cols[0]).to_pylist()
                else:
                    yield from zip(*(table.column(c).to_pylist() for c in key_cols))

    # -- building generations -----------------------------------------------------------------------

    def build(self, result: EngineResult, live: Dict[PartitionKey, str]) -> GenerationPlan:
        mode = self.contract.write_mode
        if mode == "upsert":
            return self.merge_upsert(result, live)
        plan = GenerationPlan()
        for key in result.partitions():
            new_location = self.layout.generation_location(key, self.run_id)
            plan.locations[key] = new_location
            old = live.get(key)
            if mode == "append" and old and old != new_location:
                copied, compacted = self._carry_over(old, new_location)
                plan.copied_files += copied
                plan.compacted_files += compacted
        return plan

    def _carry_over(self, old_location: str, new_location: str) -> Tuple[int, int]:
        """Bring a partition's live files into its new generation: copied as they are, or, once there
        are :data:`COMPACT_FILES` of them holding at most :data:`COMPACT_BYTES`, rewritten as one file.
        Returns (files copied, files compacted)."""
        uris = list_parquet(self.filesystem, old_location)
        if len(uris) >= COMPACT_FILES:
            infos = self.filesystem.get_file_info([split_uri(u)[1] for u in uris])
            if sum(max(info.size or 0, 0) for info in infos) <= COMPACT_BYTES:
                self._compact(uris, new_location + f"part-{self.run_id}-compacted-00000.parquet")
                return 0, len(uris)
        for uri in uris:
            self._copy(uri, new_location + uri.rsplit("/", 1)[1])
        return len(uris), 0

    def _compact(self, uris: Sequence[str], target: str) -> None:
        """Write the rows of ``uris``, in order, into one file, a row group at a time (memory stays
        bounded by :data:`COMPACT_ROW_GROUP_ROWS`). Files written under an older contract version are
        brought to the widest schema (a column added since is null in their rows)."""
        from .python.writer import PARQUET_OPTIONS

        def schema_of(uri: str) -> pa.Schema:
            with self.filesystem.open_input_file(split_uri(uri)[1]) as handle:
                return pq.ParquetFile(handle).schema_arrow

        schema = pa.unify_schemas([schema_of(u) for u in uris], promote_options="permissive")
        pending: List[pa.Table] = []
        rows = 0
        with ExitStack() as stack:
            sink = stack.enter_context(self.filesystem.open_output_stream(split_uri(target)[1]))
            writer = stack.enter_context(pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS))
            for uri in uris:
                with self.filesystem.open_input_file(split_uri(uri)[1]) as handle:
                    source = pq.ParquetFile(handle)
                    for index in range(source.num_row_groups):
                        piece = _conform(source.read_row_group(index), schema)
                        pending.append(piece)
                        rows += piece.num_rows
                        if rows >= COMPACT_ROW_GROUP_ROWS:
                            writer.write_table(pa.concat_tables(pending))
                            pending, rows = [], 0
            if pending:
                writer.write_table(pa.concat_tables(pending))

    def _copy(self, uri: str, target: str) -> None:
        """Copy one live file into a new generation under the same name (server-side on S3)."""
        self.filesystem.copy_file(split_uri(uri)[1], split_uri(target)[1])

    def merge_upsert(self, result: EngineResult, live: Dict[PartitionKey, str]) -> GenerationPlan:
        """Latest row per key wins within the run; live rows with an incoming key are replaced."""
        plan = GenerationPlan()
        keys = list(self.contract.primary_key)
        order_of = {o.source.uri: i for i, o in enumerate(result.files)}
        written: List[Tuple[PartitionKey, WrittenFile]] = [
            (w.partition, w) for o in result.files if o.state == SUCCEEDED for w in o.files
        ]
        if not written:
            return plan

        # 1. the winners among this run's rows
        pieces = []
        for index, (key, wf) in enumerate(written):
            table = self.read_partition_file(wf.uri, key, [*keys, "lakeport_source", "lakeport_source_row"])
            source_index = np.array(
                [order_of[s] for s in pc.cast(table.column("lakeport_source"), pa.string()).to_pylist()],
                dtype=np.int64,
            )
            order = source_index * (1 << 40) + table.column("lakeport_source_row").to_numpy(zero_copy_only=False)
            pieces.append(
                pa.table(
                    {
                        "__key": key_array(table, keys),
                        "__order": pa.array(order, pa.int64()),
                        "__file": pa.array(np.full(table.num_rows, index, dtype=np.int32)),
                        "__row": pa.array(np.arange(table.num_rows, dtype=np.int64)),
                    }
                )
            )
        incoming = pa.concat_tables(pieces)
        best = incoming.group_by("__key").aggregate([("__order", "max")])
        winners = incoming.join(
            best, keys=["__key", "__order"], right_keys=["__key", "__order_max"], join_type="left semi"
        )
        losers_by_file: Dict[int, Set[int]] = {}
        if winners.num_rows != incoming.num_rows:
            winner_ids = set(zip(winners.column("__file").to_pylist(), winners.column("__row").to_pylist()))
            for f, r, o in zip(
                incoming.column("__file").to_pylist(),
                incoming.column("__row").to_pylist(),
                incoming.column("__order").to_pylist(),
            ):
                if (f, r) not in winner_ids:
                    losers_by_file.setdefault(f, set()).add(r)
                    source_uri = result.files[o >> 40].source.uri
                    plan.rows_superseded[source_uri] = plan.rows_superseded.get(source_uri, 0) + 1
        incoming_keys = pc.unique(winners.column("__key").combine_chunks())

        # 2. rewrite this run's files that hold superseded rows
        for index, (key, wf) in enumerate(written):
            plan.locations.setdefault(key, self.layout.generation_location(key, self.run_id))
            drop = losers_by_file.get(index)
            if drop:
                table = pq.read_table(split_uri(wf.uri)[1], filesystem=self.filesystem)
                keep = np.ones(table.num_rows, dtype=bool)
                keep[list(drop)] = False
                self._write(table.filter(pa.array(keep)), wf.uri)
                plan.rewritten_files += 1

        # 3. live partitions: leave out rows whose key arrives now; copy untouched files as they are
        for key, location in live.items():
            new_location = self.layout.generation_location(key, self.run_id)
            if location == new_location:
                continue  # a retry after the catalog switched: this generation is already complete
            files = list_parquet(self.filesystem, location)
            hits: Dict[str, pa.Array] = {}
            for uri in files:
                table = self.read_partition_file(uri, key, keys)
                mask = pc.is_in(key_array(table, keys), value_set=incoming_keys)
                if pc.any(mask).as_py():
                    hits[uri] = mask
            if not hits and key not in plan.locations:
                continue  # partition not touched by this run: stays where it is
            plan.locations[key] = new_location
            for base_index, uri in enumerate(files):
                target = new_location + uri.rsplit("/", 1)[1]
                if uri in hits:
                    table = pq.read_table(split_uri(uri)[1], filesystem=self.filesystem)
                    remaining = table.filter(pc.invert(hits[uri]))
                    target = new_location + f"part-{self.run_id}-base-{base_index:05d}.parquet"
                    if remaining.num_rows:
                        self._write(remaining, target)
                    plan.rewritten_files += 1
                else:
                    self._copy(uri, target)
                    plan.copied_files += 1
        return plan

    def _write(self, table: pa.Table, uri: str) -> None:
        from .python.writer import PARQUET_OPTIONS

        with self.filesystem.open_output_stream(split_uri(uri)[1]) as sink:
            pq.write_table(table, sink, **PARQUET_OPTIONS)


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s columns, in its order: widened where the type differs, null where absent."""
    columns = []
    for column in schema:
        if column.name in table.column_names:
            values = table.column(column.name)
            columns.append(values if values.type == column.type else pc.cast(values, column.type))
        else:
            columns.append(pa.nulls(table.num_rows, column.type))
    return pa.Table.from_arrays(columns, schema=schema)


def is_generation(location: str, run_id: str) -> bool:
    return location.rstrip("/").endswith(f"{GENERATION_PREFIX}{run_id}")


def unpartitioned_key() -> PartitionKey:
    return ()


Reader = Callable[[str], pa.Table]
