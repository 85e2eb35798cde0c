"""The python engine: one process, streaming batches through pyarrow; the Glue Python-shell job runs it.

Per batch: text -> typed values (with a reason per value that does not convert) -> nullability ->
value rules -> partition keys -> ``unique`` -> valid rows to the curated writer, the others with
their reasons to the quarantine writer. Per file: the bad-row ratio and ``on_violation: fail_file``
may reject the whole file, in which case its curated output is removed and every row it had is
counted as quarantined. Nothing here makes data visible; :mod:`lakeport.commit` does that.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import LINEAGE_COLUMNS, Contract
from ...errors import InputFileError
from .. import reasons
from ..layout import PartitionColumns
from ..model import QUARANTINED, EngineJob, EngineResult, FileOutcome, SourceInput
from ..numbers import NumberSpelling
from ..sources import opener_for
from .convert import Converted, arrow_type, check_length, convert_text
from .derived import derive
from .partitions import partition_codes
from .reader import FileInfo, RawFile, TextBatch, decode_text, read_batches
from .rules import NULL_TEXT, KeyTracker, check_rules, join_reasons
from .writer import PartitionedWriter, Split, split_by_partition

log = logging.getLogger(__name__)

QUARANTINE_EXTRA = (
    ("lakeport_reason", "string"),
    ("lakeport_raw", "string"),
    ("lakeport_source", "string"),
    ("lakeport_source_row", "bigint"),
    ("lakeport_ingested_at", "timestamp"),
)


def curated_schema(contract: Contract) -> pa.Schema:
    """The Arrow schema of curated files: stored data columns, then lineage."""
    fields = [pa.field(c.name, arrow_type(c.column_type)) for c in contract.data_columns]
    fields += [
        pa.field("lakeport_run_id", CONSTANT_TEXT),
        pa.field("lakeport_ingested_at", pa.timestamp("us")),
        pa.field("lakeport_source", CONSTANT_TEXT),
        pa.field("lakeport_source_row", pa.int64()),
    ]
    assert [f.name for f in fields[-4:]] == [n for n, _ in LINEAGE_COLUMNS]
    return pa.schema(fields)


def quarantine_schema(contract: Contract) -> pa.Schema:
    """Rejected rows: every column as the text that was read, the reason and where it came from."""
    fields = [pa.field(c.name, pa.string()) for c in contract.columns]
    fields += [
        pa.field("lakeport_reason", pa.string()),
        pa.field("lakeport_raw", pa.string()),
        pa.field("lakeport_source", CONSTANT_TEXT),
        pa.field("lakeport_source_row", pa.int64()),
        pa.field("lakeport_ingested_at", pa.timestamp("us")),
    ]
    return pa.schema(fields)


CONSTANT_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Run id and source object repeat on every row: dictionary-encoded in memory, plain text to readers."""


def _constant(value: Any, n: int, type_: pa.DataType) -> pa.Array:
    zeros = pa.array(np.zeros(n, dtype=np.int32))
    if type_ == CONSTANT_TEXT:
        return pa.DictionaryArray.from_arrays(zeros, pa.array([value], pa.string()))
    return pa.array([value], type_).take(zeros)


def prefer_jemalloc() -> str:
    """Make jemalloc Arrow's default allocator where pyarrow has it, unless the environment chose one
    (``ARROW_DEFAULT_MEMORY_POOL``); returns the allocator in use.

    A job is one process and one run, so the first run's allocations are the ones that count: with
    mimalloc (pyarrow's default on Linux) they cost some 0.05 s more on a 1 MB file, 0.15 s on a
    10 MB one, and the peak memory of a 100 MB file is about 70 MB higher (benchmarks/landing.py);
    later runs in the same process are alike with either.
    """
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        # a pyarrow built without jemalloc keeps its default
        with contextlib.suppress(NotImplementedError, pa.ArrowNotImplementedError):
            pa.set_memory_pool(pa.jemalloc_memory_pool())
    return str(pa.default_memory_pool().backend_name)


class _FileRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PythonEngine:
    """Streams each source through conversion, rules and partitioning into Parquet."""

    name = "python"

    def __init__(self, memory_budget: int = 256 << 20, row_group_rows: int = 131072, threads: int = 2) -> None:
        prefer_jemalloc()
        self.memory_budget = memory_budget
        self.row_group_rows = row_group_rows
        self.threads = threads

    def run(self, job: EngineJob) -> EngineResult:
        contract = job.contract
        data_writer = PartitionedWriter(
            job.output_filesystem,
            job.layout,
            job.run_id,
            curated_schema(contract),
            memory_budget=self.memory_budget,
            row_group_rows=self.row_group_rows,
            remote=job.remote_output,
            partition_columns=PartitionColumns(contract),
        )
        quarantine_writer = PartitionedWriter(
            job.output_filesystem,
            job.layout,
            job.run_id,
            quarantine_schema(contract),
            memory_budget=self.memory_budget // 4,
            row_group_rows=self.row_group_rows,
            remote=job.remote_output,
            location_for=lambda key: job.layout.quarantine_run_location(job.run_id),
            file_name_for=job.layout.quarantine_file_name,
        )
        tracker = KeyTracker(contract.quality.rules)
        if tracker.active and job.table_keys is not None and contract.write_mode == "append":
            for index, rule in enumerate(tracker.rules):
                if list(rule.columns) == list(contract.primary_key):
                    tracker.preload_table_keys(index, job.table_keys())
        outcomes: List[FileOutcome] = []
        try:
            for source in job.sources:
                outcomes.append(self._process(job, source, data_writer, quarantine_writer, tracker))
        finally:
            data_writer.close()
            quarantine_writer.close()
        return EngineResult(engine=self.name, files=outcomes, peak_buffered_bytes=data_writer.peak_buffered_bytes)

    # -- one file ---------------------------------------------------------------------------------

    def _process(
        self,
        job: EngineJob,
        source: SourceInput,
        data_writer: PartitionedWriter,
        quarantine_writer: PartitionedWriter,
        tracker: KeyTracker,
    ) -> FileOutcome:
        contract = job.contract
        outcome = FileOutcome(source=source)
        info = FileInfo()
        opener = opener_for(source.uri, source.version, contract.dataset, job.input_filesystem, job.s3_client)
        raw = RawFile(opener, source.uri, contract.dataset)
        quality = contract.quality
        tracker.begin(source.source_id)
        lineage = _Lineage(
            job.run_id, job.ingested_at, source.uri, curated_schema(contract), quarantine_schema(contract)
        )
        failing = False  # on_violation: fail_file and a bad row seen: read on, to count and quarantine the rest
        try:
            batches = read_batches(raw, contract, info, decode=False)
            for prepared in self._prepared(contract, batches, None if tracker.active else lineage):
                routed = prepared.routed
                if routed is None:
                    # unique rules judge a row against the rows before it: decided here, in file order
                    problems = prepared.problems
                    eligible = (
                        pa.array(np.ones(prepared.rows, dtype=bool)) if problems is None else pc.is_null(problems)
                    )
                    problems = join_reasons([problems, tracker.check(prepared.typed, eligible, source.source_id)])
                    routed = _route(lineage, contract, prepared, problems)
                if failing:
                    routed = dataclasses.replace(routed, curated=None)  # the object's curated rows are dropped
                bad_rows = self._write(source, routed, data_writer, quarantine_writer, outcome)
                if bad_rows and quality.on_violation == "fail_file" and not failing:
                    failing = True
                    data_writer.discard_source(source.source_id)
            if failing:
                raise _FileRejected(
                    f"{outcome.rows_quarantined} row(s) break the contract and quality.on_violation is fail_file"
                    " (the quarantined rows show why)"
                )
            outcome.bytes_read = info.bytes_read
            outcome.ignored_columns = info.ignored_columns
            outcome.missing_columns = info.missing_columns
            if outcome.rows_read == 0:
                # an empty delivery is almost always a broken export: hold it for a person to look at
                empty = info.bytes_read == 0 and source.size == 0
                raise _FileRejected("the file is empty (0 bytes)" if empty else "the file has no data rows")
            if outcome.rows_read and outcome.rows_quarantined / outcome.rows_read > quality.max_bad_ratio:
                raise _FileRejected(
                    f"{outcome.rows_quarantined} of {outcome.rows_read} rows are bad, more than"
                    f" max_bad_ratio {quality.max_bad_ratio:g}; the first: {outcome.first_problem}"
                )
        except _FileRejected as rejected:
            self._reject(outcome, rejected.reason, data_writer, tracker)
        except InputFileError as exc:
            outcome.rows_read = max(outcome.rows_read, info.rows_in_file or 0)
            self._reject(outcome, exc.reason + (f" ({exc.hint})" if exc.hint else ""), data_writer, tracker)
        outcome.files = [] if outcome.state == QUARANTINED else data_writer.finish_source(source.source_id)
        outcome.quarantine_files = quarantine_writer.finish_source(source.source_id)
        return outcome

    @staticmethod
    def _reject(outcome: FileOutcome, reason: str, writer: PartitionedWriter, tracker: KeyTracker) -> None:
        writer.discard_source(outcome.source.source_id)
        tracker.forget(outcome.source.source_id)
        outcome.state = QUARANTINED
        outcome.reason = reason
        outcome.rows_quarantined = outcome.rows_read
        outcome.rows_written = 0

    def _prepared(
        self, contract: Contract, batches: Iterator[TextBatch], lineage: Optional[_Lineage]
    ) -> Iterator[_Prepared]:
        """Convert batches on worker threads (Arrow kernels release the GIL), yielding them in order.

        With ``lineage`` (no ``unique`` rule, so a row's fate depends on its batch alone) the workers
        also build the curated and quarantine tables and group the curated rows by partition, which
        leaves only the accounting and the hand-over to the writers to this thread.
        """
        window: Deque[Future[_Prepared]] = deque()
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="lakeport-convert") as pool:
            try:
                for batch in batches:
                    window.append(pool.submit(_prepare, contract, batch, lineage))
                    if len(window) > self.threads:
                        yield window.popleft().result()
                while window:
                    yield window.popleft().result()
            finally:
                for future in window:
                    future.cancel()

    @staticmethod
    def _write(
        source: SourceInput,
        routed: _Routed,
        data_writer: PartitionedWriter,
        quarantine_writer: PartitionedWriter,
        outcome: FileOutcome,
    ) -> int:
        """Hand a routed batch to the writers and count it; returns how many of its rows are bad."""
        outcome.rows_read += routed.rows
        if routed.rejected is not None:
            if outcome.first_problem is None:
                outcome.first_problem = routed.first_problem
            quarantine_writer.write(source.source_id, routed.rejected)
            outcome.rows_quarantined += routed.bad
        if routed.curated is not None:
            data_writer.write_split(source.source_id, routed.curated)
            outcome.rows_written += routed.rows - routed.bad
        return routed.bad


@dataclass(frozen=True)
class _Lineage:
    """What every output row of one source says about where it came from."""

    run_id: str
    ingested_at: datetime
    source: str
    curated: pa.Schema
    quarantine: pa.Schema


@dataclass
class _Routed:
    """A batch's rows sorted into their destinations."""

    rows: int
    bad: int
    first_problem: Optional[str]
    curated: Optional[Split]
    rejected: Optional[pa.Table]


@dataclass
class _Prepared:
    """A converted batch, or (``routed`` set) only its rows sorted into their destinations."""

    rows: int
    batch: Optional[TextBatch]
    typed: Dict[str, pa.Array]
    text: Dict[str, pa.Array]
    problems: Optional[pa.Array]
    codes: Optional[np.ndarray]
    keys: Dict[int, Tuple[str, ...]]
    routed: Optional[_Routed] = None


def _prepare(contract: Contract, batch: TextBatch, lineage: Optional[_Lineage] = None) -> _Prepared:
    """Everything about a batch that does not depend on the batches before it."""
    batch = decode_text(batch, contract)
    typed, text, conversion = conform(contract, batch)
    types = {c.name: typed[c.name].type for c in contract.columns}
    rule_reasons = check_rules(contract, typed, text, types)
    codes, keys, partition_problems = partition_codes(contract, typed)
    later = join_reasons([rule_reasons, partition_problems])
    if conversion is not None and later is not None:
        # rules and partitions are only judged on rows whose values all converted
        later = pc.if_else(pc.is_null(conversion), later, NULL_TEXT)
    prepared = _Prepared(batch.num_rows, batch, typed, text, join_reasons([conversion, later]), codes, keys)
    if lineage is not None:
        # keep only what the writers need, so the text and typed columns can be freed now
        routed = _route(lineage, contract, prepared, prepared.problems)
        prepared = _Prepared(batch.num_rows, None, {}, {}, None, None, {}, routed)
    return prepared


def _route(lineage: _Lineage, contract: Contract, prepared: _Prepared, problems: Optional[pa.Array]) -> _Routed:
    """Valid rows as curated rows grouped by partition; the others with their reasons, as read."""
    batch = prepared.batch
    assert batch is not None
    n = batch.num_rows
    valid = None if problems is None else pc.is_null(problems)
    bad = 0 if valid is None else n - pc.sum(valid).as_py()
    first_problem, rejected, curated = None, None, None
    if bad:
        assert problems is not None and valid is not None
        first = pc.index(valid, False).as_py()
        first_problem = f"row {batch.row_numbers[first].as_py()}: {problems[first].as_py()}"
        rejected = _quarantine_table(lineage, contract, batch, prepared.text, problems).filter(pc.invert(valid))
    if n - bad:
        table = _curated_table(lineage, contract, batch, prepared.typed)
        codes = prepared.codes
        if bad:
            assert valid is not None
            table = table.filter(valid)
            if codes is not None:
                codes = codes[valid.to_numpy(zero_copy_only=False)]
        curated = split_by_partition(table, codes, prepared.keys)
    return _Routed(n, bad, first_problem, curated, rejected)


def _curated_table(lineage: _Lineage, contract: Contract, batch: TextBatch, typed: Dict[str, pa.Array]) -> pa.Table:
    n = batch.num_rows
    columns = [typed[c.name] for c in contract.data_columns]
    columns += [
        _constant(lineage.run_id, n, CONSTANT_TEXT),
        _constant(lineage.ingested_at, n, pa.timestamp("us")),
        _constant(lineage.source, n, CONSTANT_TEXT),
        batch.row_numbers,
    ]
    return pa.Table.from_arrays(columns, schema=lineage.curated)


def _quarantine_table(
    lineage: _Lineage, contract: Contract, batch: TextBatch, text: Dict[str, pa.Array], problems: pa.Array
) -> pa.Table:
    n = batch.num_rows
    columns = [text[c.name] for c in contract.columns]
    columns += [
        problems,
        batch.raw if batch.raw is not None else pa.nulls(n, pa.string()),
        _constant(lineage.source, n, CONSTANT_TEXT),
        batch.row_numbers,
        _constant(lineage.ingested_at, n, pa.timestamp("us")),
    ]
    return pa.Table.from_arrays(columns, schema=lineage.quarantine)


def conform(
    contract: Contract, batch: TextBatch
) -> Tuple[Dict[str, pa.Array], Dict[str, pa.Array], Optional[pa.Array]]:
    """(typed columns, the text as read, reasons for rows that do not fit the schema)."""
    typed: Dict[str, pa.Array] = {}
    text: Dict[str, pa.Array] = {}
    parts: List[Optional[pa.Array]] = []
    numbers = NumberSpelling.of(contract)
    for column in contract.columns:
        if column.derived:
            continue  # computed below, from the converted values
        values = batch.columns[column.name]
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        target = arrow_type(column.column_type)
        if values.type == target and not column.column_type.is_text:
            converted = Converted(values, None)  # already typed (Parquet input)
            text[column.name] = pc.cast(values, pa.string())
        else:
            if values.type != pa.string():
                values = pc.cast(values, pa.string())
            text[column.name] = values  # as read: a quarantined row shows the marker itself
            if column.null_values:
                marked = pc.is_in(values, value_set=pa.array(column.null_values, pa.string()))
                values = pc.if_else(marked, pa.scalar(None, pa.string()), values)
            converted = convert_text(values, column, numbers)
        typed[column.name] = converted.values
        parts.append(converted.reason)
        if not column.nullable:
            missing = pc.is_null(values)
            if pc.any(missing).as_py():
                parts.append(pc.if_else(missing, reasons.null_in_required(column), NULL_TEXT))
    if contract.derived_columns:
        parts = _derive(contract, typed, text, parts, batch.num_rows)
    problems = join_reasons(parts)
    if batch.errors is not None:
        # a row that could not be read at all is reported for that alone
        problems = batch.errors if problems is None else pc.coalesce(batch.errors, problems)
    return typed, text, problems


def _derive(
    contract: Contract,
    typed: Dict[str, pa.Array],
    text: Dict[str, pa.Array],
    parts: List[Optional[pa.Array]],
    rows: int,
) -> List[Optional[pa.Array]]:
    """Add the derived columns to ``typed`` and ``text``; returns ``parts`` with their reasons. A
    derived column is only judged on rows whose read columns all converted."""
    converted = join_reasons(parts)
    clean = pa.array(np.ones(rows, dtype=bool)) if converted is None else pc.is_null(converted)
    parts = list(parts)
    for name, values in derive(contract, typed, rows).items():
        column = contract.column(name)
        if column.column_type.length is not None:
            checked = check_length(values, column)
            values = checked.values
            if checked.reason is not None:
                parts.append(pc.if_else(clean, checked.reason, NULL_TEXT))
        typed[name] = values
        text[name] = pa.nulls(rows, pa.string())  # nothing was read for it: a quarantined row shows none
        if not column.nullable:
            missing = pc.and_(clean, pc.is_null(values))
            if pc.any(missing).as_py():
                parts.append(pc.if_else(missing, reasons.derived_without_value(column), NULL_TEXT))
    return parts
