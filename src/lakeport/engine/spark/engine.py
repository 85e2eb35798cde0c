"""The Spark engine: the python engine's semantics, distributed by Spark (AWS Glue 5.x).

One run is one Spark job (a single stage unless the contract has a ``unique`` rule):

1. **read** — the raw objects are grouped into tasks (consecutive small objects up to
   ``task_bytes``; a large object is read by several tasks, each keeping every n-th batch); each
   task streams its objects through the shared reader (:mod:`.read`) and hands Spark every record
   as text, with its 1-based record number and its order in the object;
2. **conform** — Spark SQL converts the text to the contract's types (:mod:`.conform`,
   :mod:`.convert`: no Spark cast ever sees a value before a pattern has checked it, so nothing
   becomes null silently), checks nullability, the value rules and the partition sources
   (:mod:`.rules`), builds the partition values and joins the reasons in the python engine's order;
3. **unique** — window functions over the key find duplicates in the run and keys already in the
   table (:mod:`.unique`); the rows are then regrouped by object;
4. **write** — each task writes whole objects (or a slice) with the shared Parquet writer
   (:mod:`.write`): curated rows into ``run=<run_id>`` generation folders, rejected rows into the
   run's quarantine folder, under the deterministic names of
   :class:`~lakeport.engine.layout.TableLayout` (no renames, no temporary folders), and reports
   counts and files back to the driver.

The driver then decides, per object, as the python engine does: ``on_violation: fail_file``, a
reader error, an object without rows or a bad-row ratio above ``max_bad_ratio`` rejects the object
(its curated files are deleted, its rows are counted as quarantined). With ``unique`` rules a
rejected object's keys must not count against later objects: the job runs again without it.

Both engines read a rejected object to its end, so their counts, reasons and quarantined rows agree
(``tests/parity``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...contract import Contract
from ...errors import ConfigurationError
from ..layout import split_uri
from ..model import QUARANTINED, EngineJob, EngineResult, FileOutcome, SourceInput, WrittenFile
from .access import RawAccess, S3ClientSpec, S3FilesystemSpec
from .conform import conform, typed_names, write_columns
from .read import Part, ReadTask, read_arrow_schema
from .unique import checks_table, table_keys_frame, unique_rules, with_duplicates
from .write import WriteTask, files_from_json

log = logging.getLogger(__name__)

DEFAULT_TASK_BYTES = 128 << 20
DEFAULT_SLICE_BYTES = 256 << 20
DEFAULT_MIN_SLICE_BYTES = 32 << 20
DEFAULT_MAX_SLICES = 8


@dataclass
class _Pass:
    """What one job over the objects reported, per object index."""

    counts: Dict[int, Dict[str, Any]] = field(default_factory=dict)
    infos: Dict[int, Dict[str, Any]] = field(default_factory=dict)
    data: Dict[int, List[WrittenFile]] = field(default_factory=dict)
    quarantine: Dict[int, List[WrittenFile]] = field(default_factory=dict)
    peak: int = 0


class SparkEngine:
    """Runs an :class:`EngineJob` on Spark; returns the same :class:`EngineResult` as the python engine."""

    name = "spark"

    def __init__(
        self,
        spark: Optional[SparkSession] = None,
        *,
        task_bytes: int = DEFAULT_TASK_BYTES,
        slice_bytes: int = DEFAULT_SLICE_BYTES,
        min_slice_bytes: int = DEFAULT_MIN_SLICE_BYTES,
        max_slices: int = DEFAULT_MAX_SLICES,
        memory_budget: int = 128 << 20,
        row_group_rows: int = 131072,
    ) -> None:
        self._spark = spark
        self.task_bytes = task_bytes
        self.slice_bytes = slice_bytes
        self.min_slice_bytes = min_slice_bytes
        self.max_slices = max_slices
        self.memory_budget = memory_budget
        self.row_group_rows = row_group_rows

    @property
    def spark(self) -> SparkSession:
        if self._spark is None:
            from .session import default_session

            self._spark = default_session()
        else:
            from .session import configure

            configure(self._spark)
        return self._spark

    # -- the run ----------------------------------------------------------------------------------

    def run(self, job: EngineJob) -> EngineResult:
        contract = job.contract
        sources = list(job.sources)
        access = self._access(job)
        output = job.output_filesystem if job.output_filesystem is not None else _local_filesystem(job)
        if not sources:
            return EngineResult(engine=self.name, files=[])
        spark = self.spark
        table = self._table_keys(spark, job)
        accepted = list(range(len(sources)))
        rejected: List[int] = []
        written_before: Dict[str, WrittenFile] = {}
        while True:
            result = self._pass(spark, job, sources, access, output, accepted, table, rejected)
            outcomes = [self._outcome(job, i, s, result) for i, s in enumerate(sources)]
            again = self._first_new_rejection(contract, outcomes, accepted)
            if again is None:
                break
            for files in list(result.data.values()) + list(result.quarantine.values()):
                for written in files:
                    written_before[written.uri] = written
            rejected.append(again)
            accepted.remove(again)
            log.info("%s: %s is rejected; running again without its keys", contract.dataset, sources[again].uri)
        for index, outcome in enumerate(outcomes):
            if outcome.state == QUARANTINED:
                for written in result.data.get(index, []):
                    _delete(output, written.uri)
        final = {w.uri for files in list(result.data.values()) + list(result.quarantine.values()) for w in files}
        for uri in written_before:
            if uri not in final:  # written by an earlier pass only
                _delete(output, uri)
        return EngineResult(engine=self.name, files=outcomes, peak_buffered_bytes=result.peak)

    @staticmethod
    def _first_new_rejection(contract: Contract, outcomes: List[FileOutcome], accepted: List[int]) -> Optional[int]:
        """The first object rejected in this pass whose keys later objects were judged against."""
        if not unique_rules(contract):
            return None
        for index, outcome in enumerate(outcomes):
            if outcome.state == QUARANTINED and index in accepted:
                return index if index < len(outcomes) - 1 else None
        return None

    # -- inputs -----------------------------------------------------------------------------------

    @staticmethod
    def _access(job: EngineJob) -> RawAccess:
        schemes = {split_uri(s.uri)[0] for s in job.sources}
        s3 = S3ClientSpec.of(job.s3_client) if job.s3_client is not None and "s3" in schemes else None
        filesystem = job.input_filesystem
        if filesystem is None and schemes <= {"file"}:
            filesystem = _local_filesystem(job)
        if filesystem is None and s3 is None:
            raise ConfigurationError(
                f"dataset {job.contract.dataset}, run {job.run_id}: the Spark engine has no way to read"
                f" {', '.join(sorted(schemes))}:// objects",
                hint="give the engine job an S3 client (s3://) or a pyarrow filesystem (file://)",
            )
        return RawAccess(filesystem=S3FilesystemSpec.portable(filesystem), s3=s3)

    def _tasks(self, sources: Sequence[SourceInput], parallelism: int) -> List[List[Part]]:
        """Small consecutive objects share a task (up to ``task_bytes``); a large object is read by
        several tasks (at most ``max_slices`` and the cluster's cores). Like Spark's own split size,
        a slice is the run's bytes per core, between ``min_slice_bytes`` and ``slice_bytes``."""
        parallelism = max(parallelism, 1)
        total = sum(s.size for s in sources)
        target = max(self.min_slice_bytes, min(self.slice_bytes, -(-total // parallelism)))
        tasks: List[List[Part]] = []
        size = 0
        for index, source in enumerate(sources):
            slices = min(-(-source.size // target), self.max_slices, parallelism)
            if slices > 1:
                tasks += [[Part(index, source, k, slices)] for k in range(slices)]
                size = self.task_bytes  # nothing joins a slice
            elif tasks and size + source.size <= self.task_bytes:
                tasks[-1].append(Part(index, source))
                size += source.size
            else:
                tasks.append([Part(index, source)])
                size = source.size
        return tasks

    def _table_keys(self, spark: SparkSession, job: EngineJob) -> Dict[int, DataFrame]:
        contract = job.contract
        if job.table_keys is None:
            return {}
        names = typed_names(contract)
        out: Dict[int, DataFrame] = {}
        for index, rule in enumerate(unique_rules(contract)):
            if checks_table(contract, rule):
                frame = table_keys_frame(spark, contract, names, job.table_keys())
                if frame is not None:
                    out[index] = frame
        return out

    # -- one job over the objects -----------------------------------------------------------------

    def _pass(
        self,
        spark: SparkSession,
        job: EngineJob,
        sources: List[SourceInput],
        access: RawAccess,
        output: Any,
        accepted: List[int],
        table: Dict[int, DataFrame],
        rejected: List[int],
    ) -> _Pass:
        contract = job.contract
        tasks = self._tasks(sources, spark.sparkContext.defaultParallelism)
        read_schema = _spark_schema(read_arrow_schema(contract))
        raw = spark.range(0, len(tasks), 1, numPartitions=len(tasks)).select(F.col("id").cast("int"))
        frame = raw.mapInArrow(ReadTask(contract, tasks, access), read_schema)
        frame = conform(frame, contract)
        if unique_rules(contract):
            frame = with_duplicates(frame, contract, typed_names(contract), accepted, table)
            frame = frame.withColumn("__reason", F.coalesce(F.col("__reason"), F.col("__unique")))
            # whole objects per writer task again, in reading order
            frame = frame.withColumn("__slice", F.lit(0).cast("short"))
            frame = frame.repartition(len(tasks), "__src").sortWithinPartitions("__src", "__kind", "__seq")
        frame = frame.select(*write_columns(contract))
        writer = WriteTask(
            contract=contract,
            layout=job.layout,
            run_id=job.run_id,
            ingested_at=job.ingested_at,
            sources=dict(enumerate(sources)),
            filesystem=S3FilesystemSpec.portable(output),
            remote=job.remote_output,
            memory_budget=self.memory_budget,
            row_group_rows=self.row_group_rows,
            skip_curated=tuple(rejected),
        )
        stats_schema = "src int, kind string, payload string"
        result = _Pass()
        for row in frame.mapInArrow(writer, stats_schema).collect():
            src, kind, payload = row["src"], row["kind"], row["payload"]
            if kind == "count":  # a sliced object reports once per slice
                found = json.loads(payload)
                total = result.counts.setdefault(src, {"read": 0, "bad": 0, "first": None})
                total["read"] += found["read"]
                total["bad"] += found["bad"]
                if found["first"] is not None and (total["first"] is None or found["first"][0] < total["first"][0]):
                    total["first"] = found["first"]
            elif kind == "info":
                result.infos[src] = json.loads(payload)
            elif kind == "data":
                result.data.setdefault(src, []).extend(files_from_json(payload))
            elif kind == "quarantine":
                result.quarantine.setdefault(src, []).extend(files_from_json(payload))
            elif kind == "peak":
                result.peak = max(result.peak, json.loads(payload)["bytes"])
        return result

    # -- one object's outcome, decided as the python engine decides it ------------------------------

    @staticmethod
    def _outcome(job: EngineJob, index: int, source: SourceInput, result: _Pass) -> FileOutcome:
        quality = job.contract.quality
        outcome = FileOutcome(source=source)
        counts = result.counts.get(index, {"read": 0, "bad": 0, "first": None})
        info = result.infos.get(index, {"error": None, "bytes_read": 0, "ignored_columns": [], "missing_columns": []})
        outcome.rows_read = int(counts["read"])
        outcome.rows_quarantined = int(counts["bad"])
        outcome.rows_written = outcome.rows_read - outcome.rows_quarantined
        first = counts.get("first")
        if first is not None:
            outcome.first_problem = f"row {first[1]}: {first[2]}"
        reason: Optional[str] = None
        if outcome.rows_quarantined and quality.on_violation == "fail_file":
            reason = (
                f"{outcome.rows_quarantined} row(s) break the contract and quality.on_violation is fail_file"
                " (the quarantined rows show why)"
            )
        elif info.get("error"):
            reason = str(info["error"])
            outcome.rows_read = max(outcome.rows_read, int(info.get("rows_in_file") or 0))
        else:
            outcome.bytes_read = int(info.get("bytes_read") or 0)
            outcome.ignored_columns = list(info.get("ignored_columns") or [])
            outcome.missing_columns = list(info.get("missing_columns") or [])
            if outcome.rows_read == 0:
                empty = outcome.bytes_read == 0 and source.size == 0
                reason = "the file is empty (0 bytes)" if empty else "the file has no data rows"
            elif outcome.rows_quarantined / outcome.rows_read > quality.max_bad_ratio:
                reason = (
                    f"{outcome.rows_quarantined} of {outcome.rows_read} rows are bad, more than"
                    f" max_bad_ratio {quality.max_bad_ratio:g}; the first: {outcome.first_problem}"
                )
        outcome.quarantine_files = result.quarantine.get(index, [])
        if reason is not None:
            outcome.state = QUARANTINED
            outcome.reason = reason
            outcome.rows_quarantined = outcome.rows_read
            outcome.rows_written = 0
            outcome.files = []
        else:
            outcome.files = result.data.get(index, [])
        return outcome


def _spark_schema(schema: Any) -> T.StructType:
    from pyspark.sql.pandas.types import from_arrow_schema

    # Arrow's timestamp without a zone is Spark's TIMESTAMP_NTZ
    return from_arrow_schema(schema, prefer_timestamp_ntz=True)


def _local_filesystem(job: EngineJob) -> Any:
    from pyarrow import fs

    return fs.LocalFileSystem()


def _delete(filesystem: Any, uri: str) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        filesystem.delete_file(split_uri(uri)[1])
