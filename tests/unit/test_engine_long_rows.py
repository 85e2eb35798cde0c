"""Rows longer than ``source.max_row_bytes``: one quarantined row each, the file goes on, memory stays bounded.

A line is held in memory whole while it is parsed, so without a bound one gigabyte without a line
break (a decompression bomb of zeros, a broken export) costs gigabytes. The reader replaces a line
longer than the limit as soon as it has seen that many bytes of it; the engines quarantine it as one
row with its record number and length, and read the rows after it as usual.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zlib
from datetime import datetime
from typing import Any, Dict, Iterator, List, Tuple

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyarrow import fs

from lakeport.contract import load_contract_data
from lakeport.engine.layout import TableLayout, source_id
from lakeport.engine.model import SUCCEEDED, EngineJob, FileOutcome, SourceInput
from lakeport.engine.python.engine import PythonEngine
from lakeport.engine.python.reader import _LongLines

LONG = 50_000_000


def _contract(fmt: str, **source: Any) -> Any:
    return load_contract_data(
        {
            "dataset": "long.rows",
            "owner": "tests@example.com",
            "source": {"prefix": "long/", "format": fmt, **source},
            "schema": [
                {"name": "id", "type": "int", "nullable": False},
                {"name": "note", "type": "string"},
            ],
        }
    )


@pytest.fixture
def work() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="lakeport-long-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _run(
    work: str, contract: Any, name: str, body: bytes
) -> Tuple[FileOutcome, List[Dict[str, Any]], List[Dict[str, Any]]]:
    path = os.path.join(work, name)
    with open(path, "wb") as handle:
        handle.write(body)
    uri = f"file://{path}"
    job = EngineJob(
        contract=contract,
        run_id="long",
        ingested_at=datetime(2026, 1, 1),
        sources=[SourceInput(uri=uri, version="v1", size=len(body), source_id=source_id(uri, "v1"))],
        layout=TableLayout.for_contract(contract, f"file://{work}/curated", f"file://{work}/quarantine"),
        input_filesystem=fs.LocalFileSystem(),
        output_filesystem=fs.LocalFileSystem(),
        remote_output=False,
    )
    (outcome,) = PythonEngine().run(job).files
    curated = [row for f in outcome.files for row in pq.read_table(f.uri[len("file://") :]).to_pylist()]
    rejected = [row for f in outcome.quarantine_files for row in pq.read_table(f.uri[len("file://") :]).to_pylist()]
    return outcome, curated, rejected


@pytest.mark.py39
def test_a_fifty_megabyte_csv_row_is_one_quarantined_row_and_the_rows_around_it_are_written(work):  # type: ignore[no-untyped-def]
    body = b"id,note\n1,first\n2," + b"x" * LONG + b"\n3,last\n"

    outcome, curated, rejected = _run(work, _contract("csv"), "long.csv", body)

    assert outcome.state == SUCCEEDED
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (3, 2, 1)
    assert [(r["id"], r["note"], r["lakeport_source_row"]) for r in curated] == [(1, "first", 1), (3, "last", 3)]
    (bad,) = rejected
    assert bad["lakeport_source_row"] == 2
    assert f"it is {LONG + 2} bytes long, more than source.max_row_bytes (4194304)" in bad["lakeport_reason"]
    # what is kept of the line is its start and its length, not fifty megabytes
    assert bad["lakeport_raw"].startswith("2,xxx") and bad["lakeport_raw"].endswith(f"({LONG + 2} bytes in all)")
    assert len(bad["lakeport_raw"]) < 1000


@pytest.mark.py39
def test_a_long_json_line_is_one_quarantined_row_with_its_line_number(work):  # type: ignore[no-untyped-def]
    lines = [
        json.dumps({"id": 1, "note": "first"}),
        json.dumps({"id": 2, "note": "x" * LONG}),
        json.dumps({"id": 3, "note": "last"}),
    ]
    body = ("\n".join(lines) + "\n").encode()

    outcome, curated, rejected = _run(work, _contract("jsonl"), "long.jsonl", body)

    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (3, 2, 1)
    assert [r["id"] for r in curated] == [1, 3]
    (bad,) = rejected
    assert bad["lakeport_source_row"] == 2
    assert "bytes long, more than source.max_row_bytes" in bad["lakeport_reason"]


@pytest.mark.py39
def test_the_row_limit_is_the_contracts_and_rows_within_it_are_untouched(work):  # type: ignore[no-untyped-def]
    # 3 KiB of note: over a 2KiB limit, within the default one
    body = b"id,note\n1," + b"y" * 3000 + b"\n2,short\n"

    limited, _, _ = _run(work, _contract("csv", max_row_bytes="2KiB"), "a.csv", body)
    default, curated, _ = _run(work, _contract("csv"), "b.csv", body)

    assert (limited.rows_written, limited.rows_quarantined) == (1, 1)
    assert (default.rows_written, default.rows_quarantined) == (2, 0)
    assert curated[0]["note"] == "y" * 3000


def test_the_limit_must_fit_in_memory():  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="from 1KiB to 256MiB"):
        _contract("csv", max_row_bytes="1GiB")


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from datetime import datetime
    from pyarrow import fs
    from lakeport.contract import load_contract_data
    from lakeport.engine.layout import TableLayout, source_id
    from lakeport.engine.model import EngineJob, SourceInput
    from lakeport.engine.python.engine import PythonEngine

    path, work = sys.argv[1], sys.argv[2]
    contract = load_contract_data(json.loads(sys.argv[3]))
    uri = "file://" + path
    job = EngineJob(
        contract=contract, run_id="bomb", ingested_at=datetime(2026, 1, 1),
        sources=[SourceInput(uri=uri, version="v1", size=1, source_id=source_id(uri, "v1"))],
        layout=TableLayout.for_contract(contract, "file://" + work + "/curated", "file://" + work + "/quarantine"),
        input_filesystem=fs.LocalFileSystem(), output_filesystem=fs.LocalFileSystem(), remote_output=False,
    )
    engine = PythonEngine()
    (outcome,) = engine.run(job).files
    print(json.dumps({
        "budget": engine.memory_budget,
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "state": outcome.state, "read": outcome.rows_read, "quarantined": outcome.rows_quarantined,
        "written": outcome.rows_written, "problem": outcome.first_problem, "reason": outcome.reason,
    }))
    """
)


def _measure(work: str, path: str, contract: Dict[str, Any]) -> Dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, path, work, json.dumps(contract)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_gigabyte_gzip_bomb_is_read_in_bounded_memory_and_quarantined_as_one_row(work):  # type: ignore[no-untyped-def]
    """``head -c 1G /dev/zero | gzip -1``: one line of a gigabyte, about 4.5 MB compressed."""
    bomb = os.path.join(work, "bomb.jsonl.gz")
    small = os.path.join(work, "small.jsonl.gz")
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(16 << 20)
    with open(bomb, "wb") as handle:
        for _ in range(64):
            handle.write(compressor.compress(zeros))
        handle.write(compressor.flush())
    with open(small, "wb") as handle:
        handle.write(gzip.compress(b'{"id": 1, "note": "a"}\n'))
    contract = {
        "dataset": "iot.readings",
        "owner": "tests@example.com",
        "source": {"prefix": "iot/", "format": "jsonl"},
        "schema": [{"name": "id", "type": "int", "nullable": False}, {"name": "note", "type": "string"}],
    }

    baseline = _measure(work, small, contract)
    result = _measure(work, bomb, contract)

    assert baseline["written"] == 1
    # the gigabyte is one unparseable row of the file, counted; the file is not lost as a whole
    assert (result["read"], result["quarantined"], result["written"]) == (1, 1, 0)
    assert "1073741824 bytes long" in (result["problem"] or result["reason"] or "")
    # and reading it took no more memory than the engine's budget above the interpreter's own
    assert result["peak"] < baseline["peak"] + result["budget"], (result, baseline)


@settings(max_examples=300, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), max_size=30),
    read_size=st.integers(1, 70),
    final_newline=st.booleans(),
)
def test_the_line_guard_passes_lines_within_the_limit_and_replaces_each_longer_one(
    lengths: List[int], read_size: int, final_newline: bool
) -> None:
    # lines around a 16-byte limit, read in pieces smaller and larger than the limit
    limit = 16
    lines = [bytes([65 + i % 26]) * n for i, n in enumerate(lengths)]
    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    guard = _LongLines(io.BytesIO(data), limit, b"MARK")
    out = b"".join(iter(lambda: guard.read(read_size), b""))
    expected = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if len(line) > limit:
            expected.append(b"MARK\n")
        else:
            expected.append(line + (b"" if last and not final_newline else b"\n"))
    assert out == b"".join(expected)
    assert [length for length, _ in guard.dropped] == [len(line) for line in lines if len(line) > limit]
