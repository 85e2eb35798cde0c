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
