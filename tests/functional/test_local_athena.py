"""The emulator's Athena runs the queries it is given: through the SDK, as on AWS."""

from __future__ import annotations

import os
import time
from datetime import datetime
from decimal import Decimal
from typing import Any, Dict

import pytest
from botocore.exceptions import ClientError

from lakeport.errors import ConfigurationError
from lakeport.local.athena import queries
from lakeport.query import AthenaQueryEngine, LocalQueryEngine, QueryError

from .test_query import CONTRACT, _source


def _finished(athena: Any, query_id: str) -> Dict[str, Any]:
    """The execution once it left QUEUED/RUNNING (waiting on its own progress, not on a clock)."""
    while True:
        described: Dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        if described["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return described
        time.sleep(0.01)


@pytest.fixture
def payments(lake):  # type: ignore[no-untyped-def]
    lake.apply(CONTRACT)
    lake.ingest("shop.payments", [lake.put("shop/payments/p.csv", _source(1500))])
    return lake


def test_a_query_started_with_the_sdk_runs_and_pages_its_rows_as_athena_does(payments) -> None:  # type: ignore[no-untyped-def]
    athena = payments.aws.client("athena")
    started = athena.start_query_execution(
        QueryString="SELECT payment_id, paid_on, paid_at, amount, method, amount IS NULL AS no_amount"
        " FROM shop.payments ORDER BY payment_id",
        WorkGroup=payments.resources.athena_workgroup,
    )
    described = _finished(athena, started["QueryExecutionId"])
    assert described["Status"]["State"] == "SUCCEEDED"
    assert "lakeport" in described["EngineVersion"]["EffectiveEngineVersion"]

    pages = list(athena.get_paginator("get_query_results").paginate(QueryExecutionId=started["QueryExecutionId"]))
    assert [len(p["ResultSet"]["Rows"]) for p in pages] == [1000, 501]  # a header row, then 1,500 rows
    columns = pages[0]["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("payment_id", "bigint"),
        ("paid_on", "date"),
        ("paid_at", "timestamp"),
        ("amount", "decimal"),
        ("method", "varchar"),
        ("no_amount", "boolean"),
    ]
    assert (columns[3]["Precision"], columns[3]["Scale"]) == (10, 2)
    rows = [[cell.get("VarCharValue") for cell in row["Data"]] for p in pages for row in p["ResultSet"]["Rows"]]
    assert rows[0] == ["payment_id", "paid_on", "paid_at", "amount", "method", "no_amount"]

    expected = (
        LocalQueryEngine.for_context(payments.aws)
        .execute("SELECT * FROM shop.payments ORDER BY payment_id")
        .to_pylist()
    )
    assert len(rows) - 1 == len(expected) == 1500
    for text, row in zip(rows[1:], expected):
        paid_at = None if row["paid_at"] is None else row["paid_at"].strftime("%Y-%m-%d %H:%M:%S.000")
        amount = None if row["amount"] is None else f"{row['amount']:.2f}"
        assert text == [
            str(row["payment_id"]),
            row["paid_on"].isoformat(),
            paid_at,
            amount,
            row["method"],
            "true" if row["amount"] is None else "false",
        ]  # a null has no VarCharValue, as on Athena


def test_the_engine_gives_the_same_typed_answer_through_athena_as_in_process(payments) -> None:  # type: ignore[no-untyped-def]
    sql = (
        "SELECT paid_month, count(*) AS n, sum(amount) AS total, max(paid_at) AS last_at, min(paid_on) AS first_day,"
        " avg(CAST(amount AS double)) AS mean FROM shop.payments GROUP BY paid_month ORDER BY paid_month"
    )
    athena = AthenaQueryEngine(payments.aws.client("athena"), payments.resources.athena_workgroup, local=True)
    through_athena = athena.execute(sql).to_pylist()
    in_process = LocalQueryEngine.for_context(payments.aws).execute(sql).to_pylist()
    assert through_athena == in_process and len(in_process) == 4
    answer = athena.answer(sql)
    assert answer.numeric == ["n", "total", "mean"]
    assert isinstance(answer.rows[0][2], Decimal) and isinstance(answer.rows[0][3], datetime)


def test_a_failed_query_says_why_with_the_hint_and_has_no_results(payments) -> None:  # type: ignore[no-untyped-def]
    athena = payments.aws.client("athena")
    started = athena.start_query_execution(
        QueryString="SELECT * FROM shop.nothing", WorkGroup=payments.resources.athena_workgroup
    )
    status = _finished(athena, started["QueryExecutionId"])["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith("table shop.nothing does not exist in the Glue Data Catalog")
    assert "\nhint: list datasets with 'lakeport contract list'" in status["StateChangeReason"]
    assert status["AthenaError"]["ErrorCategory"] == 2  # the user's query, not the system
    with pytest.raises(ClientError, match="Final query state: FAILED"):
        athena.get_query_results(QueryExecutionId=started["QueryExecutionId"])

    engine = AthenaQueryEngine(athena, payments.resources.athena_workgroup, local=True)
    with pytest.raises(QueryError, match=r"failed in the local stack: table shop\.nothing does not exist") as raised:
        engine.execute("SELECT * FROM shop.nothing")
    assert raised.value.hint and "lakeport contract list" in raised.value.hint


def test_tables_without_a_database_are_read_from_the_query_context(payments) -> None:  # type: ignore[no-untyped-def]
    athena = payments.aws.client("athena")
    started = athena.start_query_execution(
        QueryString="SELECT count(*) AS n FROM payments",
        QueryExecutionContext={"Database": "shop"},
        WorkGroup=payments.resources.athena_workgroup,
    )
    assert _finished(athena, started["QueryExecutionId"])["Status"]["State"] == "SUCCEEDED"
    rows = athena.get_query_results(QueryExecutionId=started["QueryExecutionId"])["ResultSet"]["Rows"]
    assert rows[1]["Data"] == [{"VarCharValue": "1500"}]


def test_an_emulator_that_does_not_run_queries_is_not_taken_for_an_empty_answer(payments) -> None:  # type: ignore[no-untyped-def]
    engine = AthenaQueryEngine(payments.aws.client("athena"), payments.resources.athena_workgroup, local=True)
    served = dict(queries._factories)
    for name in served:  # moto's own Athena: every query "succeeds" with no rows
        queries.withdraw(name)
    try:
        with pytest.raises(ConfigurationError, match="does not run them") as raised:
            engine.execute("SELECT count(*) FROM shop.payments")
        assert raised.value.hint and "--engine local" in raised.value.hint
    finally:
        for name, factory in served.items():
            queries.serve(name, factory)


def test_a_second_emulator_stopping_leaves_the_first_one_answering(payments) -> None:  # type: ignore[no-untyped-def]
    from lakeport.local.emulator import EmbeddedAws

    with EmbeddedAws():  # the same process's backends, another endpoint (as the end-to-end tests start)
        pass
    engine = AthenaQueryEngine(payments.aws.client("athena"), payments.resources.athena_workgroup, local=True)
    assert engine.answer("SELECT count(*) AS n FROM shop.payments").rows == [[1500]]
    # and the state machines' service integrations call the first one back again
    assert os.environ["MOTO_PORT"] == str(payments.aws.endpoint_url.rsplit(":", 1)[1])
