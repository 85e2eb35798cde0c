"""``skip_footer_rows``: the last lines of a file (a trailer with a row count, a total row of a sheet)
are not data. They are dropped however the file is read, blank lines after them do not count, and
every other row keeps its number."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from lakeport.contract import Contract, load_contract_data
from lakeport.engine.python import reader
from lakeport.engine.python.reader import FileInfo, _WithoutLastLines, read_batches
from lakeport.errors import ContractError

from .csv_reading import local_raw


def _contract(fmt: str = "csv", **options: Any) -> Contract:
    schema: List[Dict[str, Any]] = [
        {"name": "id", "type": "int", "nullable": False},
        {"name": "note", "type": "string"},
    ]
    if fmt == "fixed_width":
        schema[0].update(start=1, length=4)
        schema[1].update(start=5, length=6)
    return load_contract_data(
        {
            "dataset": "reader.footer",
            "owner": "tests@example.com",
            "source": {"prefix": "reader/footer/", "format": fmt, "options": options},
            "schema": schema,
        }
    )


def _rows(path: Path, contract: Contract) -> List[Tuple[int, Any, Any]]:
    out: List[Tuple[int, Any, Any]] = []
    for batch in read_batches(local_raw(path, "reader.footer"), contract, FileInfo()):
        numbers = batch.row_numbers.to_pylist()
        reasons = batch.errors.to_pylist() if batch.errors is not None else [None] * len(numbers)
        for number, id_, reason in zip(numbers, batch.columns["id"].to_pylist(), reasons):
            out.append((number, id_, reason))
    return out


def _stream(data: bytes, lines: int, read: int) -> bytes:
    held = _WithoutLastLines(io.BytesIO(data), lines, cap=1 << 20)
    parts = []
    while True:
        part = held.read(read)
        if not part:
            return b"".join(parts)
        parts.append(part)


@pytest.mark.parametrize("read", [1, 3, 7, 1 << 16])  # the trailer split across reads or not
@pytest.mark.parametrize(
    ("data", "lines", "expected"),
    [
        (b"a\nb\nTOTAL 2\n", 1, b"a\nb\n"),
        (b"a\nb\nTOTAL 2", 1, b"a\nb\n"),  # no line break after the trailer
        (b"a\nb\nTOTAL 2\n\n\r\n  \n", 1, b"a\nb\n"),  # blank lines after it do not count
        (b"a\r\nb\r\nEND\r\nCOUNT 2\r\n", 2, b"a\r\nb\r\n"),
        (b"a\n\nb\nT\n", 1, b"a\n\nb\n"),  # a blank line among the data stays
        (b"T\n", 1, b""),
        (b"T1\nT2\n", 3, b""),  # fewer lines than the trailer: nothing is data
        (b"", 1, b""),
    ],
)
def test_the_last_lines_with_text_are_held_back(data: bytes, lines: int, expected: bytes, read: int) -> None:
    assert _stream(data, lines, read) == expected


def test_text_longer_than_the_cap_is_handed_on() -> None:
    # a gigabyte without a line break is no trailer: it is handed on for the long-line guard to cut
    held = _WithoutLastLines(io.BytesIO(b"x" * 5000 + b"\nT\n"), 1, cap=1000)
    first = held.read(4096)
    assert len(first) == 4096 and set(first) == {ord("x")}


@pytest.mark.parametrize("pieces", [True, False])
def test_a_csv_trailer_is_dropped_and_the_rows_keep_their_numbers(
    tmp_path: Path, pieces: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "id,note\n" + "".join(f"{i},n{i}\n" for i in range(1, 2001)) + "TRAILER;2000 rows\n\n"
    if not pieces:  # a quote character sends the file through pyarrow's streaming reader
        body = body.replace("n7,", '"n7",', 1).replace("7,n7\n", '7,"n7"\n', 1)
    path = tmp_path / "export.csv"
    path.write_text(body)
    monkeypatch.setattr(reader, "PIECE_BYTES", 4096)  # many pieces; the trailer in the last one
    rows = _rows(path, _contract(skip_footer_rows=1))
    assert [(n, v) for n, v, _ in rows] == [(i, str(i)) for i in range(1, 2001)]
    assert all(reason is None for _, _, reason in rows)

    # without the option the trailer is a row of the wrong shape, quarantined with its number
    *_, last = _rows(path, _contract())
    assert last[0] == 2001 and "fields where 2 were expected" in (last[2] or "")


def test_a_fixed_width_trailer_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("0001first \n0002second\nEOF 0000000002\n")
    assert [(n, v) for n, v, _ in _rows(path, _contract("fixed_width", skip_footer_rows=1))] == [
        (1, "0001"),
        (2, "0002"),
    ]


def test_an_excel_total_row_is_dropped(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    for row in (["id", "note"], [1, "a"], [], [2, "b"], ["Total", 2], [], [None, None]):
        book.active.append(row)
    path = tmp_path / "export.xlsx"
    book.save(path)
    assert [(n, v) for n, v, _ in _rows(path, _contract("excel", skip_footer_rows=1))] == [(2, "1"), (4, "2")]


def test_the_contract_refuses_a_footer_where_lines_are_not_bytes() -> None:
    with pytest.raises(ContractError, match="skip_footer_rows needs an encoding whose line break is one byte"):
        _contract(skip_footer_rows=1, encoding="utf-16")
    with pytest.raises(ContractError, match="do not apply to jsonl"):
        load_contract_data(
            {
                "dataset": "reader.footer",
                "owner": "tests@example.com",
                "source": {"prefix": "p/", "format": "jsonl", "options": {"skip_footer_rows": 1}},
                "schema": [{"name": "id", "type": "int"}],
            }
        )
