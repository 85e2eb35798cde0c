"""The Spark engine under the shared runner, against the embedded emulator's S3, DynamoDB and Glue.

The engine reads raw objects with the S3 API and writes through pyarrow's S3 filesystem from its
tasks, so it needs no Hadoop S3 connector: the same code runs on Glue and against the emulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from lakeport.engine.model import SUCCEEDED
from lakeport.ingest import Ingestor, IngestRequest

from ..functional.lake import Lake

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark")]


def _ingestor(lake: Lake, spark: Any) -> Ingestor:
    from lakeport.engine.spark.engine import SparkEngine

    return Ingestor(lake.aws, lake.resources, engine_factory=lambda name: SparkEngine(spark))


def test_orders_through_the_whole_run(aws: Any, spark: Any) -> None:
    lake = Lake(aws)
    lake.apply_example("orders")
    objects = [lake.put_example(f"sales/orders/orders-2024-01-0{d}.csv") for d in (2, 3)]

    run = _ingestor(lake, spark).run(IngestRequest(dataset="sales.orders", objects=objects, engine="spark"))

    assert run.state == "SUCCEEDED" and run.engine == "spark"
    counts = {
        f.source.uri.rsplit("/", 1)[1]: (f.state, f.rows_read, f.rows_written, f.rows_quarantined) for f in run.files
    }
    assert counts == {
        "orders-2024-01-02.csv": (SUCCEEDED, 12, 7, 5),
        "orders-2024-01-03.csv": (SUCCEEDED, 9, 6, 3),
    }
    reasons = {
        (r["lakeport_source"].rsplit("/", 1)[1], r["lakeport_source_row"]): r["lakeport_reason"]
        for r in lake.query("SELECT lakeport_source, lakeport_source_row, lakeport_reason FROM sales.orders_quarantine")
    }
    assert reasons[("orders-2024-01-02.csv", 12)] == "unique(order_id): the same key appears earlier in this run"
    assert len(lake.query("SELECT order_id FROM sales.orders")) == 13
    record = lake.ingestor.runs.get("sales.orders", run.run_id)
    assert record is not None and record.engine == "spark" and record.rows_written == 13


def test_upsert_dataset_in_two_runs(aws: Any, spark: Any) -> None:
    lake = Lake(aws)
    lake.apply_example("accounts")
    ingestor = _ingestor(lake, spark)
    for day in ("2024-04-01", "2024-04-02"):
        obj = lake.put_example(f"finance/accounts/accounts-{day}.csv")
        run = ingestor.run(IngestRequest(dataset="finance.accounts", objects=[obj], engine="spark"))
        assert run.state == "SUCCEEDED"
    rows = lake.read_curated("finance.accounts", ["account_id", "balance"])
    ids = [r["account_id"] for r in rows]
    assert len(ids) == len(set(ids))  # one row per account: the latest delivery won


def test_a_spark_run_that_died_right_after_its_commit_is_finished_by_its_retry_without_a_second_snapshot(
    aws: Any, spark: Any
) -> None:
    from pyiceberg.table import Transaction

    from lakeport.errors import LakeportError
    from lakeport.iceberg.commit import RUN_ID_PROPERTY

    lake = Lake(aws)
    lake.apply_example("orders")
    objects = [lake.put_example(f"sales/orders/orders-2024-01-0{d}.csv") for d in (2, 3)]
    ingestor = _ingestor(lake, spark)
    request = IngestRequest(
        dataset="sales.orders", objects=objects, engine="spark", run_id="20260601T000000Z-sparkdies"
    )
    original = Transaction.commit_transaction

    def dies_after_committing(self: Any) -> Any:
        original(self)
        raise RuntimeError("injected: the driver died right after its snapshot was committed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Transaction, "commit_transaction", dies_after_committing)
        with pytest.raises(LakeportError) as died:
            ingestor.run(request)
    assert died.value.code == "CommitIncompleteError" and died.value.transient

    retry = ingestor.run(request)

    assert retry.state == "SUCCEEDED" and retry.engine == "spark"
    assert retry.commit is not None and retry.commit.already_committed
    snapshots = [
        s
        for s in lake.table("sales.orders").metadata.snapshots
        if s.summary is not None and s.summary.additional_properties.get(RUN_ID_PROPERTY) == request.run_id
    ]
    assert len(snapshots) == 1
    ids = [r["order_id"] for r in lake.query("SELECT order_id FROM sales.orders")]
    assert len(ids) == 13 and len(set(ids)) == 13
