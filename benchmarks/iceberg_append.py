"""What one small append costs in a large table: Iceberg snapshots against the generations they replaced.

The table has ``--partitions`` partitions (default 200) of ``--files`` data files each (default 50:
10,000 files). One run then ingests one CSV file, landing in one partition (``spread 1``) or in every
partition (``spread all``). The same scenario runs twice, on the embedded AWS emulator, each in a
fresh subprocess:

* **iceberg** — this checkout: the run commits one Iceberg snapshot (a fast append);
* **generations** — the last version with lakeport's own protocol (``--baseline``, a git revision,
  exported with ``git archive``): the run writes a new generation folder per partition it touches,
  carries the partition's live files into it (copied, or compacted once there are 16 small ones) and
  switches the partitions in the Glue catalog.

Every request the emulator answers during the measured run is counted (S3 by kind, Glue), with the
objects and bytes written and the objects copied server-side; the table is built before counting
starts. Rows are checked after the run: both versions must hold the same number.

    python benchmarks/iceberg_append.py                       # 200 x 50 files, spread 1 and all
    python benchmarks/iceberg_append.py --partitions 20 --files 10 --repeat 3

Not a test: it prints a table; it exits non-zero only if a run fails or the row counts disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# the last revision whose curated tables used generation folders and partition switching
DEFAULT_BASELINE = "391ddee"
CONTRACT = """
dataset: bench.events
owner: bench@example.com
source: {prefix: bench/events/, format: csv}
schema:
  - {name: p, type: int, nullable: false}
  - {name: id, type: bigint, nullable: false}
  - {name: payload, type: string}
partition_by: [{name: p}]
write_mode: append
"""
ROWS_PER_FILE = 20


# -- counting what the emulator is asked ------------------------------------------------------------


class Requests:
    """Counts requests by service and kind, in front of moto's WSGI application."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.bytes_put = 0
        self.objects_written = 0
        self.enabled = False

    def install(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        original = DomainDispatcherApplication.__call__
        counter = self

        def call(app: Any, environ: Dict[str, Any], start_response: Any) -> Any:
            if counter.enabled:
                counter.record(environ)
            return original(app, environ, start_response)

        DomainDispatcherApplication.__call__ = call  # type: ignore[method-assign]

    def record(self, environ: Dict[str, Any]) -> None:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        service = auth.split("Credential=", 1)[1].split("/")[3] if "Credential=" in auth else "other"
        method = environ.get("REQUEST_METHOD", "")
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        kind = service
        if service == "s3":
            is_object = path.strip("/").count("/") >= 1
            if method == "PUT" and environ.get("HTTP_X_AMZ_COPY_SOURCE"):
                kind = "s3 COPY"
            elif method in ("PUT", "POST") and is_object:
                kind = "s3 PUT"  # multipart uploads count each of their requests
            elif method == "GET" and not is_object:
                kind = "s3 LIST"
            elif method in ("GET", "HEAD"):
                kind = "s3 GET/HEAD"
            elif method == "DELETE" or "delete" in query:
                kind = "s3 DELETE"
            else:
                kind = f"s3 {method}"
        elif service == "glue":
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            kind = f"glue {target.rsplit('.', 1)[-1]}" if target else "glue"
        with self.lock:
            self.counts[kind] += 1
            if kind == "s3 PUT":
                # the C++ SDK (pyarrow) sends chunked bodies: the payload size is in its own header
                size = environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH") or environ.get("CONTENT_LENGTH") or 0
                self.bytes_put += int(size) if method == "PUT" else 0
                # a simple PUT, or the request that completes a multipart upload, makes one object
                if (method == "PUT" and "partNumber=" not in query) or (method == "POST" and "uploadId=" in query):
                    self.objects_written += 1


# -- one leg, in its own process --------------------------------------------------------------------


def csv_for(partitions: List[int], first_id: int) -> str:
    lines = ["p,id,payload"]
    for p in partitions:
        for i in range(ROWS_PER_FILE):
            lines.append(f"{p},{first_id + p * ROWS_PER_FILE + i},event {p}-{i}")
    return "\n".join(lines) + "\n"


def pad_iceberg(lake: Dict[str, Any], files_per_partition: int) -> None:
    """Give every partition ``files_per_partition`` data files: copies of its file, in one snapshot."""
    from lakeport.engine.layout import split_uri
    from lakeport.iceberg.commit import RunCommit
    from lakeport.iceberg.reading import data_files

    contract, ingestor, s3 = lake["contract"], lake["ingestor"], lake["s3"]
    table = ingestor.tables.load(contract)
    targets = []
    for path in data_files(table, table.current_snapshot().snapshot_id):
        bucket, key = split_uri(path)[1].split("/", 1)
        for n in range(1, files_per_partition):
            targets.append((bucket, key, key.replace(".parquet", f"-pad{n:04d}.parquet")))
    copy_all(s3, targets)
    commit = RunCommit(lambda: ingestor.tables.load(contract), contract, "pad", ingestor.filesystem)
    commit.commit([f"s3://{bucket}/{target}" for bucket, _, target in targets])


def pad_generations(lake: Dict[str, Any], files_per_partition: int) -> None:
    """The same for the generation layout: copies next to each partition's live file."""
    from lakeport.catalog import Catalog

    contract, s3 = lake["contract"], lake["s3"]
    catalog = Catalog(lake["aws"].client("glue"))
    targets = []
    for location in catalog.get_partitions(contract.database, contract.table).values():
        bucket, prefix = location.split("://", 1)[1].split("/", 1)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")["Contents"]
        (key,) = [o["Key"] for o in listed if o["Key"].endswith(".parquet")]
        for n in range(1, files_per_partition):
            targets.append((bucket, key, key.replace(".parquet", f"-pad{n:04d}.parquet")))
    copy_all(s3, targets)


def copy_all(s3: Any, targets: List[Any]) -> None:
    def copy(target: Any) -> None:
        bucket, source, key = target
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": source})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(copy, targets))


def count_rows(lake: Dict[str, Any], layout: str) -> int:
    from lakeport.query import LocalQueryEngine

    if layout == "iceberg":
        engine = LocalQueryEngine.for_context(lake["aws"])
    else:  # the previous version's constructor
        engine = LocalQueryEngine(lake["aws"].client("glue"), lake["aws"].s3_filesystem())
    return int(engine.execute("SELECT count(*) AS n FROM bench.events").column("n")[0].as_py())


def leg(layout: str, partitions: int, files: int, spread: int) -> Dict[str, Any]:
    import lakeport
    from lakeport.contract import load_contract_text
    from lakeport.ingest import Ingestor, IngestRequest
    from lakeport.ledger.tables import create_tables
    from lakeport.local.emulator import EmbeddedAws
    from lakeport.registry import ContractRegistry
    from lakeport.resources import Resources
    from lakeport.s3objects import head_object

    requests = Requests()
    requests.install()
    with EmbeddedAws() as emulator:
        aws = emulator.context()
        resources = Resources.for_deployment()
        s3 = aws.client("s3")
        for bucket in (
            resources.raw_bucket,
            resources.curated_bucket,
            resources.quarantine_bucket,
            resources.artifacts_bucket,
        ):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=resources.raw_bucket, VersioningConfiguration={"Status": "Enabled"})
        create_tables(aws.client("dynamodb"), resources)
        registry = ContractRegistry(aws.client("dynamodb"), resources.datasets_table)
        registry.apply(load_contract_text(CONTRACT), applied_by="bench", allow_breaking=True)
        contract = registry.get("bench.events")
        ingestor = Ingestor(aws, resources)
        lake = {"aws": aws, "s3": s3, "contract": contract, "ingestor": ingestor}

        def land(key: str, body: str) -> Any:
            s3.put_object(Bucket=resources.raw_bucket, Key=key, Body=body.encode())
            return head_object(s3, resources.raw_bucket, key)

        seed = land("bench/events/seed.csv", csv_for(list(range(partitions)), 0))
        started = time.perf_counter()
        ingestor.run(IngestRequest(dataset="bench.events", objects=[seed], run_id="20260101T000000Z-seed"))
        (pad_iceberg if layout == "iceberg" else pad_generations)(lake, files)
        build_seconds = time.perf_counter() - started
        before = count_rows(lake, layout)

        touched = list(range(spread)) if spread < partitions else list(range(partitions))
        delivery = land("bench/events/delivery.csv", csv_for(touched, 10**9))
        requests.enabled = True
        started = time.perf_counter()
        summary = ingestor.run(
            IngestRequest(dataset="bench.events", objects=[delivery], run_id="20260101T000001Z-delivery")
        )
        seconds = time.perf_counter() - started
        requests.enabled = False
        after = count_rows(lake, layout)
    return {
        "layout": layout,
        "lakeport": str(Path(lakeport.__file__).resolve().parent),
        "state": summary.state,
        "rows_before": before,
        "rows_after": after,
        "rows_written": summary.totals()["rows_written"],
        "seconds": seconds,
        "build_seconds": build_seconds,
        "requests": dict(requests.counts),
        "bytes_put": requests.bytes_put,
        "objects_written": requests.objects_written,
    }


# -- the parent: export the baseline, run the legs, print ---------------------------------------------


def export_baseline(revision: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", revision, "src"], check=True, stdout=out)
    with tarfile.open(archive) as tar:
        tar.extractall(into)  # our own repository's archive
    return into / "src"


def run_leg(layout: str, source: Path, args: argparse.Namespace, spread: int) -> Dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    command = [
        sys.executable,
        __file__,
        "--leg",
        layout,
        "--partitions",
        str(args.partitions),
        "--files",
        str(args.files),
        "--spread",
        str(spread),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {layout} leg failed:\n{done.stderr[-3000:]}")
    result: Dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    kinds = sorted({k for r in runs for k in r["requests"]})
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "requests": {k: statistics.median(r["requests"].get(k, 0) for r in runs) for k in kinds},
        "bytes_put": statistics.median(r["bytes_put"] for r in runs),
        "objects_written": statistics.median(r["objects_written"] for r in runs),
        "rows": (runs[-1]["rows_before"], runs[-1]["rows_after"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=200)
    parser.add_argument("--files", type=int, default=50, help="data files per partition before the run")
    parser.add_argument("--spread", type=int, action="append", help="partitions the run's file lands in")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of the generation protocol")
    parser.add_argument("--leg", choices=("iceberg", "generations"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    spreads = args.spread or [1, args.partitions]
    if args.leg:
        print(json.dumps(leg(args.leg, args.partitions, args.files, spreads[0])))
        return 0

    print(
        f"table: {args.partitions} partitions x {args.files} files = {args.partitions * args.files:,} data files,"
        f" {ROWS_PER_FILE} rows per partition per file; the run ingests 1 CSV file (median of {args.repeat})"
    )
    failed = False
    with tempfile.TemporaryDirectory(prefix="lakeport-bench-") as scratch:
        sources = {"iceberg": ROOT / "src", "generations": export_baseline(args.baseline, Path(scratch))}
        for spread in spreads:
            results: Dict[str, Dict[str, Any]] = {}
            for layout in ("iceberg", "generations"):
                runs = [run_leg(layout, sources[layout], args, spread) for _ in range(args.repeat)]
                if any(r["state"] != "SUCCEEDED" for r in runs):
                    failed = True
                results[layout] = summarise(runs)
            rows = {layout: r["rows"] for layout, r in results.items()}
            if len(set(rows.values())) != 1:
                print(f"  the versions disagree on the rows: {rows}")
                failed = True
            print(f"\nthe run's file lands in {spread} partition(s); rows before/after {rows['iceberg']}")
            kinds = sorted({k for r in results.values() for k in r["requests"]})
            print(f"  {'':<28}{'iceberg':>12}{'generations':>14}")
            seconds = [results[layout]["seconds"] for layout in ("iceberg", "generations")]
            print(f"  {'seconds (median)':<28}{seconds[0]:>12.2f}{seconds[1]:>14.2f}")
            for kind in kinds:
                values = [results[layout]["requests"].get(kind, 0) for layout in ("iceberg", "generations")]
                print(f"  {kind:<28}{values[0]:>12,.0f}{values[1]:>14,.0f}")
            for label, name in (("objects written", "objects_written"), ("bytes written", "bytes_put")):
                values = [results[layout][name] for layout in ("iceberg", "generations")]
                print(f"  {label:<28}{values[0]:>12,.0f}{values[1]:>14,.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
