"""Hostile and malformed input, generated: the engine never crashes and never loses a row.

Each case writes a random CSV or JSON Lines file (random quoting, delimiters, encodings, control
characters, very long fields, ragged rows, wrong types, compression) and runs the python engine on
it through the local filesystem. Whatever the input, the run ends with every file either ingested
or quarantined, and rows read = rows written + rows quarantined, per file.
"""

from __future__ import annotations

import bz2
import gzip
import json
import os
import shutil
import tempfile
from datetime import datetime
from typing import List

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyarrow import fs

from lakeport.contract import load_contract_data
from lakeport.engine.layout import TableLayout, source_id
from lakeport.engine.model import QUARANTINED, SUCCEEDED, EngineJob, SourceInput
from lakeport.engine.python.engine import PythonEngine

pytestmark = [
    pytest.mark.py39,
    # pyarrow cannot hand a ragged row with invalid UTF-8 to the invalid-row handler; it reports the
    # decode error as "ignored" and then fails the read, so the file is quarantined as a whole.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

FUZZ_CASES = int(os.environ.get("LAKEPORT_FUZZ_CASES", "1000"))

COLUMNS = [
    {"name": "id", "type": "bigint", "nullable": False},
    {"name": "label", "type": "varchar(50)"},
    {"name": "amount", "type": "decimal(8,2)"},
    {"name": "seen", "type": "timestamp"},
    {"name": "day", "type": "date"},
    {"name": "flag", "type": "boolean"},
    {"name": "score", "type": "double"},
]

text_values = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40),
    st.sampled_from(["", "NULL", " ", '"', '""', "\r\n", "\n", ",", ";", "\t", "\\", "0x1F", "1e3", "-0", "NaN"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
    st.just("x" * 5000),
)


def _contract(fmt: str, delimiter: str, encoding: str, header: bool):  # type: ignore[no-untyped-def]
    source = {"prefix": "fuzz/", "format": fmt}
    if fmt == "csv":
        source["options"] = {
            "delimiter": delimiter,
            "encoding": encoding,
            "header": header,
            "null_values": ["", "NULL"],
        }
    return load_contract_data(
        {
            "dataset": "fuzz.rows",
            "owner": "fuzz@example.com",
            "source": source,
            "schema": COLUMNS,
            "primary_key": ["id"],
            "partition_by": [{"name": "month", "from": "day", "transform": "month"}],
            "quality": {
                "rules": [{"unique": ["id"]}, {"range": {"column": "amount", "min": -1000}}],
                "max_bad_ratio": 1.0,
            },
        }
    )


def _csv_bytes(rows: List[List[str]], delimiter: str, encoding: str, header: bool, quote_all: bool) -> bytes:
    lines = []
    if header:
        lines.append(delimiter.join(c["name"] for c in COLUMNS))
    for row in rows:
        cells = []
        for value in row:
            if quote_all or any(ch in value for ch in (delimiter, '"', "\n", "\r")):
                cells.append('"' + value.replace('"', '""') + '"')
            else:
                cells.append(value)
        lines.append(delimiter.join(cells))
    return ("\n".join(lines) + "\n").encode(encoding, errors="replace")


def _jsonl_bytes(rows: List[List[str]], broken: int) -> bytes:
    out = []
    for index, row in enumerate(rows):
        record = {c["name"]: v for c, v in zip(COLUMNS, row)}
        line = json.dumps(record, ensure_ascii=index % 2 == 0)
        if broken and index % broken == 0:
            line = line[: len(line) // 2]
        out.append(line)
    return ("\n".join(out) + "\n").encode("utf-8")


@settings(
    max_examples=FUZZ_CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    derandomize=True,
)
@given(
    rows=st.lists(st.lists(text_values, min_size=0, max_size=9), max_size=25),
    fmt=st.sampled_from(["csv", "csv", "jsonl"]),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "latin-1", "cp1252"]),
    header=st.booleans(),
    quote_all=st.booleans(),
    compression=st.sampled_from(["none", "none", "gzip", "bz2"]),
    broken=st.integers(min_value=0, max_value=5),
    garbage=st.binary(max_size=64),
)
def test_any_input_is_accounted_for(rows, fmt, delimiter, encoding, header, quote_all, compression, broken, garbage):  # type: ignore[no-untyped-def]
    contract = _contract(fmt, delimiter, encoding, header)
    body = _csv_bytes(rows, delimiter, encoding, header, quote_all) if fmt == "csv" else _jsonl_bytes(rows, broken)
    if broken == 5:
        body += garbage
    if compression == "gzip":
        body = gzip.compress(body)
    elif compression == "bz2":
        body = bz2.compress(body)
    work = tempfile.mkdtemp(prefix="lakeport-fuzz-")
    try:
        path = os.path.join(work, "input.dat")
        with open(path, "wb") as handle:
            handle.write(body)
        layout = TableLayout.for_contract(contract, f"file://{work}/curated", f"file://{work}/quarantine")
        uri = f"file://{path}"
        job = EngineJob(
            contract=contract,
            run_id="fuzz",
            ingested_at=datetime(2026, 1, 1),
            sources=[SourceInput(uri=uri, version="v1", size=len(body), source_id=source_id(uri, "v1"))],
            layout=layout,
            input_filesystem=fs.LocalFileSystem(),
            output_filesystem=fs.LocalFileSystem(),
            remote_output=False,
        )
        (outcome,) = PythonEngine().run(job).files
        assert outcome.state in (SUCCEEDED, QUARANTINED)
        assert outcome.rows_read == outcome.rows_written + outcome.rows_quarantined + outcome.rows_duplicate
        if outcome.state == QUARANTINED:
            assert outcome.reason and outcome.rows_written == 0 and not outcome.files
        elif broken != 5:
            # every record of the file was read (an empty CSV line is not a record)
            if fmt == "jsonl":
                assert outcome.rows_read == len(rows)
            elif quote_all and encoding == "utf-8":
                assert outcome.rows_read == sum(1 for r in rows if r)
        written = sum(pq.read_metadata(f.uri[len("file://") :]).num_rows for f in outcome.files)
        assert written == outcome.rows_written
        quarantined = sum(pq.read_metadata(f.uri[len("file://") :]).num_rows for f in outcome.quarantine_files)
        assert quarantined == outcome.rows_quarantined or outcome.state == QUARANTINED
    finally:
        shutil.rmtree(work, ignore_errors=True)
