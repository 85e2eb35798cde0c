"""The run ledger against the emulator: start, retry, finish, fail, list newest first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lakeport.errors import DatasetNotFoundError
from lakeport.ledger import RunLedger, RunRecord, create_tables, new_run_id
from lakeport.resources import Resources

pytestmark = pytest.mark.py39

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def runs(aws) -> RunLedger:  # type: ignore[no-untyped-def]
    resources = Resources.for_deployment()
    create_tables(aws.client("dynamodb"), resources)
    return RunLedger(aws.client("dynamodb"), resources.runs_table)


def started(runs: RunLedger, dataset: str = "sales.orders", when: datetime = T0) -> RunRecord:
    record = RunRecord(
        dataset=dataset,
        run_id=new_run_id(when),
        engine="python",
        engine_reason="auto: 1200 input bytes < spark threshold 5368709120 bytes",
        contract_version=3,
        file_uris=[f"s3://raw/sales/orders/{i}.csv" for i in range(150)],
        bytes_read=1200,
    )
    return runs.start(record, now=when)


def test_start_records_a_running_run(runs: RunLedger) -> None:
    record = started(runs)
    assert (record.state, record.attempts, record.started_at) == ("RUNNING", 1, "2026-03-01T08:00:00.000000Z")
    stored = runs.get("sales.orders", record.run_id)
    assert stored is not None
    assert stored.contract_version == 3
    assert stored.engine == "python"
    assert stored.files == 150
    assert len(stored.file_uris) == 100


def test_a_retried_run_restarts_the_same_record(aws, runs: RunLedger) -> None:  # type: ignore[no-untyped-def]
    first = started(runs)
    # the state machine records its execution on the same item
    aws.client("dynamodb").update_item(
        TableName=runs.table_name,
        Key={"dataset": {"S": "sales.orders"}, "run_id": {"S": first.run_id}},
        UpdateExpression="SET execution_arn = :arn",
        ExpressionAttributeValues={":arn": {"S": "arn:aws:states:us-east-1:123456789012:execution:x:y"}},
    )
    runs.fail("sales.orders", first.run_id, "DatasetBusyError: locked by run x", now=T0 + timedelta(minutes=1))
    again = runs.start(RunRecord(dataset="sales.orders", run_id=first.run_id), now=T0 + timedelta(minutes=5))
    assert (again.state, again.attempts, again.error) == ("RUNNING", 2, None)
    assert again.started_at == first.started_at
    assert again.execution_arn == "arn:aws:states:us-east-1:123456789012:execution:x:y"
    assert again.engine == "python"


def test_finish_records_counts_and_duration(runs: RunLedger) -> None:
    record = started(runs)
    done = runs.finish(
        "sales.orders",
        record.run_id,
        now=T0 + timedelta(seconds=42.5),
        rows_read=100,
        rows_written=95,
        rows_quarantined=4,
        rows_duplicate=1,
        partitions=[f"order_day=2026-02-{d:02d}" for d in range(1, 29)],
        estimated_cost_usd=0.0123,
    )
    assert (done.state, done.rows_written, done.duration_seconds) == ("SUCCEEDED", 95, 42.5)
    assert done.balanced
    assert done.partition_count == 28
    assert done.estimated_cost_usd == pytest.approx(0.0123)
    assert done.finished_at == "2026-03-01T08:00:42.500000Z"


def test_finishing_an_unknown_run_is_refused(runs: RunLedger) -> None:
    with pytest.raises(DatasetNotFoundError, match="run r-1 was never started"):
        runs.finish("sales.orders", "r-1", rows_read=1)
    with pytest.raises(TypeError, match="rows_readd"):
        runs.finish("sales.orders", "r-1", rows_readd=1)


def test_fail_records_a_run_that_never_started(runs: RunLedger) -> None:
    failed = runs.fail("sales.orders", "20260301T080000Z-00000000", "ContractError: bad contract")
    assert (failed.state, failed.error) == ("FAILED", "ContractError: bad contract")


def test_list_is_newest_first_per_dataset_and_overall(runs: RunLedger) -> None:
    ids = [started(runs, "sales.orders", T0 + timedelta(hours=h)).run_id for h in (0, 2, 4)]
    other = started(runs, "hr.people", T0 + timedelta(hours=3)).run_id
    assert [r.run_id for r in runs.list("sales.orders")] == ids[::-1]
    assert [r.run_id for r in runs.list("sales.orders", limit=2)] == [ids[2], ids[1]]
    assert [r.run_id for r in runs.list()] == [ids[2], other, ids[1], ids[0]]
    assert [r.dataset for r in runs.list(limit=2)] == ["sales.orders", "hr.people"]


def test_runs_of_the_same_second_are_listed_by_when_they_started(runs: RunLedger) -> None:
    first = runs.start(RunRecord(dataset="sales.orders", run_id="20260301T080000Z-ffffffff"), now=T0)
    second = runs.start(
        RunRecord(dataset="sales.orders", run_id="20260301T080000Z-00000000"), now=T0 + timedelta(milliseconds=300)
    )
    for listed in (runs.list("sales.orders"), runs.list()):
        assert [r.run_id for r in listed] == [second.run_id, first.run_id]
    # cut at one: the run that started last, though its id sorts first
    for listed in (runs.list("sales.orders", limit=1), runs.list(limit=1)):
        assert [r.run_id for r in listed] == [second.run_id]
