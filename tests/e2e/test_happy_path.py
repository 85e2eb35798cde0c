"""A file put into the raw bucket travels EventBridge → SQS → dispatcher → state machine → Glue job."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lakeport.ledger.runs import RunRecord
from lakeport.local.pipeline import LOCAL_SPARK_VARIABLE

from .flow import EXAMPLES, Flow


def test_messy_orders_csv_lands_with_every_row_written_or_quarantined(flow: Flow) -> None:
    flow.apply_example("orders")
    first = flow.put_example("sales/orders/orders-2024-01-02.csv")
    second = flow.put_example("sales/orders/orders-2024-01-03.csv")

    flow.wait()

    executions = flow.executions()
    assert executions and all(e["status"] == "SUCCEEDED" for e in executions)
    runs = flow.run_records("sales.orders")
    assert {r.state for r in runs} == {"SUCCEEDED"}
    assert {r.execution_arn for r in runs} == {e["executionArn"] for e in executions}
    assert all(r.engine == "python" and r.engine_reason.startswith("auto: ") for r in runs)
    assert (sum(r.rows_read for r in runs), sum(r.rows_written for r in runs)) == (21, 13)
    day2, day3 = flow.file_record(first), flow.file_record(second)
    assert day2 is not None and day3 is not None
    assert (day2.state, day2.rows_read, day2.rows_written, day2.rows_quarantined) == ("SUCCEEDED", 12, 7, 5)
    assert (day3.state, day3.rows_read, day3.rows_written, day3.rows_quarantined) == ("SUCCEEDED", 9, 6, 3)
    assert flow.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 13
    reasons = {
        (r["lakeport_source"].rsplit("/", 1)[1], r["lakeport_source_row"]): r["lakeport_reason"]
        for r in flow.query("SELECT lakeport_source, lakeport_source_row, lakeport_reason FROM sales.orders_quarantine")
    }
    assert len(reasons) == 8
    assert reasons[("orders-2024-01-02.csv", 4)] == "range(amount: 0..inf): amount = -12.00 is out of range"


def test_gzipped_json_lines_readings_land_partitioned_by_day(flow: Flow) -> None:
    flow.apply_example("readings")
    obj = flow.put_example("iot/readings/plant-a-2024-03-01.jsonl.gz")

    flow.wait()

    [run] = flow.run_records("iot.readings")
    assert (run.state, run.files, run.rows_read, run.rows_written, run.rows_quarantined) == (
        "SUCCEEDED",
        1,
        240,
        235,
        5,
    )
    record = flow.file_record(obj)
    assert record is not None and record.state == "SUCCEEDED" and record.run_id == run.run_id
    days = flow.query("SELECT reading_day, count(*) AS n FROM iot.readings GROUP BY 1 ORDER BY 1")
    assert [(str(d["reading_day"]), d["n"]) for d in days] == [("2024-03-01", 116), ("2024-03-02", 119)]


def test_latin1_accounts_upserted_by_a_second_delivery(flow: Flow) -> None:
    flow.apply_example("accounts")
    flow.put_example("finance/accounts/accounts-2024-04-01.csv")
    flow.wait()
    flow.put_example("finance/accounts/accounts-2024-04-02.csv")
    flow.wait()

    first, second = sorted(flow.run_records("finance.accounts"), key=lambda r: r.run_id)
    assert (first.state, first.rows_written) == ("SUCCEEDED", 5)
    assert (second.state, second.rows_read, second.rows_written, second.rows_quarantined, second.rows_duplicate) == (
        "SUCCEEDED",
        5,
        3,
        1,
        1,
    )
    rows = {r["account_id"]: r for r in flow.query("SELECT account_id, name, country, balance FROM finance.accounts")}
    assert sorted(rows) == ["A-100", "A-101", "A-102", "A-103", "A-104", "A-105"]
    assert rows["A-103"]["country"] == "PT" and rows["A-103"]["balance"] == Decimal("5100.00")
    assert rows["A-100"]["name"] == "Müller Bäckerei"


def _orders_sent_to_the_spark_job(flow: Flow) -> RunRecord:
    """Apply the orders contract with ``engine: spark``, deliver one file; its run, which succeeded."""
    text = (EXAMPLES / "contracts" / "orders.yaml").read_text(encoding="utf-8")
    flow.apply(text.replace("engine: auto", "engine: spark"))
    flow.put_example("sales/orders/orders-2024-01-02.csv")

    flow.wait()

    [run] = flow.run_records("sales.orders")
    assert run.state == "SUCCEEDED" and (run.rows_written, run.rows_quarantined) == (7, 5)
    return run


def test_a_run_sent_to_the_spark_job_is_done_by_the_spark_engine(flow: Flow) -> None:
    run = _orders_sent_to_the_spark_job(flow)
    assert (run.engine, run.engine_reason) == ("spark", "the contract sets engine: spark")
    assert any(r.job_name == flow.resources.spark_job_name for r in flow.stack.glue.records())
    [row] = flow.query("SELECT count(*) AS n, count(DISTINCT order_id) AS ids FROM sales.orders")
    assert (row["n"], row["ids"]) == (7, 7)


def test_without_spark_here_the_spark_job_says_the_python_engine_did_it(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LOCAL_SPARK_VARIABLE, "off")
    run = _orders_sent_to_the_spark_job(flow)
    assert run.engine == "python"
    assert run.engine_reason == (
        f"the contract sets engine: spark; run by the python engine locally: {LOCAL_SPARK_VARIABLE}=off"
    )
