"""TPC-H lineitem benchmark, Spark row: the lakeport Spark engine against a hand-written PySpark job.

Both do the job of ``benchmarks/lineitem.py`` on the same CSV, in the same invocation, taking
turns: read it typed, apply ``l_quantity >= 0`` and ``0 <= l_discount <= 0.1`` (rows that break
them go to quarantine), add lineage columns, write snappy Parquet partitioned by the month of
``l_shipdate``. lakeport does its full job through ``SparkEngine.run`` (every value checked with a
reason, record numbers, four lineage columns, deterministic file names, per-file accounting); the
hand-written job is the bare job written the way Spark does it fastest: ``spark.read.csv`` with a
schema, one pass, one partitioned write.

Each run is a fresh subprocess with its own local Spark session (``local[2]`` by default); the time
is the job only (the session is started before the clock), and the peak RSS is of the whole process
tree (driver, JVM and Python workers), sampled every 100 ms.

    python benchmarks/spark_lineitem.py --scale 0.1 --scale 1 --repeat 3

Not a test: it prints a table and exits non-zero only if the two jobs disagree or one fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lineitem import CONTRACT, INGESTED_AT, RUN_ID, Output, lineitem_csv, read_output  # noqa: E402

JOBS = ("lakeport-spark", "pyspark")


def _session(master: str) -> Any:
    from lakeport.engine.spark.session import local_session

    spark = local_session(
        master=master, shuffle_partitions=8, app_name="lineitem-bench", extra={"spark.driver.memory": "2g"}
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def job_lakeport(spark: Any, csv: Path, out: Path) -> Dict[str, Any]:
    from datetime import datetime

    import pyarrow.fs as pafs

    from lakeport.contract import load_contract_file
    from lakeport.engine.layout import TableLayout, source_id
    from lakeport.engine.model import EngineJob, SourceInput
    from lakeport.engine.spark.engine import SparkEngine

    contract = load_contract_file(CONTRACT)
    layout = TableLayout.for_contract(contract, f"file://{out}/curated", f"file://{out}/quarantine")
    uri = f"file://{csv}"
    filesystem = pafs.LocalFileSystem()
    job = EngineJob(
        contract=contract,
        run_id=RUN_ID,
        ingested_at=datetime.fromisoformat(INGESTED_AT),
        sources=[SourceInput(uri=uri, version="v1", size=csv.stat().st_size, source_id=source_id(uri, "v1"))],
        layout=layout,
        input_filesystem=filesystem,
        output_filesystem=filesystem,
        remote_output=False,
    )
    result = SparkEngine(spark).run(job)
    assert all(f.balanced for f in result.files), "lakeport's accounting does not add up"
    return {"rows_read": result.totals()["rows_read"]}


def job_pyspark(spark: Any, csv: Path, out: Path) -> Dict[str, Any]:
    """The bare job: typed read, two rules, two lineage columns, month partitions, one pass."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    money = T.DecimalType(15, 2)
    types: Dict[str, Any] = {
        "l_orderkey": T.LongType(),
        "l_partkey": T.LongType(),
        "l_suppkey": T.LongType(),
        "l_linenumber": T.IntegerType(),
    }
    types.update({n: money for n in ("l_quantity", "l_extendedprice", "l_discount", "l_tax")})
    types.update({n: T.DateType() for n in ("l_shipdate", "l_commitdate", "l_receiptdate")})
    with open(csv, encoding="utf-8") as handle:
        names = handle.readline().strip().split(",")
    schema = T.StructType([T.StructField(n, types.get(n, T.StringType())) for n in names])
    rows = spark.read.csv(str(csv), header=True, schema=schema)
    ok = F.coalesce((F.col("l_quantity") >= 0) & F.col("l_discount").between(0, 0.1), F.lit(True))
    (
        rows.withColumn("lakeport_run_id", F.lit(RUN_ID))
        .withColumn("lakeport_ingested_at", F.lit(INGESTED_AT).cast("timestamp_ntz"))
        .withColumn("zone", F.when(ok, F.lit("curated")).otherwise(F.lit("quarantine")))
        .withColumn("ship_month", F.when(ok, F.date_format("l_shipdate", "yyyy-MM")).otherwise(F.lit("all")))
        .write.partitionBy("zone", "ship_month")
        .option("compression", "snappy")
        .parquet(str(out / "spark"))
    )
    # the same layout as the other engines' outputs: curated/ship_month=…/ and quarantine/
    (out / "spark" / "zone=curated").rename(out / "curated")
    quarantine = out / "spark" / "zone=quarantine"
    (out / "quarantine").mkdir()
    if quarantine.exists():
        for index, path in enumerate(sorted(quarantine.rglob("*.parquet"))):
            path.rename(out / "quarantine" / f"part-{index}.parquet")
    return {}


WORKERS = {"lakeport-spark": job_lakeport, "pyspark": job_pyspark}


def worker(job: str, csv: Path, out: Path, master: str) -> None:
    spark = _session(master)
    spark.range(1).count()  # the JVM and a Python-free stage are warm before the clock starts
    started, cpu = time.perf_counter(), os.times()
    extra = WORKERS[job](spark, csv, out)
    seconds = time.perf_counter() - started
    done = os.times()
    extra.update(seconds=seconds, driver_cpu=(done.user - cpu.user) + (done.system - cpu.system))
    spark.stop()
    print(json.dumps(extra))


# -- measuring a process tree --------------------------------------------------------------------


def _children(pid: int) -> List[int]:
    found: List[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss(current)
        todo += _children(current)
    return total


@dataclass
class Timings:
    seconds: List[float] = field(default_factory=list)
    rss: List[int] = field(default_factory=list)
    output: Optional[Output] = None


def run_once(job: str, csv: Path, scratch: Path, master: str) -> Dict[str, Any]:
    out = scratch / job
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        job,
        "--csv",
        str(csv),
        "--out",
        str(out),
        "--master",
        master,
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], tree_rss(child.pid))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    stdout = child.stdout.read()
    child.wait()
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{job} failed (exit {child.returncode})")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["rss"] = peak[0]
    return result


def bench(scale: str, repeat: int, scratch: Path, master: str) -> bool:
    csv = lineitem_csv(scale)
    size = csv.stat().st_size
    print(f"\nlineitem SF{scale}: {size / 1e6:.0f} MB CSV, Spark {master}", flush=True)
    results = {job: Timings() for job in JOBS}
    for round_ in range(repeat):
        order = list(JOBS) if round_ % 2 == 0 else list(reversed(JOBS))
        for job in order:
            result = run_once(job, csv, scratch, master)
            timing = results[job]
            timing.seconds.append(result["seconds"])
            timing.rss.append(result["rss"])
            if timing.output is None:
                timing.output = read_output(scratch / job)
            print(
                f"  round {round_ + 1}: {job:<15} {result['seconds']:7.2f} s  peak RSS (tree) "
                f"{result['rss'] / 2**20:6.0f} MB",
                flush=True,
            )
            shutil.rmtree(scratch / job, ignore_errors=True)
    outputs = {job: t.output for job, t in results.items() if t.output is not None}
    for job, output in outputs.items():
        print(
            f"  {job:<15} written {output.written:>10,}  quarantined {output.quarantined:>6,}"
            f"  partitions {len(output.per_partition):>4}  sum(l_extendedprice) {output.price_sum}"
        )
    seen = {(o.written, o.quarantined, tuple(sorted(o.per_partition.items())), o.price_sum) for o in outputs.values()}
    agree = len(seen) <= 1
    print("  outputs agree" if agree else "  OUTPUTS DIFFER: the timings do not compare the same work")
    print(f"\n  {'job':<15} {'median s':>9} {'min s':>7} {'MB/s':>6} {'peak RSS':>10}   runs")
    for job, timing in results.items():
        median = statistics.median(timing.seconds)
        runs = " ".join(f"{s:.1f}" for s in timing.seconds)
        print(
            f"  {job:<15} {median:>9.2f} {min(timing.seconds):>7.2f} {size / 1e6 / median:>6.0f}"
            f" {max(timing.rss) / 2**20:>7.0f} MB   {runs}"
        )
    ratio = statistics.median(results["lakeport-spark"].seconds) / statistics.median(results["pyspark"].seconds)
    print(f"  lakeport-spark / pyspark = {ratio:.2f}x   (goal <= 1.15)")
    return agree


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="append", help="TPC-H scale factor, repeatable (default 0.1 and 1)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repetitions per job (default 3)")
    parser.add_argument("--master", default="local[2]", help="Spark master of each run (default local[2])")
    parser.add_argument("--scratch", help="where outputs go (default: a temporary folder, removed at the end)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, Path(args.csv), Path(args.out), args.master)
        return 0
    scratch = Path(args.scratch) if args.scratch else Path(tempfile.mkdtemp(prefix="spark-lineitem-bench-"))
    agree = True
    try:
        for scale in args.scale or ["0.1", "1"]:
            agree = bench(scale, args.repeat, scratch, args.master) and agree
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
