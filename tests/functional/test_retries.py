"""A run that dies part-way is retried with the same run id: readers never see half a run, and the
retry leaves every row exactly once with ledgers that agree with the curated zone."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from lakeport.catalog import Catalog
from lakeport.engine.python.writer import PartitionedWriter
from lakeport.ledger.files import FileLedger

pytestmark = pytest.mark.py39

HEADER = "order_id,Order Date,customer,country,amount,status\n"
MAY = HEADER + "".join(f"{i},2024-05-{1 + i % 3:02d} 10:00:00,C{i},DE,{i}.00,NEW\n" for i in range(101, 131))
JUNE = HEADER + "".join(f"{i},2024-06-{1 + i % 3:02d} 10:00:00,C{i},DE,{i}.00,NEW\n" for i in range(1, 31))


class Crash(RuntimeError):
    pass


def crash_once(target: Any, name: str, monkeypatch: Any, after: int = 0) -> Dict[str, int]:
    """Make ``target.name`` raise on its (after+1)-th call, then behave."""
    original: Callable[..., Any] = getattr(target, name)
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == after + 1:
            raise Crash(f"injected crash in {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return calls


@pytest.mark.parametrize(
    ("target", "name", "after"),
    [
        (PartitionedWriter, "_write_rows", 1),  # mid-write
        (Catalog, "set_partitions", 0),  # after writing, before the catalog switch
        (FileLedger, "finish", 0),  # after the catalog switch, before the ledgers
    ],
    ids=["mid-write", "before-catalog-switch", "before-ledgers"],
)
def test_a_retried_run_leaves_each_row_exactly_once(lake, monkeypatch, target, name, after):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    earlier = lake.ingest("sales.orders", [lake.put("sales/orders/may.csv", MAY)])
    live_before = lake.partitions("sales.orders")
    obj = lake.put("sales/orders/june.csv", JUNE)
    crash_once(target, name, monkeypatch, after)

    with pytest.raises(Exception, match="injected crash"):
        lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-retry001")

    if name != "finish":
        # nothing of the failed run is visible
        assert lake.partitions("sales.orders") == live_before
        assert lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 30
    monkeypatch.undo()

    retry = lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-retry001")

    assert retry.state == "SUCCEEDED"
    ids = [r["order_id"] for r in lake.read_curated("sales.orders")]
    assert sorted(ids) == list(range(1, 31)) + list(range(101, 131))
    assert lake.query("SELECT count(*) AS n FROM sales.orders WHERE order_day >= DATE '2024-06-01'")[0]["n"] == 30
    record = FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table).get(obj)
    assert record is not None and (record.state, record.rows_written, record.run_id) == (
        "SUCCEEDED",
        30,
        retry.run_id,
    )
    run = lake.ingestor.runs.get("sales.orders", retry.run_id)
    assert run is not None and run.state == "SUCCEEDED" and run.rows_written == 30 and run.attempts == 2
    assert earlier.state == "SUCCEEDED"
