"""Tables in an 80-column terminal: names are cut in the middle on one line, never folded mid-word."""

from __future__ import annotations

import io
from pathlib import PurePosixPath
from typing import List

import pytest
from rich.console import Console

from lakeport.cli import data, render
from lakeport.engine.model import QUARANTINED, SUCCEEDED, FileOutcome, SourceInput
from lakeport.ingest import RunSummary

DATASETS = [
    "warehouse.inventory_snapshots_daily_by_region",
    "finance.general_ledger_entries_reconciled",
    "sales.orders",
]


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    out = io.StringIO()
    monkeypatch.setattr(render, "console", Console(file=out, width=80, color_system=None))
    monkeypatch.setattr(data, "console", render.console)
    return out


def _lines(out: io.StringIO) -> List[str]:
    return [line for line in out.getvalue().splitlines() if line.strip()]


def test_middle_keeps_both_ends() -> None:
    assert render.middle("warehouse.inventory_snapshots_daily_by_region", 21) == "warehouse.… by_region".replace(
        " ", "_"
    )
    assert render.middle("sales.orders", 21) == "sales.orders"
    assert len(render.middle("x" * 50, 13)) == 13


def test_contract_list_fits_80_columns_with_each_dataset_on_one_line(screen: io.StringIO) -> None:
    rows = [
        [
            d,
            3,
            "csv",
            "overwrite_partitions",
            f"{d.replace('.', '/')}/incoming/",
            "data-platform@example.org",
            "2026-12-06",
        ]
        for d in DATASETS
    ]
    columns = ["dataset", "version", "format", "write_mode", "prefix", "owner", "updated"]
    render.print_rows(
        columns,
        rows,
        shorten=["dataset"],
        keep=["version", "format", "write_mode", "updated"],
        below=["prefix", "owner"],
    )
    lines = _lines(screen)
    assert max(len(line) for line in lines[:7]) <= 80, "\n".join(lines)  # the table
    body = lines[3:6]  # below the header rule
    assert lines[6].startswith("└"), "\n".join(lines)  # one line per dataset: nothing folded
    assert "overwrite_partitions" in body[0] and "sales.orders" in body[2]  # labels and short names whole
    # the prefix and the owner, whole, on a numbered line each below the table
    assert lines[7:] == [
        f" {n} {d.replace('.', '/')}/incoming/  data-platform@example.org" for n, d in enumerate(DATASETS, 1)
    ]
    for line, dataset in zip(body, DATASETS):
        shown = line.split("│")[2].strip()
        head, _, tail = shown.partition("…")
        assert dataset.startswith(head) and dataset.endswith(tail), (shown, dataset)


def test_ingest_result_names_the_folder_once_and_each_object_on_one_line(screen: io.StringIO) -> None:
    folder = "s3://lakeport-prod-123456789012-raw/warehouse/inventory/delivery=030779b5dbeb094f/"
    names = ["inventory-2026-12-06-region-emea-part-0001.csv", "inventory-2026-12-06-region-apac-part-0002.csv"]
    summary = RunSummary("warehouse.inventory", "20261206T215919Z-459d287d6ba6dfe4", SUCCEEDED, "python", "")
    summary.files = [
        FileOutcome(
            source=SourceInput(uri=folder + n, version="v1", size=1000, source_id=n),
            state=SUCCEEDED,
            rows_read=7,
            rows_written=7,
        )
        for n in names
    ]
    data.print_summary(summary)
    lines = [line for line in _lines(screen) if not line.startswith("objects under")]
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert f"objects under {folder}\n" in screen.getvalue()  # one line, however long
    rows = [line for line in lines if "SUCCEEDED" in line and "│" in line]
    assert len(rows) == 2, "\n".join(lines)
    for line, name in zip(rows, names):
        shown = line.split("│")[1].strip()  # no reasons: no numbers to print them under
        head, _, tail = shown.partition("…")
        assert name.startswith(head) and name.endswith(tail) and PurePosixPath(name).suffix in tail, shown


def test_shared_folder_is_the_deepest_common_one() -> None:
    assert data.shared_folder(["s3://b/a/x.csv", "s3://b/a/y/z.csv"]) == "s3://b/a/"
    assert data.shared_folder(["s3://b/a/x.csv"]) == "s3://b/a/"
    assert data.shared_folder(["s3://b/x.csv", "s3://c/y.csv"]) == ""
    assert data.shared_folder([]) == ""


def test_ingest_result_prints_a_long_reason_below_its_row_and_keeps_the_names_readable(screen: io.StringIO) -> None:
    folder = "s3://lakeport-prod-123456789012-raw/sales/orders/"
    reason = (
        "the header lacks required column(s) 'order_id', 'customer' (found: 'order_id;customer')"
        " (check the delimiter and the header row, or map the column with 'source:' in the contract)"
    )
    summary = RunSummary("sales.orders", "20261206T215919Z-459d287d6ba6dfe4", "PARTIAL", "python", "")
    summary.files = [
        FileOutcome(
            source=SourceInput(uri=folder + "orders-semicolon.csv", version="v1", size=25, source_id="a"),
            state=QUARANTINED,
            reason=reason,
        ),
        FileOutcome(
            source=SourceInput(uri=folder + "orders-v2.csv", version="v1", size=90, source_id="b"),
            rows_read=1,
            rows_written=1,
            reason="no column 'country' in the file: left null",
        ),
    ]
    data.print_summary(summary)
    lines = _lines(screen)
    table = [line for line in lines if "│" in line]
    assert max(len(line) for line in table) <= 80, "\n".join(lines)
    for line, name in zip(table, ["orders-semicolon.csv", "orders-v2.csv"]):
        head, _, tail = line.split("│")[2].strip().partition("…")
        assert name.startswith(head) and name.endswith(tail) and len(head + tail) >= 12, line
    # each reason whole below the table, on its row's number (the terminal wraps a long one)
    assert f" 1 {reason}" in screen.getvalue().replace("\n", "")
    assert " 2 no column 'country' in the file: left null" in lines
