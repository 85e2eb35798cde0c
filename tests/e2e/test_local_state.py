"""``lakeport local up`` keeps its state: a SIGTERM or a ``kill -9`` and a new start lose nothing.

Each test runs the stack as a person does, in a subprocess with its own state folder, and talks to
it with the SDK and the CLI from outside.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import boto3

from lakeport.cli.local import READY
from lakeport.local.emulator import free_port

from .flow import EXAMPLES
from .test_commands import Server, _printed_environment, clean_environment

START_SECONDS = 120  # a start that makes no progress for this long has failed
RUN_SECONDS = 180


class Stack:
    """One state folder; ``start`` runs ``lakeport local up`` on it, again and again."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.tmp_path = tmp_path
        self.state = tmp_path / "state"
        self.args = args
        self.port = free_port()
        self.server: Server = None  # type: ignore[assignment]
        self.environment: Dict[str, str] = {}

    def start(self, *extra: str) -> Server:
        self.server = Server(
            self.port, clean_environment(), cwd=self.tmp_path, args=["--state-dir", str(self.state), *self.args, *extra]
        )
        self.server.wait_for(READY, timeout=START_SECONDS)
        self.environment = {**clean_environment(), **_printed_environment(self.server.output)}
        return self.server

    def wait_for_new_run(self, dataset: str) -> str:
        """The id of the next run the dispatcher starts for ``dataset``, once that run has SUCCEEDED
        (a start prints the runs it keeps, so a bare "SUCCEEDED" may be an old one)."""
        started = self.server.wait_for(f"of {dataset}:", timeout=RUN_SECONDS)
        while "started run" not in started:
            started = self.server.wait_for(f"of {dataset}:", timeout=RUN_SECONDS)
        run_id = started.split("started run ", 1)[1].split()[0]
        self.server.wait_for(f"run {run_id} of {dataset}: SUCCEEDED", timeout=RUN_SECONDS)
        return run_id

    def said(self) -> str:
        return "".join(self.server.output)

    def lakeport(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lakeport.cli", *args],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.tmp_path,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def client(self, service: str) -> Any:
        env = self.environment
        return boto3.client(
            service,
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    @property
    def raw(self) -> str:
        return next(line.split()[-1] for line in self.server.output if line.startswith("raw bucket:"))

    def runs(self) -> List[Dict[str, Any]]:
        return sorted(json.loads(self.lakeport("runs", "--output", "json")), key=lambda r: r["run_id"])

    def versions(self) -> List[Tuple[str, str, str, bool]]:
        listed = self.client("s3").list_object_versions(Bucket=self.raw)
        return sorted((v["Key"], v["VersionId"], v["ETag"], v["IsLatest"]) for v in listed.get("Versions", []))

    def kept(self) -> Dict[str, Any]:
        """What a user would look at: runs, answers, object versions, contract versions."""
        return {
            "runs": [(r["run_id"], r["state"], r["read"], r["written"], r["quarantined"]) for r in self.runs()],
            "orders": self.lakeport(
                "query", "SELECT count(*) AS n, sum(amount) AS total FROM sales.orders", "--output", "csv"
            ),
            "versions": self.versions(),
            "contract": self.lakeport("contract", "show", "sales.orders").splitlines()[:3],
            "history": self.lakeport("contract", "history", "sales.orders"),
        }


def test_a_restarted_local_stack_keeps_its_tables_ledgers_contracts_and_object_versions(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    server = stack.start()
    assert "nothing kept yet (first start)" in stack.said()
    orders = EXAMPLES / "raw" / "sales" / "orders"
    stack.lakeport("upload", "--dataset", "sales.orders", str(orders / "orders-2024-01-02.csv"))
    stack.wait_for_new_run("sales.orders")
    changed = tmp_path / "orders.yaml"
    text = (EXAMPLES / "contracts" / "orders.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("One row per order line", "One row per order line (kept)"), encoding="utf-8")
    assert "applied sales.orders version 2" in stack.lakeport("contract", "apply", str(changed))
    before = stack.kept()
    assert before["orders"].splitlines() == ["n,total", "7,2007.49"]
    assert len(before["versions"]) == 2  # the file and its delivery's completeness marker

    assert server.stop() == 0  # SIGTERM
    stack.start()
    restored = (
        r"state: \S+ — \d+ object version\(s\) in \d+ bucket\(s\), \d+ item\(s\) in \d+ DynamoDB table\(s\),"
        r" 2 catalog table\(s\)"  # the table and its quarantine table
    )
    assert re.search(restored, stack.said()), stack.said()
    assert stack.kept() == before, "a SIGTERM and a new start changed what the stack holds"

    stack.server.kill()  # kill -9: nothing flushed at the end
    server = stack.start()
    assert stack.kept() == before, "a kill -9 and a new start changed what the stack holds"
    # the contract applied by hand is still the latest: the examples did not overwrite it
    assert "(kept)" in stack.lakeport("contract", "show", "sales.orders")

    # the kept table goes on: a second file adds its rows to the same table
    second = orders / "orders-2024-01-03.csv"
    stack.client("s3").upload_file(str(second), stack.raw, f"sales/orders/{second.name}")
    stack.wait_for_new_run("sales.orders")
    runs = stack.runs()
    assert len(runs) == 2 and {r["state"] for r in runs} == {"SUCCEEDED"}
    [counted] = stack.lakeport("query", "SELECT count(*) AS n FROM sales.orders", "--output", "csv").splitlines()[1:]
    assert int(counted) == 7 + runs[1]["written"]
    assert server.stop() == 0


def _orders_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("order_id,Order Date,customer,country,amount,status,channel\n")
        for n in range(rows):
            out.write(f"{100000 + n},2024-01-{1 + n % 28:02d} 08:15:00,Acme GmbH,DE,{n % 1000}.50,NEW,web\n")
    return path


def test_a_run_killed_mid_way_is_finished_at_the_next_start(tmp_path: Path) -> None:
    rows = 2_000_000  # a run of several seconds: long enough to be killed in the middle
    big = _orders_csv(tmp_path / "orders-big.csv", rows)
    stack = Stack(tmp_path)
    server = stack.start()
    stack.client("s3").upload_file(str(big), stack.raw, "sales/orders/orders-big.csv")
    running = server.wait_for("of sales.orders: RUNNING", timeout=RUN_SECONDS)
    run_id = running.split()[1]
    server.kill()

    server = stack.start()
    taken_up = re.search(rf"run {run_id} of sales.orders was interrupted by the stop: it (\w+ \w+ \w+)", stack.said())
    assert taken_up, stack.said()
    assert taken_up.group(1) in ("starts again with", "finishes its commit")
    server.wait_for(f"run {run_id} of sales.orders: SUCCEEDED", timeout=RUN_SECONDS)
    [run] = stack.runs()
    assert (run["run_id"], run["state"], run["read"], run["written"], run["quarantined"]) == (
        run_id,
        "SUCCEEDED",
        rows,
        rows,
        0,
    )
    answer = stack.lakeport(
        "query", "SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM sales.orders", "--output", "csv"
    )
    assert answer.splitlines() == ["n,ids", f"{rows},{rows}"]  # every row once: nothing lost, nothing doubled
    assert server.stop() == 0


def test_files_that_landed_before_their_contract_are_ingested_at_the_next_start(tmp_path: Path) -> None:
    stack = Stack(tmp_path)
    server = stack.start("--no-examples")
    source = EXAMPLES / "raw" / "sales" / "orders" / "orders-2024-01-02.csv"
    stack.client("s3").upload_file(str(source), stack.raw, "sales/orders/orders-2024-01-02.csv")
    server.wait_for("unmatched object", timeout=RUN_SECONDS)
    assert server.stop() == 0

    server = stack.start()  # the example contracts are applied now, then what they match is announced
    assert "1 object(s) that landed but were never dispatched, announced again" in stack.said()
    stack.wait_for_new_run("sales.orders")
    assert stack.lakeport("query", "SELECT count(*) AS n FROM sales.orders", "--output", "csv").splitlines() == [
        "n",
        "7",
    ]
    assert server.stop() == 0
