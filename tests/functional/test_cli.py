"""The command line as a user drives it, against the emulator (AWS_ENDPOINT_URL, like the AWS CLI)."""

from __future__ import annotations

import json
from pathlib import Path

from .lake import EXAMPLES, Lake


def test_examples_are_copied_out_of_the_package_to_edit_and_validate(cli, tmp_path: Path):  # type: ignore[no-untyped-def]
    target = tmp_path / "mine"
    out = cli("examples", str(target))
    assert f"wrote 8 files under {target}/" in out and f"{target / 'contracts'}/ (3 files)" in out
    assert (target / "raw" / "iot" / "readings" / "plant-a-2024-03-01.jsonl.gz").read_bytes() == (
        EXAMPLES / "raw" / "iot" / "readings" / "plant-a-2024-03-01.jsonl.gz"
    ).read_bytes()
    assert "ok sales.orders" in cli("contract", "validate", str(target / "contracts"))
    # a second copy over the first would silently undo a user's edits: refused, with what to do
    out = cli("examples", str(target), ok=False)
    assert "is already there (8 of the example files are)" in out and "choose an empty folder" in out


def test_contract_commands(cli, lake: Lake, tmp_path: Path):  # type: ignore[no-untyped-def]
    out = cli("contract", "validate", str(EXAMPLES / "contracts"))
    assert "ok sales.orders" in out and "ok finance.accounts" in out

    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: sales.orders\nowner: x\nsource: {prefix: a/, format: xml}\nschema: []\n")
    out = cli("contract", "validate", str(bad), ok=False)
    assert "source.format (line 3)" in out and "'xml' is not allowed" in out

    out = cli("contract", "apply", str(EXAMPLES / "contracts"))
    assert "applied sales.orders version 1" in out
    assert "unchanged sales.orders version 1" in cli("contract", "apply", str(EXAMPLES / "contracts" / "orders.yaml"))

    changed = tmp_path / "orders.yaml"
    changed.write_text(
        (EXAMPLES / "contracts" / "orders.yaml").read_text().replace("type: varchar(40)", "type: string")
    )
    out = cli("contract", "diff", str(changed))
    assert "schema" in out and "varchar(40)" in out
    cli("contract", "apply", str(changed))
    history = cli("contract", "history", "sales.orders")
    assert history.count("cli") >= 2

    shown = cli("contract", "show", "sales.orders", "--version", "1")
    assert "version 1" in shown and "varchar(40)" in shown
    listed = cli("contract", "list")
    assert "iot.readings" in listed and "upsert" in listed

    out = cli("contract", "show", "nope.nothing", ok=False)
    assert "DatasetNotFoundError" in out and "lakeport contract apply" in out


def test_ingest_runs_quarantine_and_query(cli, lake: Lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    lake.put_example("sales/orders/orders-2024-01-02.csv")
    lake.put_example("sales/orders/orders-2024-01-03.csv")

    out = cli("ingest", "sales.orders")
    assert "SUCCEEDED" in out and "orders-2024-01-02.csv" in out

    again = cli("ingest", "sales.orders")
    assert again.count("already SUCCEEDED") == 2

    runs = json.loads(cli("runs", "sales.orders", "--output", "json"))
    assert [r["read"] for r in runs] == [0, 21] and runs[1]["written"] == 13

    rows = json.loads(cli("quarantine", "sales.orders", "--output", "json"))
    assert len(rows) == 8 and all(r["lakeport_reason"] for r in rows)

    # the tables people read: every run id, the engine's reason with units, file names and reasons
    table = cli("runs", "sales.orders")
    assert all(r["run_id"] in table for r in runs)
    assert "lakeport ingest (command line)" in table and "2 run(s), newest first" in table
    shown = cli("quarantine", "sales.orders")
    assert "orders-2024-01-02.csv" in shown and "s3://" not in shown
    assert "'LOST' is not one of NEW, PAID, SHIPPED, CANCELLED" in shown

    csv_out = cli("query", "SELECT count(*) AS n FROM sales.orders", "--output", "csv")
    assert csv_out.splitlines() == ["n", "13"]

    out = cli("query", "SELECT * FROM sales.nothing", ok=False)
    assert "QueryError" in out and "does not exist" in out


def test_history_time_travel_rollback_and_maintenance(cli, lake: Lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    lake.put_example("sales/orders/orders-2024-01-02.csv")
    cli("ingest", "sales.orders")
    lake.put_example("sales/orders/orders-2024-01-03.csv")
    cli("ingest", "sales.orders")
    runs = json.loads(cli("runs", "sales.orders", "--output", "json"))
    snapshots = json.loads(cli("history", "sales.orders", "--output", "json"))
    assert [s["run"] for s in snapshots] == [r["run_id"] for r in runs]  # newest first, one per run
    newest, oldest = snapshots
    assert newest["rows"] == 13 and newest["+rows"] == 13 - oldest["rows"]
    shown = cli("history", "sales.orders")
    assert f"* {newest['snapshot_id']}" in shown and runs[0]["run_id"] in shown

    def count(*options: str) -> str:
        return cli("query", "SELECT count(*) AS n FROM sales.orders", "--output", "csv", *options).splitlines()[1]

    assert count() == "13"
    assert count("--as-of", str(oldest["snapshot_id"])) == str(oldest["rows"])
    sql = f"SELECT count(*) AS n FROM sales.orders FOR VERSION AS OF {oldest['snapshot_id']}"
    assert cli("query", sql, "--output", "csv").splitlines()[1] == str(oldest["rows"])
    out = cli("query", "SELECT count(*) FROM sales.orders", "--as-of", "2001-01-01T00:00:00Z", ok=False)
    assert "SnapshotNotFoundError" in out or "no snapshot" in out

    out = cli("rollback", "sales.orders", "--to", str(oldest["snapshot_id"]))
    assert "1 snapshot(s) undone" in out and runs[0]["run_id"] in out and "--force" in out
    assert count() == str(oldest["rows"])
    out = cli("rollback", "sales.orders", "--to", "12345", ok=False)
    assert "has no snapshot 12345" in out and "lakeport history" in out
    cli("rollback", "sales.orders", "--to", str(newest["snapshot_id"]))  # and forward again
    assert count() == "13"

    # a file of a run that died before its commit: no snapshot refers to it
    s3 = lake.aws.client("s3")
    s3.put_object(Bucket=lake.resources.curated_bucket, Key="sales/orders/data/part-dead-run.parquet", Body=b"x" * 10)
    out = cli("maintain", "sales.orders", "--orphan-age-days", "0")
    assert "compacted 0 file(s)" in out and "no partition has more than one small file" in out
    assert "expired 0 snapshot(s) (keeping 2)" in out and "deleted 1 orphaned file(s) (10 bytes)" in out
    listed = s3.list_objects_v2(Bucket=lake.resources.curated_bucket, Prefix="sales/orders/data/")
    assert "sales/orders/data/part-dead-run.parquet" not in [o["Key"] for o in listed.get("Contents", [])]
    assert count() == "13"
    assert count("--as-of", str(oldest["snapshot_id"])) == str(oldest["rows"])  # retention is a week
    out = cli("history", "nope.nothing", ok=False)
    assert "DatasetNotFoundError" in out


class _Executions:
    """A Step Functions client whose executions have the statuses given (the rest is the emulator's)."""

    def __init__(self, statuses: dict) -> None:
        self.statuses = statuses

    def describe_execution(self, executionArn: str) -> dict:
        return {"status": self.statuses[executionArn]}


def test_local_up_shows_a_retried_attempt_as_a_retry_not_as_the_runs_end(lake: Lake, capsys) -> None:  # type: ignore[no-untyped-def]
    """Two attempts collide on the dataset lock; the first is retried by the state machine. The run
    lines say so, and FAILED appears only when the execution has ended."""
    from types import SimpleNamespace

    from lakeport.cli import local
    from lakeport.ledger.runs import RunLedger, RunRecord

    statuses = {"arn:exec:1": "RUNNING", "arn:exec:2": "RUNNING"}
    aws = SimpleNamespace(
        client=lambda name: _Executions(statuses) if name == "stepfunctions" else lake.aws.client(name)
    )
    stack = SimpleNamespace(aws=aws, resources=lake.resources)
    ledger = RunLedger(lake.aws.client("dynamodb"), lake.resources.runs_table)
    for run_id, arn in (("r-1", "arn:exec:1"), ("r-2", "arn:exec:2")):
        ledger.start(RunRecord(dataset="sales.orders", run_id=run_id, execution_arn=arn))
    busy = "DatasetBusyError: dataset sales.orders is locked by run r-2"
    ledger.fail("sales.orders", "r-1", busy)
    seen: dict = {}

    local._watch_runs(stack, seen)
    out = capsys.readouterr().out
    assert f"run r-1 of sales.orders: attempt 1 is retried ({busy})" in out
    assert "FAILED" not in out

    ledger.start(RunRecord(dataset="sales.orders", run_id="r-1", execution_arn="arn:exec:1"))  # the retry
    ledger.finish("sales.orders", "r-1", state="SUCCEEDED", files=1, rows_read=7, rows_written=7)
    local._watch_runs(stack, seen)
    out = capsys.readouterr().out
    assert "run r-1 of sales.orders: SUCCEEDED (1 file(s)" in out  # one poll sees the retry's end

    ledger.fail("sales.orders", "r-2", "InputError: no such object")
    statuses["arn:exec:2"] = "FAILED"  # the execution ended: the failure is the run's end
    local._watch_runs(stack, seen)
    assert "run r-2 of sales.orders: FAILED: InputError: no such object" in capsys.readouterr().out
