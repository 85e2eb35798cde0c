"""What runs inside Spark tasks: reading raw objects and writing Parquet, with the shared code.

Reading and writing use the python engine's reader and writer, run by Spark's Python workers
(``mapInArrow``), so both engines see exactly the same records (quoted newlines, ragged rows,
encodings, compression, null tokens, 1-based record numbers) and write exactly the same files
(schema, names, row groups). Everything between — conversion, rules, partitions, ``unique`` — is
Spark SQL.

A read task takes a group of raw objects and streams each through the reader: one Arrow batch per
text batch (every contract column as the text that was read, plus the typed value for Parquet
columns that already have the contract's type), then one *info* row per object that carries what
the reader learned (bytes, ignored and missing columns) or the error that rejects the object.

A write task receives the conformed rows of whole objects, sends valid rows to the curated writer
and the others to the quarantine writer, and answers with one row per fact: counts, info, the
files it wrote. The driver turns those rows into :class:`~lakeport.engine.model.FileOutcome`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Contract
from ...errors import InputFileError
from ..layout import TableLayout, split_uri
from ..model import PartitionKey, SourceInput, WrittenFile
from ..python.convert import arrow_type
from ..python.engine import CONSTANT_TEXT, curated_schema, quarantine_schema
from ..python.reader import FileInfo, RawFile, read_batches
from ..python.writer import PartitionedWriter
from ..sources import opener_for

DATA, INFO = 0, 1
"""Values of the ``__kind`` column: a record of the object, or the object's info row."""

CHUNKS_PER_SLICE = 10_000
"""File numbers reserved for each slice of an object (a file holds up to 8 million rows)."""

STATS_SCHEMA = pa.schema([("src", pa.int32()), ("kind", pa.string()), ("payload", pa.string())])


def text_name(index: int) -> str:
    return f"t{index}"


def typed_input_name(index: int) -> str:
    return f"v{index}"


def typed_input_columns(contract: Contract) -> List[int]:
    """Columns a Parquet file may deliver already typed (text columns are always checked as text)."""
    if contract.source.format != "parquet":
        return []
    return [i for i, c in enumerate(contract.columns) if not c.column_type.is_text]


def read_arrow_schema(contract: Contract) -> pa.Schema:
    fields = [
        pa.field("__src", pa.int32()),
        pa.field("__slice", pa.int16()),
        pa.field("__kind", pa.int8()),
        pa.field("__seq", pa.int64()),
        pa.field("__row", pa.int64()),
        pa.field("__err", pa.string()),
        pa.field("__raw", pa.string()),
    ]
    fields += [pa.field(text_name(i), pa.string()) for i in range(len(contract.columns))]
    fields += [
        pa.field(typed_input_name(i), arrow_type(contract.columns[i].column_type))
        for i in typed_input_columns(contract)
    ]
    return pa.schema(fields)


# -- access to raw objects from a task ----------------------------------------------------------


@dataclass(frozen=True)
class S3ClientSpec:
    """Enough to build an S3 client in a task (boto3 clients cannot be pickled).

    On AWS the task uses its own credentials (the Glue job role), which the SDK refreshes; against
    a custom endpoint (the embedded emulator) the driver's credentials travel with the spec.
    """

    region: Optional[str]
    endpoint_url: Optional[str]
    credentials: Optional[Tuple[str, str, Optional[str]]] = None

    @classmethod
    def of(cls, client: Any) -> S3ClientSpec:
        endpoint = client.meta.endpoint_url
        credentials = None
        if endpoint and "amazonaws.com" not in endpoint:
            signer = getattr(client, "_request_signer", None)
            found = getattr(signer, "_credentials", None)
            if found is not None:
                frozen = found.get_frozen_credentials()
                credentials = (frozen.access_key, frozen.secret_key, frozen.token)
        else:
            endpoint = None
        return cls(client.meta.region_name, endpoint, credentials)

    def client(self) -> Any:
        import boto3

        from ...aws import RETRY_CONFIG

        kwargs: Dict[str, Any] = {"region_name": self.region, "endpoint_url": self.endpoint_url, "config": RETRY_CONFIG}
        if self.credentials:
            kwargs.update(
                aws_access_key_id=self.credentials[0],
                aws_secret_access_key=self.credentials[1],
                aws_session_token=self.credentials[2],
            )
        return boto3.client("s3", **kwargs)


@dataclass(frozen=True)
class S3FilesystemSpec:
    """A pyarrow S3 filesystem rebuilt in each task with the task's own credentials.

    The engine job's filesystem carries the driver's credentials, frozen when it was made; a long
    Spark job would outlive them. On AWS the tasks' SDK finds and refreshes the job role's own.
    """

    options: Tuple[Tuple[str, Any], ...]

    @classmethod
    def portable(cls, filesystem: Any) -> Any:
        """``filesystem`` as tasks should get it: a spec for AWS S3, else the filesystem itself."""
        from pyarrow import fs

        if not isinstance(filesystem, fs.S3FileSystem):
            return filesystem
        try:
            options = dict(filesystem.__reduce__()[1][0])
        except (AttributeError, IndexError, TypeError):
            return filesystem
        if options.get("endpoint_override"):
            return filesystem  # a custom endpoint (the embedded emulator): its credentials travel along
        for secret in ("access_key", "secret_key", "session_token"):
            options.pop(secret, None)
        spec = cls(tuple(sorted(options.items())))
        try:
            spec.build()
        except (TypeError, ValueError, AttributeError):
            return filesystem
        return spec

    def build(self) -> Any:
        from pyarrow import fs

        return fs.S3FileSystem._reconstruct(dict(self.options))


def task_filesystem(filesystem: Any) -> Any:
    return filesystem.build() if isinstance(filesystem, S3FilesystemSpec) else filesystem


@dataclass
class RawAccess:
    """How a task opens raw objects: a pyarrow filesystem (local paths) and/or an S3 client spec."""

    filesystem: Any = None
    s3: Optional[S3ClientSpec] = None
    _client: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> Dict[str, Any]:
        return {"filesystem": self.filesystem, "s3": self.s3, "_client": None}

    def raw_file(self, source: SourceInput, dataset: str) -> RawFile:
        client = None
        if split_uri(source.uri)[0] == "s3" and self.s3 is not None:
            if self._client is None:
                self._client = self.s3.client()
            client = self._client
        filesystem = task_filesystem(self.filesystem)
        return RawFile(opener_for(source.uri, source.version, dataset, filesystem, client), source.uri, dataset)


# -- reading ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One task's share of one object: the object's reader batches ``n`` with ``n % slices == slice``.

    A large object is read by several tasks, each parsing it whole (record boundaries can only be
    found from the start: a quoted field may hold a newline) and keeping every ``slices``-th batch,
    so that converting and writing it use as many cores as there are slices.
    """

    index: int
    source: SourceInput
    slice: int = 0
    slices: int = 1


@dataclass
class ReadTask:
    """``mapInArrow`` function: each input row names a task, a list of :class:`Part` read in order."""

    contract: Contract
    tasks: List[List[Part]]
    access: RawAccess

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = read_arrow_schema(self.contract)
        for batch in batches:
            for task in batch.column(0).to_pylist():
                for part in self.tasks[task]:
                    yield from self._read(part, schema)

    def _read(self, part: Part, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        contract = self.contract
        info = FileInfo()
        error: Optional[str] = None
        seq = 0
        try:
            raw = self.access.raw_file(part.source, contract.dataset)
            for number, text_batch in enumerate(read_batches(raw, contract, info)):
                n = text_batch.num_rows
                if n and number % part.slices == part.slice:
                    yield _record_batch(schema, contract, part, seq, text_batch)
                seq += n
        except InputFileError as exc:
            error = exc.reason + (f" ({exc.hint})" if exc.hint else "")
        if part.slice == 0:
            payload = {
                "bytes_read": info.bytes_read,
                "ignored_columns": list(info.ignored_columns),
                "missing_columns": list(info.missing_columns),
            }
            yield _info_batch(schema, part.index, error, json.dumps(payload))


def _record_batch(schema: pa.Schema, contract: Contract, part: Part, seq: int, batch: Any) -> pa.RecordBatch:
    n = batch.num_rows
    typed_inputs = set(typed_input_columns(contract))
    arrays: Dict[str, pa.Array] = {
        "__src": pa.array(np.full(n, part.index, dtype=np.int32)),
        "__slice": pa.array(np.full(n, part.slice, dtype=np.int16)),
        "__kind": pa.array(np.full(n, DATA, dtype=np.int8)),
        "__seq": pa.array(np.arange(seq, seq + n, dtype=np.int64)),
        "__row": _plain(batch.row_numbers, pa.int64()),
        "__err": _plain(batch.errors, pa.string()) if batch.errors is not None else pa.nulls(n, pa.string()),
        "__raw": _plain(batch.raw, pa.string()) if batch.raw is not None else pa.nulls(n, pa.string()),
    }
    for i, column in enumerate(contract.columns):
        values = batch.columns[column.name]
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        target = arrow_type(column.column_type)
        typed = None
        if i in typed_inputs:
            # the python engine keeps a Parquet column that already has the contract's type as it is
            typed = values if values.type == target else pa.nulls(n, target)
        arrays[text_name(i)] = values if values.type == pa.string() else pc.cast(values, pa.string())
        if typed is not None:
            arrays[typed_input_name(i)] = typed
    return pa.RecordBatch.from_arrays([arrays[f.name] for f in schema], schema=schema)


def _plain(values: Any, type_: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values if values.type == type_ else pc.cast(values, type_)


def _info_batch(schema: pa.Schema, index: int, error: Optional[str], payload: str) -> pa.RecordBatch:
    arrays = []
    for f in schema:
        if f.name == "__src":
            arrays.append(pa.array([index], pa.int32()))
        elif f.name == "__slice":
            arrays.append(pa.array([0], pa.int16()))
        elif f.name == "__kind":
            arrays.append(pa.array([INFO], pa.int8()))
        elif f.name == "__err":
            arrays.append(pa.array([error], pa.string()))
        elif f.name == "__raw":
            arrays.append(pa.array([payload], pa.string()))
        else:
            arrays.append(pa.nulls(1, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# -- writing ---------------------------------------------------------------------------------------


def reason_name() -> str:
    return "__reason"


def curated_name(index: int) -> str:
    return f"c{index}"


def partition_name(index: int) -> str:
    return f"p{index}"


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
        reason = batch.column(reason_name())
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
