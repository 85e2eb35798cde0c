"""Fixed-width text and Excel workbooks, as on-premise systems export them, through the whole run."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest

from lakeport.engine.model import QUARANTINED, SUCCEEDED

pytestmark = pytest.mark.py39

ACCOUNTS = """
dataset: bank.accounts
owner: tests@example.com
source: {prefix: bank/accounts/, format: fixed_width, options: {skip_rows: 1, encoding: latin-1}}
schema:
  - {name: account_id, type: bigint, nullable: false, start: 1, length: 8}
  - {name: holder, type: varchar(20), start: 9, length: 20}
  - {name: opened, type: date, format: "%Y%m%d", start: 29, length: 8}
  - {name: balance, type: "decimal(12,2)", start: 37, length: 12}
  - {name: branch, type: char(3), start: 49, length: 3}
"""

# a header line, then records padded to their columns: numbers right-aligned, text left-aligned
FIXED = (
    "ACCOUNTS EXPORT 2024-03-01\r\n"
    "00001001Jörg Müller         20190415     1234.50BER\r\n"
    "00001002Ann Lee             20200229       -7.25NYC\r\n"
    "\r\n"
    "00001003Bad Date            20210230        0.00LON\r\n"
    "00001004Short line\r\n"
    "0000100XNot a number        20220101        1.00PAR\r\n"
)


def test_a_fixed_width_export_is_read_by_position_and_each_bad_line_is_named(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(ACCOUNTS)
    obj = lake.put("bank/accounts/accounts-20240301.txt", FIXED.encode("latin-1"))

    (outcome,) = lake.ingest("bank.accounts", [obj]).files

    assert outcome.state == SUCCEEDED
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (5, 3, 2)
    rows = lake.query("SELECT account_id, holder, opened, balance, branch FROM bank.accounts ORDER BY account_id")
    assert rows == [
        {
            "account_id": 1001,
            "holder": "Jörg Müller",
            "opened": date(2019, 4, 15),
            "balance": Decimal("1234.50"),
            "branch": "BER",
        },
        {
            "account_id": 1002,
            "holder": "Ann Lee",
            "opened": date(2020, 2, 29),
            "balance": Decimal("-7.25"),
            "branch": "NYC",
        },
        # a line that ends before its last columns: those are empty
        {"account_id": 1004, "holder": "Short line", "opened": None, "balance": None, "branch": None},
    ]
    bad = lake.query(
        "SELECT lakeport_source_row, lakeport_reason FROM bank.accounts_quarantine ORDER BY lakeport_source_row"
    )
    # rows are numbered by their line in the file: the header and the blank line count
    assert [b["lakeport_source_row"] for b in bad] == [5, 7]
    assert "opened: '20210230' is not a date" in bad[0]["lakeport_reason"]
    assert "account_id: '0000100X' is not a bigint" in bad[1]["lakeport_reason"]


def test_fixed_width_positions_are_checked_when_the_contract_is_loaded(lake) -> None:  # type: ignore[no-untyped-def]
    from lakeport.contract import load_contract_text
    from lakeport.errors import ContractError

    with pytest.raises(ContractError, match=r"start \(the first character, from 1\) and length"):
        load_contract_text(ACCOUNTS.replace(", start: 9, length: 20", ""))
    with pytest.raises(ContractError, match="start and length apply to fixed_width files, not csv"):
        load_contract_text(
            ACCOUNTS.replace("format: fixed_width, options: {skip_rows: 1, encoding: latin-1}", "format: csv")
        )


SALES = """
dataset: retail.sales
owner: tests@example.com
source: {prefix: retail/sales/, format: excel, options: {sheet: Sales, skip_rows: 2, null_values: ["", "-"]}}
schema:
  - {name: Order No, type: bigint, nullable: false}
  - {name: Day, type: date}
  - {name: Sold At, type: timestamp}
  - {name: Qty, type: int}
  - {name: Price, type: "decimal(10,2)"}
  - {name: Paid, type: boolean}
  - {name: Note, type: string}
"""


def _workbook() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.active.append(["This sheet is not the data"])
    sheet = book.create_sheet("Sales")
    sheet.append(["Monthly sales export"])  # a title and an empty row above the header
    sheet.append([])
    sheet.append(["Order No", "Day", "Sold At", "Qty", "Price", "Paid", "Note", "Ignored"])
    sheet.append([1, datetime(2024, 3, 1), datetime(2024, 3, 1, 9, 30), 3, 19.99, True, "first", "x"])
    sheet.append([2, datetime(2024, 3, 2), datetime(2024, 3, 2, 17, 5, 1), 1, 5, False, "-", "y"])
    sheet.append([])
    sheet.append([3, "2024-03-05", None, 2.5, 1.25, None, 42, "z"])  # a fraction is not an int
    sink = io.BytesIO()
    book.save(sink)
    return sink.getvalue()


def test_an_excel_sheet_is_read_by_its_header_row_with_excel_row_numbers(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(SALES)
    obj = lake.put("retail/sales/sales-2024-03.xlsx", _workbook())

    (outcome,) = lake.ingest("retail.sales", [obj]).files

    assert outcome.state == SUCCEEDED and outcome.ignored_columns == ["Ignored"]
    assert (outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (3, 2, 1)
    rows = lake.query("SELECT order_no, day, sold_at, qty, price, paid, note FROM retail.sales ORDER BY order_no")
    assert rows == [
        {
            "order_no": 1,
            "day": date(2024, 3, 1),
            "sold_at": datetime(2024, 3, 1, 9, 30),
            "qty": 3,
            "price": Decimal("19.99"),
            "paid": True,
            "note": "first",
        },
        {
            "order_no": 2,
            "day": date(2024, 3, 2),
            "sold_at": datetime(2024, 3, 2, 17, 5, 1),
            "qty": 1,
            "price": Decimal("5.00"),
            "paid": False,
            "note": None,
        },
    ]
    [bad] = lake.query("SELECT lakeport_source_row, lakeport_reason, qty FROM retail.sales_quarantine")
    assert bad["lakeport_source_row"] == 7 and "qty: '2.5' is not an int" in bad["lakeport_reason"]


def test_an_excel_file_without_the_named_sheet_is_rejected_with_the_sheets_it_has(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(SALES.replace("sheet: Sales", "sheet: Umsatz"))
    (outcome,) = lake.ingest("retail.sales", [lake.put("retail/sales/s.xlsx", _workbook())]).files
    assert outcome.state == QUARANTINED
    assert "no worksheet 'Umsatz' (it has: 'Cover', 'Sales')" in (outcome.reason or "")
    assert "set source.options.sheet" in (outcome.reason or "")


GERMAN_EXPORT = """
dataset: finance.bookings
owner: tests@example.com
source:
  prefix: finance/bookings/
  format: csv
  options: {delimiter: ";", encoding: cp1252, decimal_separator: ",", thousands_separator: ".", negatives: trailing}
schema:
  - {name: Buchungsnummer, type: int, nullable: false}
  - {name: Datum, type: date, format: "%d.%m.%Y"}
  - {name: Betrag, type: "decimal(12,2)"}
  - {name: Kurs, type: double}
  - {name: Text, type: string}
"""


def test_a_german_export_with_decimal_commas_grouped_thousands_and_trailing_minus_is_read_exactly(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(GERMAN_EXPORT)
    body = (
        "Buchungsnummer;Datum;Betrag;Kurs;Text\n"
        "1;31.01.2024;1.234.567,89;1,0825;Überweisung\n"
        "2;01.02.2024;12,5-;0,9;Gebühr 1.5\n"  # SAP's trailing minus; a point in a text column is text
        "3;02.02.2024;7.5;1;Storno\n"  # a point is no decimal point in this file
        "4;03.02.2024;2.000;1.000,25;Miete\n"
    ).encode("cp1252")
    (outcome,) = lake.ingest("finance.bookings", [lake.put("finance/bookings/buchungen.csv", body)]).files

    assert (outcome.state, outcome.rows_written, outcome.rows_quarantined) == (SUCCEEDED, 3, 1)
    rows = lake.query("SELECT buchungsnummer AS n, datum, betrag, kurs, text FROM finance.bookings ORDER BY 1")
    assert rows == [
        {"n": 1, "datum": date(2024, 1, 31), "betrag": Decimal("1234567.89"), "kurs": 1.0825, "text": "Überweisung"},
        {"n": 2, "datum": date(2024, 2, 1), "betrag": Decimal("-12.50"), "kurs": 0.9, "text": "Gebühr 1.5"},
        {"n": 4, "datum": date(2024, 2, 3), "betrag": Decimal("2000.00"), "kurs": 1000.25, "text": "Miete"},
    ]
    [bad] = lake.query("SELECT lakeport_source_row, lakeport_reason, betrag FROM finance.bookings_quarantine")
    assert bad["lakeport_source_row"] == 3 and bad["betrag"] == "7.5"
    assert bad["lakeport_reason"].startswith("betrag: '7.5' is not a decimal(12,2)")


def test_a_trailer_with_the_row_count_is_not_a_row(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(GERMAN_EXPORT.replace("negatives: trailing}", "negatives: trailing, skip_footer_rows: 1}"))
    body = "Buchungsnummer;Datum;Betrag;Kurs;Text\n1;31.01.2024;1,00;1;a\n2;01.02.2024;2,00;1;b\nSUMME;2;3,00\n\n"
    (outcome,) = lake.ingest("finance.bookings", [lake.put("finance/bookings/mit-summe.csv", body)]).files

    assert (outcome.state, outcome.rows_read, outcome.rows_written, outcome.rows_quarantined) == (SUCCEEDED, 2, 2, 0)
    assert lake.query("SELECT sum(betrag) AS total FROM finance.bookings") == [{"total": Decimal("3.00")}]
