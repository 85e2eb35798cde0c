"""What keeping the local stack's state costs a write, as the state grows.

Starts the local stack twice, each in its own process, once ephemeral and once keeping its state in
a new folder (as ``lakeport local up`` does), and in each: puts objects into a bucket and items into
a table up to each size, then times single writes (an S3 ``PutObject`` of 1 KiB, a DynamoDB
``PutItem``, a Glue ``UpdateTable``) and a read, one after the other, as a run makes them. A kept
write waits until its service's snapshot is on disk, and that snapshot grows with what the service
holds, which is what this measures. Usage::

    python benchmarks/local_state.py [--sizes 100,1000,10000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

DEFAULT_SIZES = "100,1000,10000"
BUCKET, TABLE, DATABASE = "bench-state", "bench-state", "bench_state"


def _timed(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(sizes: List[int], repeat: int, state_dir: Optional[Path]) -> Dict[str, Dict[str, float]]:
    from lakeport.local.stack import LocalStack

    stack = LocalStack(state_dir=state_dir).start()
    try:
        s3, ddb, glue = (stack.aws.client(name) for name in ("s3", "dynamodb", "glue"))
        s3.create_bucket(Bucket=BUCKET)
        ddb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        glue.create_database(DatabaseInput={"Name": DATABASE})
        glue.create_table(DatabaseName=DATABASE, TableInput={"Name": "t", "Parameters": {"n": "0"}})
        body = b"x" * 1024
        held, results = 0, {}
        counter = iter(range(10**9))
        for size in sizes:
            while held < size:  # filled with batches: the growth itself is not what is measured
                for n in range(held, min(size, held + 25)):
                    s3.put_object(Bucket=BUCKET, Key=f"fill/{n:08d}", Body=body)
                ddb.batch_write_item(
                    RequestItems={
                        TABLE: [
                            {"PutRequest": {"Item": {"id": {"S": f"fill-{n}"}, "v": {"S": "x" * 200}}}}
                            for n in range(held, min(size, held + 25))
                        ]
                    }
                )
                held = min(size, held + 25)
            results[str(size)] = {
                "s3 put": _timed(lambda: s3.put_object(Bucket=BUCKET, Key=f"t/{next(counter)}", Body=body), repeat),
                "dynamodb put": _timed(
                    lambda: ddb.put_item(TableName=TABLE, Item={"id": {"S": f"t-{next(counter)}"}}), repeat
                ),
                "glue update": _timed(
                    lambda: glue.update_table(
                        DatabaseName=DATABASE, TableInput={"Name": "t", "Parameters": {"n": str(next(counter))}}
                    ),
                    repeat,
                ),
                "s3 get": _timed(lambda: s3.get_object(Bucket=BUCKET, Key="fill/00000000")["Body"].read(), repeat),
            }
        return results
    finally:
        stack.stop()


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="objects and items held, comma-separated")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--worker", choices=("ephemeral", "kept"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        with tempfile.TemporaryDirectory(prefix="lakeport-state-bench-") as folder:
            state = Path(folder) / "state" if args.worker == "kept" else None
            print(json.dumps(measure(sizes, args.repeat, state)))
        return 0

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    from lineitem import machine

    print(f"machine: {machine()}; median of {args.repeat} writes, one after the other; milliseconds", flush=True)
    found = {}
    for mode in ("ephemeral", "kept"):
        done = subprocess.run(
            [sys.executable, __file__, "--worker", mode, "--sizes", args.sizes, "--repeat", str(args.repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
        found[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    operations = list(next(iter(found["ephemeral"].values())))
    print()
    print("| objects and items held | " + " | ".join(f"{op}: ephemeral / kept" for op in operations) + " |")
    print("|---|" + "---|" * len(operations))
    for size in sizes:
        cells = [f"{found['ephemeral'][str(size)][op]:.1f} / {found['kept'][str(size)][op]:.1f}" for op in operations]
        print(f"| {size:,} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
