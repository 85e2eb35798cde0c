"""Landing to queryable through the local stack, on real-shaped CSVs, beside the bare conversion.

TPC-H lineitem is tidy: ISO dates, plain decimals, no missing values. Real exports are not. This
benchmark generates CSVs shaped like a public on-time flights file (19 columns: ints, doubles with
up to 17 significant digits, short codes, an ISO-8601 timestamp with a ``Z`` suffix, ``NA`` for
missing values; contract in ``flights.yaml``, identity-partitioned by ``month``) at several sizes,
and for each size times:

- **polars** and **DuckDB**: the bare conversion of the file to Parquet (read typed with ``NA`` as
  null, write one file), each in a fresh subprocess, timed inside it;
- **polars, by month**: the same conversion written as the engine lays its output out, one file
  per month in ``month=<m>/`` folders (the contract partitions by month): the same files to write;
- **lakeport engine**: ``PythonEngine().run`` on the same local file, in a fresh subprocess: the
  full job (per-value checks with reasons, lineage, partitioned deterministic files);
- **landing → queryable**: the file is put into the raw bucket of ``lakeport local up``'s stack
  (the embedded emulator, S3 events, the dispatcher, the state machine, the Glue runner, the
  Iceberg commit); the clock runs from the end of the upload until ``SELECT count(*)`` on the table
  returns every row. This is what a person waits for.

    python benchmarks/landing.py                       # 1 MB, 10 MB, 100 MB, median of 3
    python benchmarks/landing.py --sizes 1MB,1GB --repeat 1

Not a test: it prints a table of medians and ratios, and exits non-zero if a run does not bring
every row into the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
CONTRACT = HERE / "flights.yaml"
DATA = HERE / "data" / "flights"
DEFAULT_SIZES = "1MB,10MB,100MB"
CARRIERS = ["UA", "AA", "B6", "DL", "EV", "MQ", "US", "WN", "VX", "FL", "AS", "9E", "F9", "HA", "YV", "OO"]
AIRPORTS = ["EWR", "LGA", "JFK", "ATL", "ORD", "LAX", "SFO", "BOS", "MCO", "MIA", "DFW", "DEN", "IAH", "SEA"]


# -- data -------------------------------------------------------------------------------------------


def flights_csv(size: int) -> Path:
    """Generate (once) a flights-shaped CSV of about ``size`` bytes, deterministically."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"flights-{size}.csv"
    if path.exists():
        return path
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(size)
    rows = max(size // 104, 1)  # about 104 bytes a row

    def ints(low: int, high: int, missing: float = 0.0) -> pa.Array:
        values = pa.array(rng.integers(low, high, rows)).cast(pa.string())
        return _with_na(values, missing)

    def _with_na(values: pa.Array, missing: float) -> pa.Array:
        if not missing:
            return values
        return pc.if_else(pa.array(rng.random(rows) < missing), pa.scalar("NA"), values)

    month = rng.integers(1, 13, rows)
    day = rng.integers(1, 29, rows)
    hour = rng.integers(5, 24, rows)
    minute = rng.integers(0, 60, rows)
    # the scheduled hour of the flight, ISO-8601 in UTC with a "Z", as the public file writes it
    stamps = np.datetime64("2013-01-01T00:00:00", "s") + (((month - 1) * 31 + day - 1) * 86400 + hour * 3600).astype(
        "timedelta64[s]"
    )
    time_hour = pc.utf8_replace_slice(pc.strftime(pa.array(stamps), "%Y-%m-%dT%H:%M:%S"), 19, 19, "Z")
    distance = pa.array(rng.random(rows) * 2500 + 17)  # printed with up to 17 significant digits
    table = pa.table(
        {
            "year": pa.array(["2013"] * rows),
            "month": pa.array(month).cast(pa.string()),
            "day": pa.array(day).cast(pa.string()),
            "dep_time": ints(1, 2400, 0.025),
            "sched_dep_time": ints(500, 2359),
            "dep_delay": _with_na(pa.array(rng.normal(12, 40, rows).round(0)).cast(pa.string()), 0.025),
            "arr_time": ints(1, 2400, 0.026),
            "sched_arr_time": ints(1, 2359),
            "arr_delay": _with_na(pa.array(rng.normal(7, 44, rows).round(0)).cast(pa.string()), 0.028),
            "carrier": pa.array(np.array(CARRIERS)[rng.integers(0, len(CARRIERS), rows)]),
            "flight": ints(1, 8500),
            "tailnum": _with_na(pa.array(np.char.add("N", rng.integers(100, 999, rows).astype(str))), 0.007),
            "origin": pa.array(np.array(AIRPORTS[:3])[rng.integers(0, 3, rows)]),
            "dest": pa.array(np.array(AIRPORTS)[rng.integers(0, len(AIRPORTS), rows)]),
            "air_time": _with_na(pa.array(rng.normal(150, 90, rows).clip(20, 700).round(0)).cast(pa.string()), 0.028),
            "distance": distance.cast(pa.string()),
            "hour": pa.array(hour).cast(pa.string()),
            "minute": pa.array(minute).cast(pa.string()),
            "time_hour": time_hour,
        }
    )
    staging = path.with_suffix(".tmp")
    pacsv.write_csv(table, staging, pacsv.WriteOptions(quoting_style="none"))
    staging.rename(path)
    return path


def rows_of(csv: Path) -> int:
    with open(csv, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b"")) - 1


# -- the bare conversions and the engine alone (each in a subprocess) -------------------------------


def job_polars(csv: Path, out: Path) -> None:
    import polars as pl

    pl.scan_csv(csv, null_values=["", "NA"], try_parse_dates=True).sink_parquet(out / "flights.parquet")


def job_polars_partitioned(csv: Path, out: Path) -> None:
    import polars as pl

    # the engine's output layout: one file per month, in hive-style month=<m>/ folders
    reader = pl.scan_csv(csv, null_values=["", "NA"], try_parse_dates=True)
    reader.sink_parquet(pl.PartitionBy(out / "flights", key="month"), mkdir=True)


def job_duckdb(csv: Path, out: Path) -> None:
    import duckdb

    target = out / "flights.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{csv}', nullstr = ['', 'NA'])) TO '{target}' (FORMAT parquet)")


def job_engine(csv: Path, out: Path) -> None:
    from datetime import datetime

    import pyarrow.fs as pafs

    from lakeport.contract import load_contract_file
    from lakeport.engine.layout import TableLayout, source_id
    from lakeport.engine.model import EngineJob, SourceInput
    from lakeport.engine.python.engine import PythonEngine

    contract = load_contract_file(CONTRACT)
    uri = f"file://{csv}"
    filesystem = pafs.LocalFileSystem()
    job = EngineJob(
        contract=contract,
        run_id="bench",
        ingested_at=datetime(2024, 1, 1),
        sources=[SourceInput(uri=uri, version="v1", size=csv.stat().st_size, source_id=source_id(uri, "v1"))],
        layout=TableLayout.for_contract(contract, f"file://{out}/curated", f"file://{out}/quarantine"),
        input_filesystem=filesystem,
        output_filesystem=filesystem,
        remote_output=False,
    )
    (outcome,) = PythonEngine().run(job).files
    assert outcome.rows_written == outcome.rows_read, f"the engine quarantined rows: {outcome.first_problem}"


JOBS = {
    "polars": job_polars,
    "polars-partitioned": job_polars_partitioned,
    "duckdb": job_duckdb,
    "engine": job_engine,
}
IMPORTS = {
    "polars": "import polars",
    "polars-partitioned": "import polars",
    "duckdb": "import duckdb",
    "engine": "import lakeport.engine.python.engine, pyarrow.dataset",
}


def worker(job: str, csv: Path, out: Path) -> None:
    exec(IMPORTS[job])  # the libraries load before the clock: the work is timed, not the imports
    started = time.perf_counter()
    JOBS[job](csv, out)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def run_subprocess(job: str, csv: Path) -> float:
    with tempfile.TemporaryDirectory(prefix=f"lakeport-bench-{job}-") as out:
        command = [sys.executable, __file__, "--worker", job, "--csv", str(csv), "--out", out]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


# -- landing to queryable through the local stack ---------------------------------------------------


class Stack:
    """``lakeport local up``'s stack, started once; one dataset per landing so each run is alone."""

    def __init__(self, state_dir: Optional[Path] = None) -> None:
        from lakeport.local.pipeline import wire
        from lakeport.local.stack import LocalStack

        self.stack = LocalStack(state_dir=state_dir).start()
        wire(self.stack)
        self.count = 0

    def land(self, csv: Path, rows: int) -> Dict[str, float]:
        from lakeport.contract import load_contract_text
        from lakeport.ledger.runs import FINISHED_STATES, RunLedger
        from lakeport.query import LocalQueryEngine
        from lakeport.registry import ContractRegistry

        self.count += 1
        dataset, prefix = f"bench.flights_{self.count}", f"bench/flights-{self.count}/"
        text = CONTRACT.read_text(encoding="utf-8")
        text = text.replace("dataset: bench.flights", f"dataset: {dataset}").replace("bench/flights/", prefix)
        aws, resources = self.stack.aws, self.stack.resources
        ContractRegistry(aws.client("dynamodb"), resources.datasets_table).apply(
            load_contract_text(text), applied_by="benchmark"
        )
        runs = RunLedger(aws.client("dynamodb"), resources.runs_table)
        started = time.perf_counter()
        aws.client("s3").upload_file(str(csv), resources.raw_bucket, f"{prefix}{csv.name}")
        landed, landed_at = time.perf_counter(), time.time()
        while True:
            records = runs.list(dataset, limit=5)
            if any(r.state in FINISHED_STATES for r in records):
                break
            failed = [r for r in records if r.state == "FAILED"]
            if failed and not self.stack.running_executions():
                raise SystemExit(f"the run of {dataset} failed: {failed[0].error}")
            time.sleep(0.02)
        [counted] = LocalQueryEngine.for_context(aws).execute(f"SELECT count(*) AS n FROM {dataset}").to_pylist()
        queryable = time.perf_counter()
        if counted["n"] != rows:
            raise SystemExit(f"{dataset}: {counted['n']} rows are queryable, {rows} were landed")
        queryable_at = time.time()
        [record] = [r for r in runs.list(dataset, limit=5) if r.state in FINISHED_STATES]
        phases = self._phases(record.execution_arn, landed_at, queryable_at)
        return {"upload": landed - started, "queryable": queryable - landed, **phases}

    def _phases(self, execution_arn: Any, landed_at: float, queryable_at: float) -> Dict[str, float]:
        """Where the wait went, from the execution's history: until the execution started (S3 event,
        queue, dispatcher), the job as the state machine saw it, the states after it, the query."""
        sfn = self.stack.aws.client("stepfunctions")
        # the data is queryable once the job committed; the execution records its last states after
        while sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
            time.sleep(0.05)
        events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]

        def at(kind: str, after: float = 0.0) -> float:
            return min(
                e["timestamp"].timestamp() for e in events if e["type"] == kind and e["timestamp"].timestamp() >= after
            )

        began, ended = at("ExecutionStarted"), at("ExecutionSucceeded")
        job_started = at("TaskSubmitted")  # the Glue job run was started
        job_ended = at("TaskSucceeded", after=job_started)
        return {
            "dispatch": began - landed_at,
            "states": (job_started - began) + (ended - job_ended),
            "job": job_ended - job_started,
            "query": queryable_at - ended,
        }

    def query_latency(self, repeat: int) -> Dict[str, float]:
        """``lakeport query`` as a person types it (a new process each time, against this stack),
        and the floor of any Python process that imports what it needs, in the same run. A small
        query: count(*) of the first (smallest) table, and of the last (largest), which reads its data."""
        small, large = "bench.flights_1", f"bench.flights_{self.count}"
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL=self.stack.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION=self.stack.resources.region,
        )
        lakeport = str(Path(sys.executable).with_name("lakeport"))
        sql = f"SELECT count(*) AS n FROM {small}"
        commands = {
            "query": [lakeport, "query", sql],  # asks the stack's Athena, which runs it
            "in process": [lakeport, "query", sql, "--engine", "local"],  # DuckDB and pyiceberg in the command
            "largest": [lakeport, "query", f"SELECT count(*) AS n FROM {large}"],
            "floor": [sys.executable, "-c", "import boto3, rich.console, typer"],  # what the command needs
        }
        out: Dict[str, float] = {}
        for name, command in commands.items():
            seconds = []
            for _ in range(repeat):
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env)
                seconds.append(time.perf_counter() - started)
            out[name] = statistics.median(seconds)
        return out

    def close(self) -> None:
        self.stack.stop()


# -- the table ------------------------------------------------------------------------------------


def parse_sizes(text: str) -> List[int]:
    from lakeport.contract.model import parse_size

    return [parse_size(part.replace("MB", "MiB").replace("GB", "GiB")) for part in text.split(",") if part]


def human(size: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} B"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated, e.g. 1MB,10MB,100MB,1GB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", choices=sorted(JOBS))
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--state-dir",
        type=Path,
        help="run the stack keeping its state in this (empty) folder, as lakeport local up does",
    )
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.csv, args.out)
        return 0

    sys.path.insert(0, str(HERE))
    from lineitem import machine  # the same description of the machine as the lineitem benchmark

    kept = f"state kept in {args.state_dir}" if args.state_dir else "ephemeral stack"
    print(f"machine: {machine()}; median of {args.repeat}; seconds; {kept}", flush=True)
    if args.state_dir is not None and args.state_dir.exists() and any(args.state_dir.iterdir()):
        raise SystemExit(f"--state-dir {args.state_dir} is not empty: give an empty or new folder")
    stack = Stack(args.state_dir)
    lines = []
    try:
        for size in parse_sizes(args.sizes):
            csv = flights_csv(size)
            rows = rows_of(csv)
            times: Dict[str, List[float]] = {}
            for _ in range(args.repeat):  # the engines take turns, so a noisy neighbour hurts them alike
                for job in ("polars", "polars-partitioned", "duckdb", "engine"):
                    times.setdefault(job, []).append(run_subprocess(job, csv))
                for phase, seconds in stack.land(csv, rows).items():
                    times.setdefault(phase, []).append(seconds)
            m = {k: statistics.median(v) for k, v in times.items()}
            line = (
                f"| {human(size)} | {rows:,} | {m['polars']:.3f} | {m['polars-partitioned']:.3f} |"
                f" {m['duckdb']:.3f} | {m['engine']:.3f} ({m['engine'] / m['polars']:.2f}x;"
                f" {m['engine'] / m['polars-partitioned']:.2f}x) |"
                f" {m['queryable']:.2f} ({m['queryable'] / m['polars']:.1f}x) |"
                f" {m['dispatch']:.2f} | {m['states']:.2f} | {m['job']:.2f} | {m['query']:.2f} |"
            )
            lines.append(line)
            print(line, flush=True)
        latency = stack.query_latency(max(args.repeat, 5))
    finally:
        stack.close()
    print()
    print(
        "| file | rows | polars | polars, by month | DuckDB | lakeport engine (x polars; x polars by month)"
        " | landing → queryable (x polars) | of which: to the execution | other states | the job | to the answer |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for line in lines:
        print(line)
    print()
    print(
        f"lakeport query (a new process; medians): count(*) of the smallest table {latency['query']:.2f} s;"
        f" the same with --engine local (the engine in the command's process) {latency['in process']:.2f} s;"
        f" count(*) of the largest table {latency['largest']:.2f} s;"
        f" a Python process importing boto3, rich and typer {latency['floor']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
