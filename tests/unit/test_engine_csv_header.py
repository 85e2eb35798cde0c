"""The header row is found in the first few kilobytes of a file when it ends there, and in the whole
first megabyte when it does not: wide headers, quoted names holding line breaks, skipped preamble
lines and multi-byte names that straddle that first piece all come through whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple

import pytest

from lakeport.contract import load_contract_data
from lakeport.engine.python.reader import HEADER_GUESS_BYTES, FileInfo, read_batches

from .csv_reading import id_note_contract, local_raw


def _contract(**options: Any) -> Any:
    return id_note_contract("reader.header", options=options)


def _read(path: Path, contract: Any) -> Tuple[List[int], List[str], FileInfo]:
    info = FileInfo()
    raw = local_raw(path, "reader.header")
    ids: List[int] = []
    notes: List[str] = []
    for batch in read_batches(raw, contract, info):
        ids += [int(v) for v in batch.columns["id"].to_pylist()]
        notes += batch.columns["note"].to_pylist()
    return ids, notes, info


def _fillers(total: int, name: str = "filler") -> List[str]:
    """Unused column names whose header text (with commas) is about ``total`` bytes."""
    width = len(f"{name}_00000,")
    return [f"{name}_{i:05d}" for i in range(total // width)]


@pytest.mark.parametrize("before", [HEADER_GUESS_BYTES - 40, HEADER_GUESS_BYTES - 3, HEADER_GUESS_BYTES * 3])
def test_a_header_ending_near_or_past_the_first_piece_is_read_whole(tmp_path: Path, before: int) -> None:
    # the required column comes last: a header cut short would lack it
    fillers = _fillers(before)
    header = ",".join([*fillers, "note", "id"])
    row = ",".join(["x"] * len(fillers) + ["hello", "7"])
    path = tmp_path / "wide.csv"
    path.write_text(f"{header}\n{row}\n{row}\n")
    ids, notes, info = _read(path, _contract())
    assert (ids, notes) == ([7, 7], ["hello", "hello"])
    assert info.ignored_columns == fillers


def test_a_quoted_name_holding_a_line_break_across_the_first_piece(tmp_path: Path) -> None:
    fillers = _fillers(HEADER_GUESS_BYTES - 20)
    name = "a name\n" + "spread over lines " * 4  # starts before the first piece ends, ends after it
    header = ",".join(fillers) + f',"{name}",note,id'
    row = ",".join(["x"] * len(fillers) + ["y", "hello", "7"])
    path = tmp_path / "quoted.csv"
    path.write_text(f"{header}\n{row}\n")
    ids, notes, info = _read(path, _contract())
    assert (ids, notes) == ([7], ["hello"])
    assert info.ignored_columns == [*fillers, name.strip()]


def test_skipped_preamble_lines_longer_than_the_first_piece(tmp_path: Path) -> None:
    preamble = "".join(f"exported by system {i:06d}, all rights reserved\n" for i in range(3000))
    assert len(preamble) > HEADER_GUESS_BYTES
    path = tmp_path / "preamble.csv"
    path.write_text(preamble + "id,note\n1,a\n2,b\n")
    ids, notes, _ = _read(path, _contract(skip_rows=3000))
    assert (ids, notes) == ([1, 2], ["a", "b"])


def test_a_multibyte_name_straddling_the_first_piece_is_decoded_intact(tmp_path: Path) -> None:
    for shift in range(4):  # the cut falls before, inside and after the two-byte characters
        fillers = _fillers(HEADER_GUESS_BYTES - 8 - shift)
        name = "éèêë"
        header = ",".join([*fillers, name, "note", "id"])
        path = tmp_path / f"accents-{shift}.csv"
        path.write_bytes(f"{header}\n{','.join(['x'] * (len(fillers) + 1))},hello,7\n".encode())
        ids, notes, info = _read(path, _contract())
        assert (ids, notes) == ([7], ["hello"])
        assert info.ignored_columns[-1] == name


def test_a_file_holding_only_a_header_without_a_line_break_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "header-only.csv"
    path.write_text("id,note")
    ids, _, info = _read(path, _contract())
    assert ids == []
    assert info.ignored_columns == []


@pytest.mark.parametrize(
    "body",
    [
        "\n\nid,note\n1,a\n2,b\n",  # blank lines before the header
        "id,note\r1,a\r2,b\r",  # old Mac line ends
        "id,note\r\n1,a\r\n2,b",  # Windows line ends, no break after the last row
    ],
)
def test_line_ends_and_blank_lines_before_the_header(tmp_path: Path, body: str) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(body.encode())
    ids, notes, _ = _read(path, _contract())
    assert (ids, notes) == ([1, 2], ["a", "b"])


def test_rows_after_a_header_over_several_lines_keep_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text('id,"the\nnote"\n1,a\n2,b,too many\n3,c\n')
    contract = load_contract_data(
        {
            "dataset": "reader.header",
            "owner": "tests@example.com",
            "source": {"prefix": "header/", "format": "csv"},
            "schema": [{"name": "id", "type": "int"}, {"name": "note", "type": "string", "source": "the\nnote"}],
        }
    )
    raw = local_raw(path, "reader.header")
    rows = {}
    for batch in read_batches(raw, contract, FileInfo()):
        for number, id_, error in zip(
            batch.row_numbers.to_pylist(),
            batch.columns["id"].to_pylist(),
            (batch.errors or [None] * batch.num_rows),
        ):
            rows[number] = (id_, None if error is None else str(error))
    assert rows[1] == ("1", None) and rows[3] == ("3", None)
    assert rows[2][0] is None and "fields" in str(rows[2][1])


def test_skip_rows_counts_lines_even_when_a_skipped_line_opens_a_quote(tmp_path: Path) -> None:
    path = tmp_path / "preamble-quote.csv"
    path.write_text('"Sales report, unterminated\nid,note\n1,a\n')
    ids, notes, _ = _read(path, _contract(skip_rows=1))
    assert (ids, notes) == ([1], ["a"])
