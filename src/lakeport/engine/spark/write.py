"""The write stage: conformed rows through the shared Parquet writer, inside Spark's Python workers.

A write task receives whole objects (or one slice of a large object), sends valid rows to the
curated writer and the others to the quarantine writer, under the deterministic names of
:class:`~lakeport.engine.layout.TableLayout`, and answers with one row per fact: counts, info,
the files it wrote. The driver turns those rows into :class:`~lakeport.engine.model.FileOutcome`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Contract
from ..layout import PartitionColumns, TableLayout
from ..model import PartitionKey, SourceInput, WrittenFile
from ..python.engine import CONSTANT_TEXT, curated_schema, quarantine_schema
from ..python.writer import PartitionedWriter
from .access import task_filesystem
from .columns import DATA, INFO, curated_name, partition_name, text_name

CHUNKS_PER_SLICE = 10_000
"""File numbers reserved for each slice of an object (a file holds up to 8 million rows)."""

STATS_SCHEMA = pa.schema([("src", pa.int32()), ("kind", pa.string()), ("payload", pa.string())])


@dataclass
class _Tally:
    read: int = 0
    bad: int = 0
    first: Optional[Tuple[int, Optional[int], str]] = None  # (seq, record number, reasons)


@dataclass
class WriteTask:
    """``mapInArrow`` function: write the conformed rows of whole objects; answer with statistics."""

    contract: Contract
    layout: TableLayout
    run_id: str
    ingested_at: datetime
    sources: Dict[int, SourceInput]
    filesystem: Any
    remote: bool
    memory_budget: int = 128 << 20
    row_group_rows: int = 131072
    skip_curated: Tuple[int, ...] = ()

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        contract, layout, run_id = self.contract, self.layout, self.run_id
        # the rows of a task are one slice of one object or whole objects (slice 0): a slice's file
        # sequences start at chunk slice * CHUNKS_PER_SLICE, so slices never share a file name
        offset = [0]
        filesystem = task_filesystem(self.filesystem)
        data = PartitionedWriter(
            filesystem,
            layout,
            run_id,
            curated_schema(contract),
            memory_budget=self.memory_budget,
            row_group_rows=self.row_group_rows,
            remote=self.remote,
            file_name_for=lambda source, chunk: layout.data_file_name(run_id, source, offset[0] + chunk),
            partition_columns=PartitionColumns(contract),
        )
        quarantine = PartitionedWriter(
            filesystem,
            layout,
            run_id,
            quarantine_schema(contract),
            memory_budget=self.memory_budget // 4,
            row_group_rows=self.row_group_rows,
            remote=self.remote,
            location_for=lambda key: layout.quarantine_run_location(run_id),
            file_name_for=lambda source, chunk: layout.quarantine_file_name(source, offset[0] + chunk),
        )
        tallies: Dict[int, _Tally] = {}
        infos: Dict[int, Tuple[Optional[str], str]] = {}
        try:
            for batch in batches:
                if batch.num_rows:
                    offset[0] = max(offset[0], CHUNKS_PER_SLICE * (pc.max(batch.column("__slice")).as_py() or 0))
                self._take(batch, data, quarantine, tallies, infos)
            rows: List[Tuple[int, str, str]] = []
            for src in sorted(set(tallies) | set(infos)):
                sid = self.sources[src].source_id
                tally = tallies.get(src, _Tally())
                rows.append((src, "count", json.dumps({"read": tally.read, "bad": tally.bad, "first": tally.first})))
                if src in infos:
                    error, payload = infos[src]
                    rows.append((src, "info", json.dumps({"error": error, **json.loads(payload)})))
                rows.append((src, "data", _files_json(data.finish_source(sid))))
                rows.append((src, "quarantine", _files_json(quarantine.finish_source(sid))))
            rows.append((-1, "peak", json.dumps({"bytes": data.peak_buffered_bytes})))
        finally:
            data.close()
            quarantine.close()
        yield pa.RecordBatch.from_arrays(
            [
                pa.array([r[0] for r in rows], pa.int32()),
                pa.array([r[1] for r in rows]),
                pa.array([r[2] for r in rows]),
            ],
            schema=STATS_SCHEMA,
        )

    def _take(
        self,
        batch: pa.RecordBatch,
        data: PartitionedWriter,
        quarantine: PartitionedWriter,
        tallies: Dict[int, _Tally],
        infos: Dict[int, Tuple[Optional[str], str]],
    ) -> None:
        kinds = batch.column("__kind")
        if pc.any(pc.equal(kinds, INFO)).as_py():
            info_rows = batch.filter(pc.equal(kinds, INFO))
            for src, error, payload in zip(
                info_rows.column("__src").to_pylist(),
                info_rows.column("__err").to_pylist(),
                info_rows.column("__raw").to_pylist(),
            ):
                infos[src] = (error, payload)
            batch = batch.filter(pc.equal(kinds, DATA))
        if batch.num_rows == 0:
            return
        srcs = batch.column("__src")
        for src in pc.unique(srcs).to_pylist():
            part = batch if len(pc.unique(srcs)) == 1 else batch.filter(pc.equal(srcs, src))
            self._take_source(src, part, data, quarantine, tallies.setdefault(src, _Tally()))

    def _take_source(
        self, src: int, batch: pa.RecordBatch, data: PartitionedWriter, quarantine: PartitionedWriter, tally: _Tally
    ) -> None:
        contract = self.contract
        source = self.sources[src]
        n = batch.num_rows
        reason = batch.column("__reason")
        good = pc.is_null(reason)
        good_count = pc.sum(pc.cast(good, pa.int64())).as_py() or 0
        tally.read += n
        tally.bad += n - good_count
        if good_count < n:
            bad = pc.invert(good)
            seqs = pc.filter(batch.column("__seq"), bad)
            first = pc.index(seqs, pc.min(seqs)).as_py()
            candidate = (
                seqs[first].as_py(),
                pc.filter(batch.column("__row"), bad)[first].as_py(),
                pc.filter(reason, bad)[first].as_py(),
            )
            if tally.first is None or candidate[0] < tally.first[0]:
                tally.first = candidate
            columns = [batch.column(text_name(i)) for i in range(len(contract.columns))]
            columns += [
                reason,
                batch.column("__raw"),
                _constant(source.uri, n, CONSTANT_TEXT),
                batch.column("__row"),
                _constant(self.ingested_at, n, pa.timestamp("us")),
            ]
            table = pa.Table.from_arrays(columns, schema=quarantine_schema(contract)).filter(bad)
            quarantine.write(source.source_id, table)
        if good_count and src not in self.skip_curated:
            index_of = {c.name: i for i, c in enumerate(contract.columns)}
            columns = [batch.column(curated_name(index_of[c.name])) for c in contract.data_columns]
            columns += [
                _constant(self.run_id, n, CONSTANT_TEXT),
                _constant(self.ingested_at, n, pa.timestamp("us")),
                _constant(source.uri, n, CONSTANT_TEXT),
                batch.column("__row"),
            ]
            table = pa.Table.from_arrays(columns, schema=curated_schema(contract))
            if good_count < n:
                table = table.filter(good)
                batch = batch.filter(good)
            codes, keys = _partition_codes(batch, len(contract.partition_by))
            data.write(source.source_id, table, codes, keys)


def _partition_codes(batch: pa.RecordBatch, count: int) -> Tuple[Optional[np.ndarray], Dict[int, PartitionKey]]:
    """An integer per row and code -> partition values, from the partition text columns."""
    if count == 0:
        return None, {}
    per_field = []
    texts = []
    for j in range(count):
        encoded = pc.dictionary_encode(batch.column(partition_name(j)))
        per_field.append(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64))
        texts.append(encoded.dictionary.to_pylist())
    if count == 1:
        return per_field[0], {i: (t,) for i, t in enumerate(texts[0])}
    unique, inverse = np.unique(np.stack(per_field, axis=1), axis=0, return_inverse=True)
    keys = {index: tuple(texts[j][int(c)] for j, c in enumerate(row)) for index, row in enumerate(unique)}
    return inverse.reshape(-1).astype(np.int64), keys


def _constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    zeros = pa.array(np.zeros(n, dtype=np.int32))
    if type_ == CONSTANT_TEXT:
        return pa.DictionaryArray.from_arrays(zeros, pa.array([value], pa.string()))
    return pa.array([value], type_).take(zeros)


def _files_json(files: List[WrittenFile]) -> str:
    return json.dumps([{"uri": f.uri, "partition": list(f.partition), "rows": f.rows, "bytes": f.bytes} for f in files])


def files_from_json(text: str) -> List[WrittenFile]:
    return [WrittenFile(d["uri"], tuple(d["partition"]), int(d["rows"]), int(d["bytes"])) for d in json.loads(text)]
