"""The JSON Lines object a quarantine reprocess writes: the same rows always give the same bytes."""

from __future__ import annotations

import json
import random

from lakeport.contract import load_contract_text
from lakeport.ingest import for_reprocessing
from lakeport.recovery import reprocess_body

CONTRACT = load_contract_text(
    """
dataset: sales.orders
owner: o@example.com
source: {prefix: sales/orders/, format: csv, options: {encoding: latin-1, delimiter: ";"}}
schema:
  - {name: order_id, type: bigint, nullable: false}
  - {name: Order Date, type: timestamp}
  - {name: amount, type: "decimal(12,2)"}
quality: {max_bad_ratio: 0.1}
"""
)


def _rows() -> list:
    return [
        {"order_id": "2", "order_date": "2024-02-30 10:00:00", "amount": None, "lakeport_source": "s3://r/b.csv",
         "lakeport_source_row": 1},
        {"order_id": "1", "order_date": "x", "amount": "", "lakeport_source": "s3://r/a.csv", "lakeport_source_row": 7},
        {"order_id": "ü", "order_date": None, "amount": "1,5", "lakeport_source": "s3://r/a.csv",
         "lakeport_source_row": 3},
    ]  # fmt: skip


def test_records_use_the_source_names_keep_nulls_and_sort_by_source_and_row() -> None:
    lines = reprocess_body(CONTRACT, _rows()).decode("utf-8").splitlines()

    assert [json.loads(line) for line in lines] == [
        {"order_id": "ü", "Order Date": None, "amount": "1,5"},
        {"order_id": "1", "Order Date": "x", "amount": ""},
        {"order_id": "2", "Order Date": "2024-02-30 10:00:00", "amount": None},
    ]


def test_the_same_rows_in_any_order_give_the_same_bytes() -> None:
    expected = reprocess_body(CONTRACT, _rows())
    for seed in range(5):
        shuffled = _rows()
        random.Random(seed).shuffle(shuffled)
        assert reprocess_body(CONTRACT, shuffled) == expected


def test_the_reprocessing_contract_reads_utf8_json_lines_with_the_same_columns_and_rules() -> None:
    reading = for_reprocessing(CONTRACT)
    assert (reading.source.format, reading.source.options.encoding) == ("jsonl", "utf-8")
    assert reading.quality.max_bad_ratio == 1.0
    assert reading.columns == CONTRACT.columns and reading.quality.rules == CONTRACT.quality.rules
    assert CONTRACT.source.format == "csv"  # the stored contract is untouched
