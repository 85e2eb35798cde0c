"""Runs whose files are rejected as a whole end PARTIAL or REJECTED, not SUCCEEDED with zero counts.

A person watching the runs must see that a file's rows are not in the table, how many rows (or,
when they cannot be counted, bytes) were refused, and why; ``lakeport ingest`` exits 2 for such a run.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport.ledger.runs import PARTIAL, REJECTED, SUCCEEDED

from .lake import Lake

GOOD = "order_id,Order Date,customer,country,amount,status\n1,2024-01-01 00:00:00,a,DE,1.00,NEW\n"
NO_CUSTOMER_COLUMN = "order_id,Order Date,country,amount,status\n2,2024-01-01 00:00:00,FR,1.00,NEW\n"

READINGS = """
dataset: plant.readings
owner: tests@example.com
source: {prefix: plant/readings/, format: parquet}
schema:
  - {name: device, type: string, nullable: false}
  - {name: temperature, type: double, nullable: false}
"""


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@pytest.mark.py39
def test_a_run_whose_only_file_is_rejected_is_rejected_with_its_size_and_reason(lake: Lake) -> None:
    lake.apply_example("orders")
    obj = lake.put("sales/orders/no-customer.csv", NO_CUSTOMER_COLUMN)

    summary = lake.ingest("sales.orders", [obj])

    assert summary.state == REJECTED
    [run] = lake.ingestor.runs.list("sales.orders")
    assert run.state == REJECTED
    assert (run.files, run.files_rejected, run.bytes_rejected) == (1, 1, len(NO_CUSTOMER_COLUMN))
    assert run.rejection is not None and run.rejection.startswith(obj.uri)
    assert "the header lacks required column(s) 'customer'" in run.rejection
    assert run.balanced


@pytest.mark.py39
def test_one_rejected_file_of_two_makes_the_run_partial_and_the_good_file_is_in_the_table(lake: Lake) -> None:
    lake.apply_example("orders")
    good = lake.put("sales/orders/good.csv", GOOD)
    bad = lake.put("sales/orders/no-customer.csv", NO_CUSTOMER_COLUMN)

    summary = lake.ingest("sales.orders", [good, bad])

    assert summary.state == PARTIAL
    [run] = lake.ingestor.runs.list("sales.orders")
    assert (run.state, run.files, run.files_rejected, run.rows_written) == (PARTIAL, 2, 1, 1)
    assert run.rejection is not None and bad.uri in run.rejection
    assert [r["order_id"] for r in lake.read_curated("sales.orders")] == [1]


@pytest.mark.py39
def test_a_parquet_file_lacking_a_required_column_counts_its_rows_as_quarantined(lake: Lake) -> None:
    lake.apply(READINGS)
    rows = pa.table({"device": ["a", "b", "c"], "humidity": [1.0, 2.0, 3.0]})  # no temperature
    obj = lake.put("plant/readings/r.parquet", _parquet(rows))

    summary = lake.ingest("plant.readings", [obj])

    assert summary.state == REJECTED
    [outcome] = summary.files
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (3, 0, 3)
    [run] = lake.ingestor.runs.list("plant.readings")
    assert (run.rows_read, run.rows_quarantined, run.files_rejected) == (3, 3, 1)
    assert run.balanced
    assert "lacks required column(s) 'temperature'" in (run.rejection or "")


@pytest.mark.py39
def test_a_run_without_rejections_stays_succeeded(lake: Lake) -> None:
    lake.apply_example("orders")
    summary = lake.ingest("sales.orders", [lake.put("sales/orders/good.csv", GOOD)])
    [run] = lake.ingestor.runs.list("sales.orders")
    assert (summary.state, run.state, run.files_rejected, run.rejection) == (SUCCEEDED, SUCCEEDED, 0, None)


def test_lakeport_ingest_exits_2_and_says_which_file_was_rejected_and_what_to_do(cli, lake: Lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    lake.put("sales/orders/good.csv", GOOD)
    bad = lake.put("sales/orders/no-customer.csv", NO_CUSTOMER_COLUMN)

    out = cli("ingest", "sales.orders", status=2)

    assert ": PARTIAL in" in out
    assert f"PARTIAL: 1 of 2 file(s) rejected as a whole, none of their rows is in the table: {bad.uri}" in out
    assert "lakeport ingest sales.orders <uri> --force" in out
    runs = cli("runs", "sales.orders")
    assert "PARTIAL" in runs and "1 of 2 file(s) rejected as a whole" in runs
