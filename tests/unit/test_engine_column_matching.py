"""A contract's columns are found in a file's header (CSV, Excel) or schema (Parquet) under their
source names, or under a spelling that differs only in case, spaces, hyphens and underscores; a
file in which none is found is rejected instead of succeeding with every value null."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Dict, List

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lakeport.contract import Contract, load_contract_data
from lakeport.engine.python.reader import FileInfo, read_batches
from lakeport.errors import InputFileError

from .csv_reading import local_raw


def _contract(fmt: str, **options: Any) -> Contract:
    return load_contract_data(
        {
            "dataset": "reader.matching",
            "owner": "tests@example.com",
            "source": {"prefix": "reader/matching/", "format": fmt, "options": options},
            "schema": [
                {"name": "order_id", "type": "int", "nullable": False},
                {"name": "Order Date", "type": "date"},  # source 'Order Date', column order_date
                {"name": "note", "type": "string"},
            ],
        }
    )


def _read(path: Path, contract: Contract) -> Dict[str, Any]:
    info = FileInfo()
    values: Dict[str, List[Any]] = {}
    for batch in read_batches(local_raw(path, "reader.matching"), contract, info):
        for name in ("order_id", "order_date", "note"):
            values.setdefault(name, []).extend(batch.columns[name].to_pylist())
    return {"values": values, "ignored": info.ignored_columns, "missing": info.missing_columns}


def _csv(tmp_path: Path, header: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(f"{header}\n7,2024-03-01,first\n")
    return path


@pytest.mark.parametrize(
    "header",
    [
        "ORDER_ID,ORDER DATE,NOTE",  # an export that upper-cases its header
        "Order-Id,order_date,Note",  # another that changed its separators
        "order id,  Order  Date ,note",  # runs of blanks
    ],
)
def test_a_header_that_spells_the_columns_in_another_case_or_spacing_is_read(tmp_path: Path, header: str) -> None:
    read = _read(_csv(tmp_path, header), _contract("csv"))
    assert read["values"] == {"order_id": ["7"], "order_date": ["2024-03-01"], "note": ["first"]}
    assert (read["ignored"], read["missing"]) == ([], [])


def test_the_exact_name_wins_and_two_loose_spellings_are_not_guessed_between(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("NOTE,order_id,Order Date,note\nupper,7,2024-03-01,lower\n")
    read = _read(path, _contract("csv"))
    assert read["values"]["note"] == ["lower"] and read["ignored"] == ["NOTE"]

    path.write_text("NOTE,order_id,Note\nupper,7,other\n")  # no exact 'note': which one is it?
    read = _read(path, _contract("csv"))
    assert read["values"]["note"] == [None]
    assert read["ignored"] == ["NOTE", "Note"] and read["missing"] == ["Order Date", "note"]


def test_other_characters_still_make_another_name(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as caught:
        _read(_csv(tmp_path, "order.id,Order Date,note"), _contract("csv"))
    assert "the header lacks required column(s) 'order_id' (found: 'order.id', 'Order Date', 'note')" in str(
        caught.value
    )


def test_a_header_with_none_of_the_columns_rejects_the_file_naming_what_it_has(tmp_path: Path) -> None:
    # semicolons where the contract says commas: the whole line is one column; with every contract
    # column nullable the file would otherwise succeed with every value null
    contract = load_contract_data(
        {
            **_contract("csv").to_document(),
            "schema": [{"name": "order_id", "type": "int"}, {"name": "note", "type": "string"}],
        }
    )
    path = tmp_path / "orders.csv"
    path.write_text("order_id;note\n7;first\n")
    with pytest.raises(InputFileError) as caught:
        _read(path, contract)
    message = str(caught.value)
    assert "orders.csv" in message and "the header has none of the contract's columns ('order_id', 'note')" in message
    assert "(found: 'order_id;note')" in message and "check the delimiter" in message


def test_an_excel_header_row_is_matched_the_same_way(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["ORDER ID", "order date", "Note", "Extra"])
    book.active.append([7, "2024-03-01", "first", "x"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    read = _read(path, _contract("excel"))
    assert read["values"] == {"order_id": ["7"], "order_date": ["2024-03-01"], "note": ["first"]}
    assert read["ignored"] == ["Extra"]


def test_parquet_columns_are_matched_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    table = pa.table({"ORDER_ID": pa.array([7], pa.int32()), "ORDER_DATE": ["2024-03-01"], "NOTE": ["first"]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    path.write_bytes(sink.getvalue())
    read = _read(path, _contract("parquet"))
    assert read["values"] == {"order_id": [7], "order_date": ["2024-03-01"], "note": ["first"]}

    pq.write_table(pa.table({"id": [7], "remark": ["x"]}), path)
    with pytest.raises(InputFileError, match="the Parquet schema lacks required column"):
        _read(path, _contract("parquet"))


def test_an_excel_header_cell_holding_a_number_or_a_date_is_the_name_a_csv_would_give(tmp_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["region", 2024, datetime(2025, 1, 1)])  # years and months as headers
    book.active.append(["EMEA", 1.5, 2])
    path = tmp_path / "budget.xlsx"
    book.save(path)
    contract = load_contract_data(
        {
            "dataset": "reader.budget",
            "owner": "tests@example.com",
            "source": {"prefix": "reader/budget/", "format": "excel"},
            "schema": [
                {"name": "region", "type": "string"},
                {"name": "2024", "type": "double"},  # the column c_2024, read from the header '2024'
                {"name": "2025-01-01", "type": "double"},  # a date cell reads as its ISO date
            ],
        }
    )
    info = FileInfo()
    (batch,) = read_batches(local_raw(path, "reader.budget"), contract, info)
    assert batch.columns["c_2024"].to_pylist() == ["1.5"]
    assert batch.columns["c_2025_01_01"].to_pylist() == ["2"]
    assert (info.ignored_columns, info.missing_columns) == ([], [])
