"""The python engine through the whole run (ledgers, catalog, generations) against the emulator."""

from __future__ import annotations

import gzip
from datetime import date
from decimal import Decimal

import pytest

from lakeport.engine.model import QUARANTINED, SUCCEEDED
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ledger.files import FileLedger

pytestmark = pytest.mark.py39


def _ledger(lake):  # type: ignore[no-untyped-def]
    return FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table)


def test_messy_csv_every_row_is_written_or_quarantined_with_a_reason(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    first = lake.put_example("sales/orders/orders-2024-01-02.csv")
    second = lake.put_example("sales/orders/orders-2024-01-03.csv")

    run = lake.ingest("sales.orders", [first, second])

    assert run.state == "SUCCEEDED"
    by_file = {f.source.uri.rsplit("/", 1)[1]: f for f in run.files}
    day2, day3 = by_file["orders-2024-01-02.csv"], by_file["orders-2024-01-03.csv"]
    assert (day2.rows_read, day2.rows_written, day2.rows_quarantined) == (12, 7, 5)
    assert (day3.rows_read, day3.rows_written, day3.rows_quarantined) == (9, 6, 3)
    for outcome in run.files:
        assert outcome.state == SUCCEEDED
        assert outcome.rows_read == outcome.rows_written + outcome.rows_quarantined + outcome.rows_duplicate

    reasons = {
        (r["lakeport_source"].rsplit("/", 1)[1], r["lakeport_source_row"]): r["lakeport_reason"]
        for r in lake.query("SELECT lakeport_source, lakeport_source_row, lakeport_reason FROM sales.orders_quarantine")
    }
    assert ("orders-2024-01-02.csv", 3) not in reasons  # 'n/a' is one of the contract's null markers
    assert reasons[("orders-2024-01-02.csv", 4)] == "range(amount: 0..inf): amount = -12.00 is out of range"
    assert "'12.345' is not a decimal(12,2)" in reasons[("orders-2024-01-02.csv", 6)]
    assert "order_date: '2024-02-30 14:00:00' is not a timestamp" in reasons[("orders-2024-01-02.csv", 8)]
    assert "'LOST' is not one of NEW, PAID, SHIPPED, CANCELLED" in reasons[("orders-2024-01-02.csv", 9)]
    assert reasons[("orders-2024-01-02.csv", 12)] == "unique(order_id): the same key appears earlier in this run"
    assert "order_id: 'x1016' is not a bigint" in reasons[("orders-2024-01-03.csv", 5)]
    assert reasons[("orders-2024-01-03.csv", 6)] == "customer: is empty but the column is not nullable"
    assert "'999999999999.99' is not a decimal(12,2)" in reasons[("orders-2024-01-03.csv", 7)]

    # the ledgers say the same as the run
    ledger = _ledger(lake)
    record = ledger.get(first)
    assert record is not None
    assert (record.state, record.rows_read, record.rows_written, record.rows_quarantined) == (
        "SUCCEEDED",
        12,
        7,
        5,
    )
    runs = lake.ingestor.runs.list("sales.orders")
    assert (runs[0].rows_read, runs[0].rows_written, runs[0].rows_quarantined) == (21, 13, 8)

    # curated rows: typed, with lineage, the quoted newline kept, the Z timestamp in UTC
    rows = {r["order_id"]: r for r in lake.read_curated("sales.orders")}
    assert sorted(rows) == [1001, 1002, 1003, 1005, 1007, 1010, 1011, 1012, 1013, 1014, 1015, 1019, 1020]
    assert rows[1003]["amount"] is None
    assert rows[1011]["customer"] == "Kilo\nBranch Ltd"
    assert rows[1005]["customer"] == 'Echo, "the" Lda'
    assert rows[1014]["order_date"].isoformat() == "2024-01-03T09:00:00"
    assert rows[1001]["amount"] == Decimal("120.50")
    assert rows[1020]["order_day"].isoformat() == "2024-01-04"  # a real date column in the table
    assert rows[1001]["lakeport_source"] == first.uri and rows[1001]["lakeport_source_row"] == 1
    assert rows[1001]["lakeport_run_id"] == run.run_id


def test_every_type_conversion_failure_is_quarantined_never_a_silent_null(lake):  # type: ignore[no-untyped-def]
    lake.apply(
        """
dataset: lab.types
owner: t@example.com
source: {prefix: lab/types/, format: csv}
schema:
  - {name: id, type: int, nullable: false}
  - {name: b, type: boolean}
  - {name: t, type: tinyint}
  - {name: s, type: smallint}
  - {name: i, type: int}
  - {name: g, type: bigint}
  - {name: f, type: float}
  - {name: d, type: double}
  - {name: m, type: "decimal(5,2)"}
  - {name: dt, type: date}
  - {name: eu, type: date, format: "%d/%m/%Y"}
  - {name: ts, type: timestamp}
  - {name: v, type: varchar(3)}
  - {name: c, type: char(2)}
quality: {max_bad_ratio: 1.0}
"""
    )
    header = "id,b,t,s,i,g,f,d,m,dt,eu,ts,v,c"
    good = (
        "1,yes,127,-32768,2147483647,9223372036854775807,1.5,-2e10,999.99,"
        "2024-02-29,29/02/2024,2024-01-01T00:00:00,abc,de"
    )
    bad = [
        "2,maybe,,,,,,,,,,,,",
        "3,,128,,,,,,,,,,,",
        "4,,,40000,,,,,,,,,,",
        "5,,,,2147483648,,,,,,,,,",
        "6,,,,,0x10,,,,,,,,",
        "7,,,,,,abc,,,,,,,",
        "8,,,,,,,1.2.3,,,,,,",
        "9,,,,,,,,1000.00,,,,,",
        "10,,,,,,,,1.005,,,,,",
        "11,,,,,,,,,2023-02-29,,,,",
        "12,,,,,,,,,,30/02/2024,,,",
        "13,,,,,,,,,,,2024-01-01 25:00:00,,",
        "14,,,,,,,,,,,,abcd,",
        "15,,,,,,,,,,,,,xyz",
    ]
    obj = lake.put("lab/types/t.csv", "\n".join([header, good, *bad]) + "\n")

    run = lake.ingest("lab.types", [obj])

    (outcome,) = run.files
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (15, 1, 14)
    quarantined = {
        int(r["id"]): r["lakeport_reason"] for r in lake.query("SELECT id, lakeport_reason FROM lab.types_quarantine")
    }
    expected_column = {
        2: "b",
        3: "t",
        4: "s",
        5: "i",
        6: "g",
        7: "f",
        8: "d",
        9: "m",
        10: "m",
        11: "dt",
        12: "eu",
        13: "ts",
        14: "v",
        15: "c",
    }
    for row_id, column in expected_column.items():
        assert quarantined[row_id].startswith(f"{column}: "), quarantined[row_id]
    (written,) = lake.read_curated("lab.types")
    assert written["b"] is True and written["m"] == Decimal("999.99") and written["v"] == "abc"
    assert str(written["eu"]) == "2024-02-29"


def test_append_twice_keeps_both_deliveries(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    first = lake.put_example("sales/orders/orders-2024-01-02.csv")
    lake.ingest("sales.orders", [first])
    before = lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"]
    second = lake.put_example("sales/orders/orders-2024-01-03.csv")
    lake.ingest("sales.orders", [second])

    assert before == 7
    assert lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 13
    day = lake.query(
        "SELECT count(DISTINCT lakeport_run_id) AS runs FROM sales.orders WHERE order_day = DATE '2024-01-02'"
    )
    assert day[0]["runs"] == 1  # only the first delivery has rows for 2024-01-02


def test_append_into_an_existing_partition_adds_a_file_and_copies_nothing(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    one = lake.put(
        "sales/orders/a.csv",
        "order_id,Order Date,customer,country,amount,status\n1,2024-05-01 10:00:00,A,DE,1.00,NEW\n",
    )
    two = lake.put(
        "sales/orders/b.csv",
        "order_id,Order Date,customer,country,amount,status\n2,2024-05-01 11:00:00,B,DE,2.00,NEW\n",
    )
    first = lake.ingest("sales.orders", [one])
    [old_file] = lake.partitions("sales.orders")[("2024-05-01",)]
    second = lake.ingest("sales.orders", [two])
    files = lake.partitions("sales.orders")[("2024-05-01",)]

    # the first run's file is still the one the table refers to: nothing was copied or rewritten
    assert old_file in files and len(files) == 2
    assert f"part-{first.run_id}-" in old_file
    snapshot = lake.table("sales.orders").current_snapshot()
    assert snapshot.summary.operation.value == "append"
    assert snapshot.summary["added-data-files"] == "1" and snapshot.summary["lakeport.run-id"] == second.run_id
    rows = lake.query("SELECT order_id, lakeport_run_id FROM sales.orders ORDER BY order_id")
    assert [(r["order_id"], r["lakeport_run_id"]) for r in rows] == [(1, first.run_id), (2, second.run_id)]


EVENTS = """
dataset: lab.events
owner: t@example.com
source: {prefix: lab/events/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: region, type: string, nullable: false}
  - {name: amount, type: int}
partition_by: [{name: region}]
write_mode: append
schema_evolution: additive
"""


def test_maintenance_compacts_a_partition_of_many_small_files_without_losing_a_row(lake):  # type: ignore[no-untyped-def]
    from lakeport.iceberg.maintain import compact

    def deliver(first_id: int, count: int, with_note: bool) -> list:
        header = "id,region,amount" + (",note" if with_note else "")
        return [
            lake.put(
                f"lab/events/{i}.csv",
                f"{header}\n{i},eu,{i * 10}" + (f",n{i}" if with_note else "") + "\n",
            )
            for i in range(first_id, first_id + count)
        ]

    lake.apply(EVENTS)
    lake.ingest("lab.events", deliver(0, 8, with_note=False))
    lake.apply(
        EVENTS.replace("  - {name: amount, type: int}", "  - {name: amount, type: int}\n  - {name: note, type: string}")
    )
    lake.ingest("lab.events", deliver(8, 8, with_note=True))
    assert len(lake.partitions("lab.events")[("eu",)]) == 16  # one file per delivered object
    before = lake.table("lab.events").current_snapshot().snapshot_id

    report = compact(lambda: lake.table("lab.events"), lake.aws.s3_filesystem())

    [compacted] = lake.partitions("lab.events")[("eu",)]
    assert "part-compact-" in compacted
    assert (report.files_compacted, report.files_written, report.partitions_compacted) == (16, 1, 1)
    [row] = lake.query(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids, sum(amount) AS total, count(note) AS notes,"
        " count(DISTINCT lakeport_run_id) AS runs FROM lab.events"
    )
    assert (row["n"], row["ids"], row["total"]) == (16, 16, sum(i * 10 for i in range(16)))
    assert row["notes"] == 8  # rows written before the column existed read as null
    assert row["runs"] == 2  # lineage survives the rewrite
    # the snapshot before the compaction still reads the 16 files
    [old] = lake.query(f"SELECT count(*) AS n FROM lab.events FOR VERSION AS OF {before}")
    assert old["n"] == 16


def test_overwrite_partitions_replaces_only_the_partitions_a_run_touches(lake):  # type: ignore[no-untyped-def]
    lake.apply(
        """
dataset: finance.fx
owner: t@example.com
source: {prefix: finance/fx/, format: csv}
schema:
  - {name: day, type: date, nullable: false}
  - {name: currency, type: char(3), nullable: false}
  - {name: rate, type: "decimal(12,6)"}
partition_by: [{name: day}]
write_mode: overwrite_partitions
"""
    )
    lake.ingest(
        "finance.fx",
        [
            lake.put(
                "finance/fx/1.csv",
                "day,currency,rate\n2024-01-01,USD,1.1\n2024-01-01,GBP,0.86\n2024-01-02,USD,1.2\n",
            )
        ],
    )
    lake.ingest(
        "finance.fx",
        [lake.put("finance/fx/2.csv", "day,currency,rate\n2024-01-02,USD,1.25\n2024-01-02,JPY,160\n")],
    )

    rows = lake.query("SELECT CAST(day AS VARCHAR) AS day, currency, rate FROM finance.fx ORDER BY 1, 2")
    assert [(r["day"], r["currency"], str(r["rate"])) for r in rows] == [
        ("2024-01-01", "GBP", "0.860000"),
        ("2024-01-01", "USD", "1.100000"),
        ("2024-01-02", "JPY", "160.000000"),
        ("2024-01-02", "USD", "1.250000"),
    ]


def test_upsert_keeps_the_latest_row_per_key_even_when_the_key_moves_partition(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("accounts")
    first = lake.ingest("finance.accounts", [lake.put_example("finance/accounts/accounts-2024-04-01.csv")])
    second = lake.ingest("finance.accounts", [lake.put_example("finance/accounts/accounts-2024-04-02.csv")])

    assert first.totals()["rows_written"] == 5
    (delivery,) = second.files
    # A-105 twice in one delivery: the later row wins, the earlier is counted as a duplicate dropped
    assert (
        delivery.rows_read,
        delivery.rows_written,
        delivery.rows_quarantined,
        delivery.rows_duplicate,
    ) == (5, 3, 1, 1)
    rows = {r["account_id"]: r for r in lake.query("SELECT account_id, name, country, balance FROM finance.accounts")}
    assert sorted(rows) == ["A-100", "A-101", "A-102", "A-103", "A-104", "A-105"]
    assert rows["A-101"]["balance"] == Decimal("-150.00")
    assert rows["A-103"]["country"] == "PT" and rows["A-103"]["balance"] == Decimal("5100.00")  # moved from ES
    assert rows["A-105"]["balance"] == Decimal("650.00")
    assert rows["A-100"]["name"] == "Müller Bäckerei"  # latin-1 read correctly
    assert ("ES",) not in lake.partitions("finance.accounts") or not lake.query(
        "SELECT * FROM finance.accounts WHERE country = 'ES'"
    )


def test_reingesting_an_ingested_object_is_a_no_op(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put_example("sales/orders/orders-2024-01-02.csv")
    lake.ingest("sales.orders", [obj])
    partitions = lake.partitions("sales.orders")

    again = lake.ingest("sales.orders", [obj])

    assert again.files == [] and len(again.skipped) == 1 and "already SUCCEEDED" in again.skipped[0]
    assert lake.partitions("sales.orders") == partitions
    assert lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 7


def test_force_reingests_without_duplicating_rows_in_upsert_mode(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("accounts")
    obj = lake.put_example("finance/accounts/accounts-2024-04-01.csv")
    lake.ingest("finance.accounts", [obj])
    lake.ingest("finance.accounts", [obj], force=True)
    assert lake.query("SELECT count(*) AS n FROM finance.accounts")[0]["n"] == 5


@pytest.mark.parametrize(
    ("name", "body", "reason_part"),
    [
        ("empty.csv", b"", "empty (0 bytes)"),
        ("header-only.csv", b"order_id,Order Date,customer,country,amount,status\n", "no data rows"),
        (
            "no-customer.csv",
            b"order_id,Order Date,country,amount\n1,2024-01-01 00:00:00,DE,1.00\n",
            "lacks required column(s) 'customer'",
        ),
        ("garbage.csv", bytes(range(256)) * 40, "lacks required column"),
        (
            "truncated.csv.gz",
            gzip.compress(b"order_id,Order Date,customer\n" + b"1,2024-01-01 00:00:00,abc\n" * 5000)[:300],
            "truncated or corrupt",
        ),
        (
            "latin1.csv",
            b"order_id,Order Date,customer,country,amount,status\n"
            + "1,2024-01-01 00:00:00,Müller,DE,1.00,NEW\n".encode("latin-1") * 3,
            "not valid text",
        ),
    ],
    ids=["empty", "header-only", "missing-column", "binary-garbage", "truncated-gzip", "wrong-encoding"],
)
def test_bad_input_ends_quarantined_with_a_reason_and_leaves_curated_data_alone(lake, name, body, reason_part):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    lake.ingest("sales.orders", [lake.put_example("sales/orders/orders-2024-01-02.csv")])
    live = lake.partitions("sales.orders")
    rows_before = lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"]
    obj = lake.put(f"sales/orders/{name}", body)

    run = lake.ingest("sales.orders", [obj])

    (outcome,) = run.files
    assert outcome.state == QUARANTINED
    assert outcome.rows_written == 0 and outcome.rows_read == outcome.rows_quarantined
    record = _ledger(lake).get(obj)
    assert record is not None and record.state == "QUARANTINED"
    assert reason_part in (record.reason or ""), record.reason
    assert lake.partitions("sales.orders") == live
    assert lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == rows_before
    # the rejected file is kept, byte for byte, in the quarantine zone
    assert outcome.rejected_copy and outcome.rejected_copy.startswith(f"s3://{lake.resources.quarantine_bucket}/")


def test_fail_file_rejects_a_large_object_whole_and_counts_every_row(lake):  # type: ignore[no-untyped-def]
    lake.apply(
        """
dataset: lab.strict
owner: t@example.com
source: {prefix: lab/strict/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: amount, type: "decimal(12,2)"}
quality: {on_violation: fail_file}
"""
    )
    good = lake.put("lab/strict/good.csv", b"id,amount\n1,1.00\n")
    rows = 700_000  # about 11 MiB: more than one read batch
    lines = [f"{i},{i % 1000}.25" for i in range(rows)]
    lines[3], lines[-1] = "3,three", "oops,1.00"  # one bad row in the first batch, one in the last
    big = lake.put("lab/strict/big.csv", ("id,amount\n" + "\n".join(lines) + "\n").encode())

    run = lake.ingest("lab.strict", [good, big])

    by_file = {f.source.uri.rsplit("/", 1)[1]: f for f in run.files}
    assert by_file["good.csv"].state == SUCCEEDED
    outcome = by_file["big.csv"]
    assert outcome.state == QUARANTINED
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (rows, 0, rows)
    assert outcome.reason.startswith("2 row(s) break the contract and quality.on_violation is fail_file")
    assert lake.query("SELECT count(*) AS n FROM lab.strict")[0]["n"] == 1
    quarantined = lake.query("SELECT lakeport_source_row AS row FROM lab.strict_quarantine ORDER BY 1")
    assert [r["row"] for r in quarantined] == [4, rows]  # both bad rows, by their data row numbers


def test_a_run_publishes_its_metrics(lake):  # type: ignore[no-untyped-def]
    from datetime import datetime, timedelta, timezone

    lake.apply_example("orders")
    lake.ingest("sales.orders", [lake.put_example("sales/orders/orders-2024-01-02.csv")])
    cloudwatch = lake.aws.client("cloudwatch")
    now = datetime.now(timezone.utc)

    def total(metric: str) -> float:
        stats = cloudwatch.get_metric_statistics(
            Namespace="Lakeport",
            MetricName=metric,
            Dimensions=[{"Name": "Dataset", "Value": "sales.orders"}, {"Name": "Engine", "Value": "python"}],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=3600,
            Statistics=["Sum"],
        )
        return sum(p["Sum"] for p in stats["Datapoints"])

    assert (total("RowsRead"), total("RowsWritten"), total("RowsQuarantined")) == (12, 7, 5)


def test_gzipped_json_lines_with_broken_lines(lake):  # type: ignore[no-untyped-def]
    lake.apply_example("readings")
    obj = lake.put_example("iot/readings/plant-a-2024-03-01.jsonl.gz")

    run = lake.ingest("iot.readings", [obj])

    (outcome,) = run.files
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (240, 235, 5)
    reasons = {
        r["lakeport_source_row"]: r["lakeport_reason"]
        for r in lake.query("SELECT lakeport_source_row, lakeport_reason FROM iot.readings_quarantine")
    }
    assert reasons[18].startswith("temperature: 'hot' is not a double")
    assert reasons[34].startswith("battery: 'n/a' is not a tinyint")
    assert reasons[52].startswith("row cannot be parsed: line 52 is not valid JSON")
    assert reasons[89] == "row cannot be parsed: line 89 is a JSON list, not an object"
    assert reasons[121] == "device: is empty but the column is not nullable"
    days = lake.query("SELECT reading_day, count(*) AS n FROM iot.readings GROUP BY 1 ORDER BY 1")
    assert [(str(d["reading_day"]), d["n"]) for d in days] == [("2024-03-01", 116), ("2024-03-02", 119)]
    sample = lake.query("SELECT ts, humidity FROM iot.readings WHERE device = 'press-01' ORDER BY ts LIMIT 1")[0]
    assert sample["ts"].isoformat() == "2024-03-01T00:00:00"


def test_a_hive_table_left_by_the_first_version_is_refused_with_how_to_rebuild_it(lake):  # type: ignore[no-untyped-def]
    from lakeport.catalog import Catalog
    from lakeport.errors import ConfigurationError

    contract = lake.apply_example("orders")
    Catalog(lake.aws.client("glue")).ensure_table(contract, f"s3://{lake.resources.curated_bucket}/sales/orders/")
    obj = lake.put_example("sales/orders/orders-2024-01-02.csv")

    with pytest.raises(ConfigurationError, match="is a Hive-style table") as refused:
        lake.ingest("sales.orders", [obj])
    hint = refused.value.hint or ""
    assert "aws glue delete-table --database-name sales --name orders" in hint
    assert "lakeport ingest sales.orders --force" in hint
    record = lake.ingestor.files.get(obj)
    assert record is not None and record.state == "FAILED"


NULL_MARKERS = """
dataset: lab.readings
owner: t@example.com
source: {prefix: lab/readings/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: reading, type: double, null_values: [NA, "-"]}
  - {name: needed, type: int, nullable: false, null_values: [NA]}
  - {name: country, type: char(2)}
  - {name: note, type: string}
"""
# row 3's `needed` is a marker in a required column; row 5's reading is a quoted marker
MARKED = 'id,reading,needed,country,note\n1,12.5,1,NA,\n2,NA,2,DE,""\n3,-,NA,NA,x\n4,,4,FR,"NA"\n5,"NA",5,NA,y\n'


def test_null_markers_per_column_and_empty_versus_quoted_empty(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(NULL_MARKERS)
    summary = lake.ingest("lab.readings", [lake.put("lab/readings/r.csv", MARKED)])
    assert summary.totals()["rows_read"] == 5 and summary.totals()["rows_quarantined"] == 1
    rows = lake.query("SELECT id, reading, needed, country, note FROM lab.readings ORDER BY id")
    assert rows == [
        # an empty field is null (the source's null_values: [""]); NA stays a country code
        {"id": 1, "reading": 12.5, "needed": 1, "country": "NA", "note": None},
        # the column's marker; a quoted empty string stays an empty string
        {"id": 2, "reading": None, "needed": 2, "country": "DE", "note": ""},
        # a column's markers match quoted text too; another column keeps "NA" as text
        {"id": 4, "reading": None, "needed": 4, "country": "FR", "note": "NA"},
        {"id": 5, "reading": None, "needed": 5, "country": "NA", "note": "y"},
    ]
    [bad] = lake.query("SELECT lakeport_source_row, lakeport_reason, needed FROM lab.readings_quarantine")
    assert bad["lakeport_source_row"] == 3 and "needed" in bad["lakeport_reason"] and bad["needed"] == "NA"

    # null_values: [] keeps empty text: an empty note is "", an empty number is not a number
    lake.apply(
        NULL_MARKERS.replace("lab.readings", "lab.raw_readings")
        .replace("lab/readings/", "lab/raw/")
        .replace("format: csv}", "format: csv, options: {null_values: []}}")
    )
    summary = lake.ingest("lab.raw_readings", [lake.put("lab/raw/r.csv", "id,reading,needed,country,note\n1,,1,NA,\n")])
    assert summary.totals()["rows_quarantined"] == 1
    [rejected] = lake.query("SELECT lakeport_reason, note FROM lab.raw_readings_quarantine")
    assert "reading" in rejected["lakeport_reason"] and rejected["note"] == ""


FLIGHTS = """
dataset: air.flights
owner: tests@example.com
source: {prefix: air/flights/, format: csv}
schema:
  - {name: year, type: int, nullable: false}
  - {name: month, type: int, nullable: false}
  - {name: day, type: int, nullable: false}
  - {name: dep_time, type: int, null_values: [NA]}
  - {name: tailnum, type: string}
  - {name: flight_date, type: date, nullable: false, expression: "date(format('%04d-%02d-%02d', year, month, day))"}
  - {name: dep_minute_of_day, type: smallint, expression: "dep_time / 100 * 60 + dep_time % 100"}
partition_by: [{name: month_of_flight, from: flight_date, transform: month}]
"""
FLIGHTS_CSV = (
    "year,month,day,dep_time,tailnum\n"
    "2013,1,1,517,N14228\n"
    "2013,1,1,NA,NA\n"  # not yet departed; the tail number NA is a real registration here
    "2013,1,31,2359,N24211\n"
    "2013,2,30,600,N619AA\n"  # no such day
    "2013,2,1,1,N804JB\n"
)


def test_a_date_from_split_parts_and_a_time_of_day_from_hhmm_are_derived_and_queried(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(FLIGHTS)
    summary = lake.ingest("air.flights", [lake.put("air/flights/2013-01.csv", FLIGHTS_CSV)])
    totals = summary.totals()
    assert (totals["rows_read"], totals["rows_written"], totals["rows_quarantined"]) == (5, 4, 1)

    rows = lake.query(
        "SELECT flight_date, dep_minute_of_day, tailnum FROM air.flights ORDER BY flight_date, dep_minute_of_day"
    )
    assert rows == [
        {"flight_date": date(2013, 1, 1), "dep_minute_of_day": 317, "tailnum": "N14228"},
        {"flight_date": date(2013, 1, 1), "dep_minute_of_day": None, "tailnum": "NA"},
        {"flight_date": date(2013, 1, 31), "dep_minute_of_day": 1439, "tailnum": "N24211"},
        {"flight_date": date(2013, 2, 1), "dep_minute_of_day": 1, "tailnum": "N804JB"},
    ]
    # the derived date partitions the table, and Athena SQL filters on it like any column
    assert sorted(lake.partitions("air.flights")) == [("2013-01",), ("2013-02",)]
    assert lake.query(
        "SELECT count(*) AS n FROM air.flights WHERE flight_date BETWEEN DATE '2013-01-01' AND DATE '2013-01-31'"
    ) == [{"n": 3}]
    [bad] = lake.query("SELECT lakeport_source_row, lakeport_reason FROM air.flights_quarantine")
    assert bad["lakeport_source_row"] == 4
    assert bad["lakeport_reason"].startswith("flight_date: the expression gave no value for this row")


def test_the_same_bytes_uploaded_again_to_the_same_key_are_a_duplicate_delivery(lake) -> None:  # type: ignore[no-untyped-def]
    """A re-upload of an unchanged file makes a new S3 version; reading it would quarantine every row
    as a duplicate key. It is recorded as a duplicate delivery instead; changed bytes are read."""
    lake.apply_example("orders")
    body = (EXAMPLES / "raw" / "sales" / "orders" / "orders-2024-01-02.csv").read_bytes()
    first = lake.put("sales/orders/orders-2024-01-02.csv", body)
    lake.ingest("sales.orders", [first])
    rows, quarantined = (
        lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"],
        lake.query("SELECT count(*) AS n FROM sales.orders_quarantine")[0]["n"],
    )

    again = lake.put("sales/orders/orders-2024-01-02.csv", body)
    assert again.version_id != first.version_id
    summary = lake.ingest("sales.orders", [again])
    assert summary.files == [] and len(summary.skipped) == 1
    assert "a duplicate delivery, not read again" in summary.skipped[0] and first.version_id in summary.skipped[0]
    assert lake.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == rows
    assert lake.query("SELECT count(*) AS n FROM sales.orders_quarantine")[0]["n"] == quarantined
    record = FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table).get(again)
    assert record.state == "SUCCEEDED" and record.rows_read == 0 and "duplicate delivery" in record.reason

    changed = lake.put("sales/orders/orders-2024-01-02.csv", body + b"9001,2024-01-02 10:00:00,Late Ltd,DE,1.00,open\n")
    summary = lake.ingest("sales.orders", [changed])
    [outcome] = summary.files
    assert outcome.rows_read == rows + quarantined + 1  # every row of the changed file is read


def test_rows_keep_their_numbers_in_the_file_around_an_unparseable_row(lake) -> None:  # type: ignore[no-untyped-def]
    """An unparseable row is quarantined with its own row number, and the rows after it keep theirs."""
    lake.apply(
        """
dataset: lab.counts
owner: t@example.com
source: {prefix: lab/counts/, format: csv, options: {skip_rows: 1}}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: n, type: int}
"""
    )
    text = "exported 2026-12-06\nid,n\n1,10\n2,20,extra\n3,not a number\n4,40\n5,50,x,y\n6,60\n"
    summary = lake.ingest("lab.counts", [lake.put("lab/counts/c.csv", text)])
    assert summary.totals()["rows_read"] == 6 and summary.totals()["rows_quarantined"] == 3
    quarantined = lake.query(
        "SELECT lakeport_source_row AS row, lakeport_reason AS reason FROM lab.counts_quarantine ORDER BY 1"
    )
    assert [q["row"] for q in quarantined] == [2, 3, 5]
    assert "3 fields where 2 were expected" in quarantined[0]["reason"]
    assert "not a number" in quarantined[1]["reason"]
    written = lake.query("SELECT id, lakeport_source_row AS row FROM lab.counts ORDER BY id")
    assert [(w["id"], w["row"]) for w in written] == [(1, 1), (4, 4), (6, 6)]


class _SlowEngine:
    """The python engine, after a pause: a run long enough for several heartbeats."""

    def __init__(self, seconds: float) -> None:
        from lakeport.engine.python.engine import PythonEngine

        self.inner, self.seconds = PythonEngine(), seconds
        self.name = self.inner.name

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)

    def run(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        import time

        time.sleep(self.seconds)
        return self.inner.run(*args, **kwargs)


def test_a_live_run_keeps_its_short_lease_and_a_killed_one_frees_the_dataset(lake) -> None:  # type: ignore[no-untyped-def]
    """Leases of seconds here (minutes by default): the heartbeat renews them while the run lives;
    a holder that died (no heartbeat) blocks the dataset only until its lease runs out, and the
    refusal says which command finishes it."""
    import threading
    import time

    from lakeport.errors import DatasetBusyError
    from lakeport.ingest import Ingestor, IngestRequest
    from lakeport.ledger import DatasetLock

    lake.apply_example("orders")
    lock = DatasetLock(lake.aws.client("dynamodb"), lake.resources.datasets_table)
    slow = Ingestor(
        lake.aws,
        lake.resources,
        engine_factory=lambda name: _SlowEngine(5.0),
        lock_lease_seconds=2,
        heartbeat_seconds=0.2,
    )
    first = lake.put_example("sales/orders/orders-2024-01-02.csv")
    result = {}
    running = threading.Thread(
        target=lambda: result.update(summary=slow.run(IngestRequest("sales.orders", [first], run_id="R-live")))
    )
    running.start()
    try:
        deadline = time.monotonic() + 30
        while lock.holder("sales.orders") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(3.0)  # longer than the lease: only the heartbeat keeps it
        with pytest.raises(DatasetBusyError):
            lock.acquire("sales.orders", "R-intruder", 60)
    finally:
        running.join(60)
    assert result["summary"].state == "SUCCEEDED" and lock.holder("sales.orders") is None

    # a run that died holding the lock and a claim: nothing renews them
    from lakeport.ledger.runs import RunRecord

    held = lake.put("sales/orders/held-by-the-dead-run.csv", "order_id,Order Date,customer\n7,2024-01-05 00:00:00,x\n")
    lake.ingestor.runs.start(RunRecord(dataset="sales.orders", run_id="R-dead", files=1, file_uris=[held.uri]))
    lock.acquire("sales.orders", "R-dead", 1)
    assert lake.ingestor.files.claim(held, "sales.orders", "R-dead", lease_seconds=1).claimed
    second = lake.put_example("sales/orders/orders-2024-01-03.csv")
    with pytest.raises(DatasetBusyError) as refused:
        lake.ingest("sales.orders", [second], run_id="R-next")
    assert "lakeport replay sales.orders --run R-dead" in refused.value.hint
    deadline = time.monotonic() + 30
    while lock.holder("sales.orders") is not None and time.monotonic() < deadline:
        time.sleep(0.1)  # the dead run's lease runs out: nobody renews it
    assert lake.ingest("sales.orders", [second], run_id="R-next").state == "SUCCEEDED"

    # the run that took over recorded the dead one as what it is: failed, with the way out
    dead = lake.ingestor.runs.get("sales.orders", "R-dead")
    assert dead is not None and dead.state == "FAILED"
    assert "abandoned: run R-dead stopped renewing the lock" in (dead.error or "")
    assert "run R-next took the dataset over" in (dead.error or "")
    record = lake.ingestor.files.get(held)
    assert record is not None and (record.state, record.run_id) == ("FAILED", "R-dead")
    from lakeport.recovery import Recovery

    Recovery(lake.aws, lake.resources, lake.ingestor).resume("sales.orders", "R-dead")
    record = lake.ingestor.files.get(held)
    assert record is not None and (record.state, record.rows_written) == ("SUCCEEDED", 1)


def test_a_header_in_capitals_without_a_nullable_column_is_read_and_says_what_it_lacked(lake) -> None:  # type: ignore[no-untyped-def]
    # the ERP's new version upper-cases its header, drops 'country' and adds 'REGION'
    lake.apply_example("orders")
    body = "ORDER_ID,ORDER DATE,CUSTOMER,AMOUNT,STATUS,REGION\n1,2024-01-02 10:00:00,acme,9.50,NEW,EMEA\n"
    obj = lake.put("sales/orders/orders-v2.csv", body)

    (outcome,) = lake.ingest("sales.orders", [obj]).files

    assert (outcome.state, outcome.rows_written) == (SUCCEEDED, 1)
    rows = lake.query("SELECT order_id, customer, country, amount FROM sales.orders")
    assert rows == [{"order_id": 1, "customer": "acme", "country": None, "amount": Decimal("9.50")}]
    note = "no column 'country' in the file: left null; the file's 'REGION' not read"
    assert outcome.reason == note
    record = _ledger(lake).get(obj)
    assert record is not None and (record.state, record.reason) == (SUCCEEDED, note)
