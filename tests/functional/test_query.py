"""`lakeport query` answers what the source file says, computed independently with the csv module."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from lakeport.query import QueryError, referenced_tables, to_duckdb

pytestmark = pytest.mark.py39

CONTRACT = """
dataset: shop.payments
owner: t@example.com
source: {prefix: shop/payments/, format: csv}
schema:
  - {name: payment_id, type: bigint, nullable: false}
  - {name: paid_on, type: date, nullable: false}
  - {name: paid_at, type: timestamp}
  - {name: amount, type: "decimal(10,2)"}
  - {name: method, type: string}
partition_by: [{name: paid_month, from: paid_on, transform: month}]
"""


def _source(rows: int = 400) -> str:
    rng = random.Random(42)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["payment_id", "paid_on", "paid_at", "amount", "method"])
    start = date(2024, 1, 1)
    for i in range(rows):
        day = start + timedelta(days=rng.randrange(0, 120))
        at = (
            ""
            if rng.random() < 0.1
            else f"{day} {rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        )
        amount = "" if rng.random() < 0.15 else f"{rng.randrange(-5000, 500000) / 100:.2f}"
        method = "" if rng.random() < 0.2 else rng.choice(["card", "sepa", "cash"])
        writer.writerow([i, day.isoformat(), at, amount, method])
    return out.getvalue()


def test_query_answers_match_an_independent_computation_from_the_source(lake):  # type: ignore[no-untyped-def]
    text = _source()
    lake.apply(CONTRACT)
    lake.ingest("shop.payments", [lake.put("shop/payments/p.csv", text)])

    rows = list(csv.DictReader(io.StringIO(text)))
    amounts = [Decimal(r["amount"]) for r in rows if r["amount"]]
    by_month = defaultdict(lambda: [0, Decimal("0")])
    for r in rows:
        bucket = by_month[r["paid_on"][:7]]
        bucket[0] += 1
        bucket[1] += Decimal(r["amount"]) if r["amount"] else Decimal("0")
    timestamps = [datetime.fromisoformat(r["paid_at"]) for r in rows if r["paid_at"]]
    march = [
        r
        for r in rows
        if r["paid_at"] and datetime(2024, 3, 1) <= datetime.fromisoformat(r["paid_at"]) < datetime(2024, 4, 1)
    ]

    totals = lake.query(
        "SELECT count(*) AS n, count(amount) AS with_amount, sum(amount) AS total, count(method) AS with_method,"
        " min(paid_on) AS first_day, max(paid_at) AS last_at FROM shop.payments"
    )[0]
    assert totals["n"] == len(rows)
    assert totals["with_amount"] == len(amounts)
    assert totals["total"] == sum(amounts)
    assert totals["with_method"] == sum(1 for r in rows if r["method"])
    assert totals["first_day"] == min(date.fromisoformat(r["paid_on"]) for r in rows)
    assert totals["last_at"] == max(timestamps)

    grouped = lake.query(
        "SELECT paid_month, count(*) AS n, coalesce(sum(amount), 0) AS total FROM shop.payments"
        " GROUP BY paid_month ORDER BY paid_month"
    )
    assert [(g["paid_month"], g["n"], g["total"]) for g in grouped] == [
        (month, n, total) for month, (n, total) in sorted(by_month.items())
    ]

    in_march = lake.query(
        "SELECT count(*) AS n FROM shop.payments WHERE paid_at >= TIMESTAMP '2024-03-01 00:00:00'"
        " AND paid_at < TIMESTAMP '2024-04-01 00:00:00' AND paid_month = '2024-03'"
    )[0]
    assert in_march["n"] == len(march)

    by_method = lake.query("SELECT method, count(*) AS n FROM shop.payments WHERE method IS NULL GROUP BY method")
    assert by_method == [{"method": None, "n": sum(1 for r in rows if not r["method"])}]


def test_unknown_tables_and_bad_sql_are_clear_errors(lake):  # type: ignore[no-untyped-def]
    with pytest.raises(QueryError, match=r"shop\.nothing does not exist"):
        lake.query("SELECT * FROM shop.nothing")
    with pytest.raises(QueryError, match="has no database"):
        lake.query("SELECT * FROM payments")


def test_translation_keeps_athena_meaning():  # type: ignore[no-untyped-def]
    sql = "SELECT approx_distinct(x), date_trunc('month', ts) FROM db.t WHERE ts > TIMESTAMP '2024-01-01 00:00:00'"
    translated = to_duckdb(sql)
    assert "APPROX_COUNT_DISTINCT" in translated and "TIMESTAMP(0)" not in translated
    assert sorted(referenced_tables("WITH a AS (SELECT * FROM db.t) SELECT * FROM a JOIN db.u ON true")) == [
        ("db", "t"),
        ("db", "u"),
    ]


def test_dividing_integers_divides_them_as_athena_does(lake):  # type: ignore[no-untyped-def]
    """Athena (Trino) divides an integer by an integer into an integer, truncated toward zero;
    DuckDB's own ``/`` would give a fraction. Decimals and doubles keep their fractions."""
    lake.apply_example("orders")
    lake.ingest("sales.orders", [lake.put_example("sales/orders/orders-2024-01-02.csv")])
    [row] = lake.query(
        "SELECT order_id / 100 AS hundreds, -order_id / 100 AS negative, order_id % 100 AS rest,"
        " amount / 2 AS half, order_id / 2.0 AS exact FROM sales.orders WHERE order_id = 1001"
    )
    assert row == {"hundreds": 10, "negative": -10, "rest": 1, "half": Decimal("60.25"), "exact": Decimal("500.5")}


def test_athena_pseudo_columns_name_each_rows_data_file_and_its_time(lake):  # type: ignore[no-untyped-def]
    """ "$path" and "$file_modified_time" as on Athena: checked against the table's own file list and S3."""
    text = _source(120)
    lake.apply(CONTRACT)
    lake.ingest("shop.payments", [lake.put("shop/payments/p.csv", text)])

    table = lake.table("shop.payments")
    expected = {}
    s3 = lake.aws.client("s3")
    for task in table.scan().plan_files():
        bucket, _, key = task.file.file_path[len("s3://") :].partition("/")
        modified = s3.head_object(Bucket=bucket, Key=key)["LastModified"]
        expected[task.file.file_path] = (task.file.record_count, modified.replace(microsecond=0))
    assert len(expected) > 1  # one file per month partition

    got = lake.query(
        'SELECT "$path" AS path, "$file_modified_time" AS modified, count(*) AS n FROM shop.payments'
        " GROUP BY 1, 2 ORDER BY 1"
    )
    assert {g["path"]: (g["n"], g["modified"].replace(microsecond=0)) for g in got} == expected
    # a filter on the file, as Athena users write it; and the columns stay hidden from a plain SELECT *
    one = sorted(expected)[0]
    assert lake.query(f"SELECT count(*) AS n FROM shop.payments WHERE \"$path\" = '{one}'") == [{"n": expected[one][0]}]
    assert "$path" not in lake.query("SELECT * FROM shop.payments LIMIT 1")[0]
