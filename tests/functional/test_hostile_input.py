"""Named hostile inputs: decompression bombs, empty and blank files, duplicate headers, odd object keys."""

from __future__ import annotations

import gzip

import pytest

from lakeport.engine.model import QUARANTINED, SUCCEEDED
from lakeport.ledger.files import FileLedger

pytestmark = pytest.mark.py39

HEADER = "order_id,Order Date,customer,country,amount,status\n"


def test_a_decompression_bomb_stops_at_the_configured_limit(lake):  # type: ignore[no-untyped-def]
    from lakeport.contract import load_contract_text

    from .lake import EXAMPLES

    text = (
        (EXAMPLES / "contracts" / "orders.yaml")
        .read_text()
        .replace("  options:", "  max_uncompressed_bytes: 1MB\n  options:")
    )
    lake.apply(load_contract_text(text))
    bomb = gzip.compress(HEADER.encode() + b"1,2024-01-01 00:00:00,a,DE,1.00,NEW\n" + b"\n" * (64 << 20), 9)
    assert len(bomb) < 200_000
    obj = lake.put("sales/orders/bomb.csv.gz", bomb)

    run = lake.ingest("sales.orders", [obj])

    (outcome,) = run.files
    assert outcome.state == QUARANTINED
    assert "more than 1000000 bytes once decompressed" in (outcome.reason or "")
    assert "decompression bomb" in (outcome.reason or "")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\n\n\n\r\n\n", "no data rows"),
        (HEADER.encode() + b"\n\n\n", "no data rows"),
        (HEADER.encode(), "no data rows"),
        (b"order_id,Order Date,customer,customer,amount\n1,2024-01-01 00:00:00,a,b,1.00\n", "more than once"),
    ],
    ids=["only-newlines", "header-then-blank-lines", "only-a-header-without-a-line-break", "duplicate-header"],
)
def test_blank_files_and_duplicate_headers_are_quarantined(lake, body, reason):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/odd.csv", body)
    (outcome,) = lake.ingest("sales.orders", [obj]).files
    assert outcome.state == QUARANTINED and reason in (outcome.reason or "")


@pytest.mark.parametrize(
    "key",
    [
        "sales/orders/with space+plus%25 and é.csv",
        "sales/orders/../../escape.csv",
        "sales/orders/a//double-slash.csv",
        "sales/orders/ünïcödé/日本語.csv",
    ],
)
def test_odd_object_keys_are_ingested_and_quarantine_copies_stay_in_the_quarantine_zone(lake, key):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    good = lake.put(key, HEADER + "1,2024-01-01 00:00:00,a,DE,1.00,NEW\n")
    (outcome,) = lake.ingest("sales.orders", [good]).files
    assert outcome.state == SUCCEEDED and outcome.rows_written == 1
    assert lake.query("SELECT lakeport_source FROM sales.orders")[0]["lakeport_source"] == good.uri

    bad = lake.put(key + ".bad", b"")
    (rejected,) = lake.ingest("sales.orders", [bad]).files
    assert rejected.state == QUARANTINED
    copy = rejected.rejected_copy or ""
    prefix = f"s3://{lake.resources.quarantine_bucket}/sales/orders/files/"
    assert copy.startswith(prefix) and "/../" not in copy[len(prefix) :]
    record = FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table).get(bad)
    assert record is not None and record.state == "QUARANTINED"


ROW = "1,2024-01-01 00:00:00,a,DE,1.00,NEW\n"


@pytest.mark.parametrize(
    ("key", "body", "state", "written", "reason"),
    [
        (
            "ctrl-header.csv",
            ("order_id,Order\x07 Date,cust\x00omer,country,amount,status\n" + ROW).encode(),
            QUARANTINED,
            0,
            r"lacks required column(s) 'customer' (found: 'order_id', 'Order\x07 Date'",
        ),
        (
            "ctrl-extra-column.csv",
            ("order_id,Order Date,customer,country,amount,status,\x1bnote\x7f\n" + ROW.rstrip("\n") + ",x\n").encode(),
            SUCCEEDED,
            1,
            "",
        ),
        ("header-only.csv.gz", gzip.compress(HEADER.encode()), QUARANTINED, 0, "no data rows"),
        ("empty-inside.csv.gz", gzip.compress(b""), QUARANTINED, 0, "no data rows"),
        (
            "long-line.csv",
            (HEADER + "2,2024-01-01 00:00:00," + "x" * (8 << 20) + ",DE,1.00,NEW\n" + ROW).encode(),
            SUCCEEDED,
            1,
            "bytes long, more than source.max_row_bytes (4194304)",
        ),
        (
            "unterminated-quote.csv",
            (HEADER + ROW + '3,2024-01-01 00:00:00,"' + "y" * (4 << 20) + "\n").encode(),
            SUCCEEDED,
            1,
            "row cannot be parsed",
        ),
        ("cr-line-ends.csv", (HEADER + ROW).replace("\n", "\r").encode(), SUCCEEDED, 1, ""),
        ("bom.csv", ("\ufeff" + HEADER + ROW).encode(), SUCCEEDED, 1, ""),
        ("nul-in-value.csv", (HEADER + "1,2024-01-01 00:00:00,a\x00b,DE,1.00,NEW\n").encode(), SUCCEEDED, 1, ""),
    ],
    ids=lambda v: v if isinstance(v, str) and v.endswith((".csv", ".gz")) else "",
)
def test_control_characters_compressed_headers_and_huge_lines_are_accounted_for(
    lake, key, body, state, written, reason
):  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put(f"sales/orders/{key}", body)

    (outcome,) = lake.ingest("sales.orders", [obj]).files

    assert outcome.state == state and outcome.rows_written == written
    assert outcome.rows_read == outcome.rows_written + outcome.rows_quarantined + outcome.rows_duplicate
    assert reason in (outcome.reason or "") + (outcome.first_problem or "")
    assert len(lake.read_curated("sales.orders")) == written
