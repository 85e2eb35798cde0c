"""The read stage: raw objects through the shared reader, inside Spark's Python workers.

A read task takes a list of :class:`Part` and streams each object through the python engine's
reader: one Arrow batch per text batch (every contract column as the text that was read, plus the
typed value for Parquet columns that already have the contract's type), then one *info* row per
object carrying what the reader learned (bytes, ignored and missing columns) or the error that
rejects the object. Both engines thus see exactly the same records: quoted newlines, ragged rows,
encodings, compression, null tokens, 1-based record numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Contract
from ...errors import InputFileError
from ..model import SourceInput
from ..python.convert import arrow_type
from ..python.reader import FileInfo, read_batches
from .access import RawAccess
from .columns import DATA, INFO, text_name, typed_input_columns, typed_input_name


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
                "rows_in_file": info.rows_in_file,
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
