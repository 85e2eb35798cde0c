"""Replaced generations are kept while queries may read them, then deleted; live data never is."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lakeport.engine.generations import list_parquet
from lakeport.ingest import Ingestor, IngestRequest

pytestmark = pytest.mark.py39

HEADER = "order_id,Order Date,customer,country,amount,status\n"


def test_replaced_generations_expire_after_the_retention(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    now = {"t": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    ingestor = Ingestor(lake.aws, lake.resources, clock=lambda: now["t"], publish_metrics=False)
    fs = lake.aws.s3_filesystem()

    def deliver(name: str, order_id: int) -> str:
        obj = lake.put(f"sales/orders/{name}.csv", HEADER + f"{order_id},2024-07-01 10:00:00,c,DE,1.00,NEW\n")
        ingestor.run(IngestRequest(dataset="sales.orders", objects=[obj]))
        return lake.partitions("sales.orders")[("2024-07-01",)]

    first = deliver("a", 1)
    now["t"] += timedelta(hours=1)
    second = deliver("b", 2)
    assert list_parquet(fs, first), "replaced an hour ago: still there for running queries"

    now["t"] += timedelta(hours=25)
    third = deliver("c", 3)

    assert list_parquet(fs, first) == []  # replaced 25 h ago: deleted
    assert list_parquet(fs, second)  # replaced just now: kept
    assert len(list_parquet(fs, third)) == 3  # live: the three deliveries
    assert sorted(r["order_id"] for r in lake.query("SELECT order_id FROM sales.orders")) == [1, 2, 3]
