"""A CSV file much larger than one read block: every row is accounted for, in file order.

The python engine parses a large file block by block, converts blocks on worker threads and
buffers rows per partition under a memory budget. Whatever the block boundaries and the flushes,
the output must be the rows of the file: ragged rows (wrong number of fields) are each quarantined
once with their text, valid rows land in their partition in the order of the file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from typing import Iterator, List, Tuple

import pyarrow.parquet as pq
import pytest
from pyarrow import fs

from lakeport.contract import load_contract_data
from lakeport.engine.layout import TableLayout, source_id
from lakeport.engine.model import SUCCEEDED, EngineJob, SourceInput
from lakeport.engine.python import reader
from lakeport.engine.python.engine import PythonEngine

pytestmark = pytest.mark.py39

ROWS = 300_000
RAGGED_EVERY = 997


def _lines() -> Iterator[Tuple[int, str]]:
    for i in range(1, ROWS + 1):
        month = 1 + i % 12  # every block spreads over all twelve partitions
        text = f"row {i} " + "x" * (i % 50)
        if i % RAGGED_EVERY == 0:
            yield i, f"{i},2024-{month:02d}-03\n"
        else:
            yield i, f'{i},2024-{month:02d}-03,{i % 1000}.25,"{text}"\n'


@pytest.fixture(scope="module")
def large_run():  # type: ignore[no-untyped-def]
    contract = load_contract_data(
        {
            "dataset": "big.rows",
            "owner": "tests@example.com",
            "source": {"prefix": "big/", "format": "csv", "max_row_bytes": "256KiB"},
            "schema": [
                {"name": "id", "type": "bigint", "nullable": False},
                {"name": "day", "type": "date"},
                {"name": "amount", "type": "decimal(10,2)"},
                {"name": "note", "type": "string"},
            ],
            "partition_by": [{"name": "month", "from": "day", "transform": "month"}],
            "quality": {"rules": [{"range": {"column": "amount", "min": 0}}], "max_bad_ratio": 0.5},
        }
    )
    work = tempfile.mkdtemp(prefix="lakeport-large-")
    patch = pytest.MonkeyPatch()
    patch.setattr(reader, "BLOCK_SIZE", 1 << 20)  # some sixteen blocks
    try:
        path = os.path.join(work, "big.csv")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("id,day,amount,note\n")
            handle.writelines(line for _, line in _lines())
        uri = f"file://{path}"
        job = EngineJob(
            contract=contract,
            run_id="big",
            ingested_at=datetime(2026, 1, 1),
            sources=[SourceInput(uri=uri, version="v1", size=os.path.getsize(path), source_id=source_id(uri, "v1"))],
            layout=TableLayout.for_contract(contract, f"file://{work}/curated", f"file://{work}/quarantine"),
            input_filesystem=fs.LocalFileSystem(),
            output_filesystem=fs.LocalFileSystem(),
            remote_output=False,
        )
        # a small budget forces early flushes, so a partition's rows arrive in several writes
        (outcome,) = PythonEngine(memory_budget=8 << 20).run(job).files
        curated = {
            f.partition: pq.read_table(f.uri[len("file://") :], partitioning=None).to_pydict() for f in outcome.files
        }
        rejected = [
            pq.read_table(f.uri[len("file://") :], partitioning=None).to_pydict() for f in outcome.quarantine_files
        ]
        yield outcome, curated, rejected
    finally:
        patch.undo()
        shutil.rmtree(work, ignore_errors=True)


def test_every_ragged_row_is_quarantined_once_with_its_text(large_run):  # type: ignore[no-untyped-def]
    outcome, _, rejected = large_run
    ragged = [line.rstrip("\n") for i, line in _lines() if i % RAGGED_EVERY == 0]
    assert outcome.state == SUCCEEDED
    assert outcome.rows_read == ROWS
    assert outcome.rows_quarantined == len(ragged)
    raw: List[str] = [text for table in rejected for text in table["lakeport_raw"]]
    assert raw == ragged
    # each with its own row number (across many blocks), not null
    numbers = [n for table in rejected for n in table["lakeport_source_row"]]
    assert numbers == [i for i, _ in _lines() if i % RAGGED_EVERY == 0]


def test_valid_rows_land_in_their_month_in_file_order(large_run):  # type: ignore[no-untyped-def]
    outcome, curated, _ = large_run
    assert outcome.rows_written == ROWS - ROWS // RAGGED_EVERY
    assert sorted(curated) == [(f"2024-{m:02d}",) for m in range(1, 13)]
    for (month,), table in curated.items():
        ids = table["id"]
        assert ids == sorted(ids)
        assert all(f"2024-{1 + i % 12:02d}" == month for i in ids)
        # lineage: the row number in the file is the id here, whatever ragged rows came before it
        # (pyarrow skips those; the numbering must not)
        assert table["lakeport_source_row"] == ids
