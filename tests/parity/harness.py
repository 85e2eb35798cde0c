"""Run both engines on the same files (local filesystem) and read back what each produced."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs

from lakeport.contract import Contract
from lakeport.engine.layout import TableLayout, source_id
from lakeport.engine.model import EngineJob, EngineResult, SourceInput

RUN_ID = "20260101T000000Z-parity"
INGESTED_AT = datetime(2026, 1, 1, 12, 0, 0)
VOLATILE = {"lakeport_run_id", "lakeport_ingested_at"}


@dataclass
class Output:
    """What one engine produced: outcomes per source URI, curated rows per partition, quarantined rows."""

    result: EngineResult
    curated: Dict[Tuple[str, ...], Set[Tuple[Any, ...]]]
    quarantined: Set[Tuple[Any, ...]]
    curated_schema: Optional[pa.Schema]
    quarantine_schema: Optional[pa.Schema]
    root: str

    def outcomes(self) -> Dict[str, Dict[str, Any]]:
        out = {}
        for o in self.result.files:
            out[o.source.uri] = {
                "state": o.state,
                "rows_read": o.rows_read,
                "rows_written": o.rows_written,
                "rows_quarantined": o.rows_quarantined,
                "rows_duplicate": o.rows_duplicate,
                "bytes_read": o.bytes_read,
                "reason": o.reason,
                "first_problem": getattr(o, "first_problem", None),
                "ignored_columns": list(o.ignored_columns),
                "missing_columns": list(o.missing_columns),
                "partitions": sorted({f.partition for f in o.files}),
                "rows_in_files": sum(f.rows for f in o.files),
                "rows_in_quarantine_files": sum(f.rows for f in o.quarantine_files),
            }
        return out


def sources_for(paths: Sequence[Path]) -> List[SourceInput]:
    out = []
    for path in paths:
        uri = f"file://{path}"
        out.append(
            SourceInput(uri=uri, version="v1", size=path.stat().st_size, source_id=source_id(uri, "v1"), key=path.name)
        )
    return out


def run_engine(
    engine: Any,
    contract: Contract,
    paths: Sequence[Path],
    work: str,
    table_keys: Optional[Callable[[], Iterable[Any]]] = None,
) -> Output:
    root = tempfile.mkdtemp(prefix=f"{engine.name}-", dir=work)
    layout = TableLayout.for_contract(contract, f"file://{root}/curated", f"file://{root}/quarantine")
    job = EngineJob(
        contract=contract,
        run_id=RUN_ID,
        ingested_at=INGESTED_AT,
        sources=sources_for(paths),
        layout=layout,
        input_filesystem=fs.LocalFileSystem(),
        output_filesystem=fs.LocalFileSystem(),
        remote_output=False,
        table_keys=table_keys,
    )
    result = engine.run(job)
    return read_output(result, root)


def _rows(table: pa.Table, drop: Set[str]) -> List[Tuple[Any, ...]]:
    names = [n for n in table.column_names if n not in drop]
    columns = []
    for name in names:
        column = table.column(name)
        if pa.types.is_dictionary(column.type):
            column = pc.cast(column, pa.string())
        elif pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            column = pc.cast(
                pc.cast(column, pa.int64() if pa.types.is_timestamp(column.type) else pa.int32()), pa.int64()
            )
        values = column.to_pylist()
        if pa.types.is_floating(column.type):
            values = ["NaN" if v is not None and math.isnan(v) else v for v in values]  # NaN != NaN in sets
        columns.append(values)
    return [tuple(zip(names, values)) for values in zip(*columns)] if columns else []


def read_output(result: EngineResult, root: str) -> Output:
    curated: Dict[Tuple[str, ...], Set[Tuple[Any, ...]]] = {}
    curated_schema = quarantine_schema = None
    for outcome in result.files:
        for written in outcome.files:
            table = pq.read_table(written.uri[len("file://") :], partitioning=None)
            curated_schema = table.schema
            assert table.num_rows == written.rows
            rows = _rows(table, VOLATILE)
            bucket = curated.setdefault(written.partition, set())
            assert not (bucket & set(rows)), "a curated row is written twice"
            bucket.update(rows)
    quarantined: Set[Tuple[Any, ...]] = set()
    for outcome in result.files:
        for written in outcome.quarantine_files:
            table = pq.read_table(written.uri[len("file://") :], partitioning=None)
            quarantine_schema = table.schema
            quarantined.update(_rows(table, {"lakeport_ingested_at"}))
    return Output(result, curated, quarantined, curated_schema, quarantine_schema, root)


def files_on_disk(root: str) -> List[str]:
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, n), root) for n in names if n.endswith(".parquet")]
    return sorted(found)


def assert_same(python: Output, spark: Output, same_names: bool = True) -> None:
    """Identical outcomes, curated rows per partition, quarantined rows (with reasons) and schemas."""
    assert spark.outcomes() == python.outcomes()
    assert set(spark.curated) == set(python.curated), "different partitions"
    for key in python.curated:
        missing = python.curated[key] - spark.curated[key]
        extra = spark.curated[key] - python.curated[key]
        assert not missing and not extra, (
            f"partition {key}: only python {sorted(missing)[:5]}, only spark {sorted(extra)[:5]}"
        )
    missing = python.quarantined - spark.quarantined
    extra = spark.quarantined - python.quarantined
    assert not missing and not extra, f"quarantine: only python {sorted(missing)[:5]}, only spark {sorted(extra)[:5]}"
    if python.curated_schema is not None:
        assert _plain(spark.curated_schema) == _plain(python.curated_schema)
    if python.quarantine_schema is not None:
        assert _plain(spark.quarantine_schema) == _plain(python.quarantine_schema)
    if same_names:  # the same files under the same names
        assert files_on_disk(spark.root) == files_on_disk(python.root)
    else:
        assert len(set(files_on_disk(spark.root))) == len(files_on_disk(spark.root))


def _plain(schema: Optional[pa.Schema]) -> Optional[List[Tuple[str, str]]]:
    if schema is None:
        return None
    return [(f.name, str(f.type)) for f in schema]
