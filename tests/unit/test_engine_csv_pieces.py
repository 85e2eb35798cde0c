"""A CSV without quote characters is cut at line breaks and parsed in pieces beside the reading; one
with quotes goes (from its first quoted block on) through pyarrow's streaming reader. The two must
agree on every row: its number in the file, its values, and the reason it is unparseable or too long.

Past ``PIECED_BYTES`` the streaming reader reads on in any case. The property test below builds files
from good rows, rows with the wrong number of fields, blank lines, lines over ``max_row_bytes``,
quoted values (with commas and line breaks) and mixed line ends, cuts them into pieces far smaller
than a real one, and compares both ways of reading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lakeport.engine.python import reader
from lakeport.engine.python.reader import FileInfo, read_batches

from .csv_reading import id_note_contract, local_raw

LIMIT = 1024  # the smallest max_row_bytes a contract takes

Row = Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]


def _contract(**options: Any) -> Any:
    return id_note_contract("reader.pieces", id_required=False, max_row_bytes=LIMIT, options=options)


def _rows(path: Path, contract: Any) -> Dict[int, Row]:
    """Every row read, by its number: (id, note, reading error, raw text)."""
    raw = local_raw(path, "reader.pieces")
    out: Dict[int, Row] = {}
    for batch in read_batches(raw, contract, FileInfo()):
        n = batch.num_rows
        errors = batch.errors.to_pylist() if batch.errors is not None else [None] * n
        raws = batch.raw.to_pylist() if batch.raw is not None else [None] * n
        for number, id_, note, error, text in zip(
            batch.row_numbers.to_pylist(),
            batch.columns["id"].to_pylist(),
            batch.columns["note"].to_pylist(),
            errors,
            raws,
        ):
            assert number not in out, f"row {number} read twice"
            out[number] = (id_, note, error, text)
    return out


def _both(
    path: Path, contract: Any, monkeypatch: pytest.MonkeyPatch, pieced: int = 1 << 30, expect_pieces: bool = True
) -> Tuple[Dict[int, Row], Dict[int, Row], List[int]]:
    """The rows read in pieces, the rows read by the streaming reader, the pieces' sizes."""
    parsed: List[int] = []
    parse = reader._CsvRows._parse_piece

    def counted(self: Any, piece: bytes, skip: int) -> Any:
        parsed.append(len(piece))
        return parse(self, piece, skip)

    with monkeypatch.context() as patch:
        patch.setattr(reader, "PIECE_BYTES", 96)  # a few lines a piece
        patch.setattr(reader, "PIECED_BYTES", pieced)  # then the streaming reader reads on
        patch.setattr(reader._CsvRows, "_parse_piece", counted)
        pieces = _rows(path, contract)
    if expect_pieces and b'"' not in path.read_bytes().split(b"\n", 1)[-1]:
        assert parsed or not pieces, "a file without quotes (but for its header) is read in pieces"
    with monkeypatch.context() as patch:
        patch.setattr(reader._CsvRows, "splittable", lambda self: False)
        serial = _rows(path, contract)
    return pieces, serial, parsed


_line = st.one_of(
    st.integers(0, 999).map(lambda i: f"{i},note {i}"),
    st.integers(0, 999).map(lambda i: f"{i},a,too many"),
    st.just(""),
    st.integers(1, 300).map(lambda extra: "7," + "x" * (LIMIT + extra)),
    st.integers(0, 999).map(lambda i: f'{i},"quoted, with a comma"'),
    st.integers(0, 999).map(lambda i: f'{i},"over\ntwo lines"'),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(_line, min_size=0, max_size=40),
    quoted_from=st.integers(0, 40),
    end=st.sampled_from(["\n", "\r\n"]),
    last_break=st.booleans(),
    pieced=st.sampled_from([300, 1 << 30]),
)
def test_pieces_and_the_streaming_reader_read_the_same_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: List[str],
    quoted_from: int,
    end: str,
    last_break: bool,
    pieced: int,
) -> None:
    # quoted lines only from some point on, so that many files start without quotes and switch
    lines = [line for line in lines[:quoted_from] if '"' not in line] + lines[quoted_from:]
    text = end.join(['"id","note"', *lines]) + (end if last_break else "")
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode())
    pieces, serial, _ = _both(path, _contract(), monkeypatch, pieced)
    assert pieces == serial


def test_a_file_that_turns_quoted_after_many_pieces_keeps_numbering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"{i},note {i}" for i in range(1, 200)] + ["200,a,b", '201,"late, quoted"', "202,end"]
    path = tmp_path / "late-quote.csv"
    path.write_text("id,note\n" + "\n".join(lines) + "\n")
    pieces, serial, parsed = _both(path, _contract(), monkeypatch)
    assert pieces == serial
    assert len(parsed) > 10  # the rows before the quote came in many pieces
    assert pieces[199][:2] == ("199", "note 199") and pieces[202][:2] == ("202", "end")
    assert pieces[200][2] is not None and "fields" in str(pieces[200][2])
    assert pieces[201][:2] == ("201", "late, quoted")


def test_a_long_file_is_read_in_pieces_up_to_a_point_then_by_the_streaming_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [f"{i},note {i}" if i % 37 else f"{i},bad,row" for i in range(1, 400)]
    path = tmp_path / "long.csv"
    path.write_text("id,note\n" + "\n".join(lines) + "\n")
    pieces, serial, parsed = _both(path, _contract(), monkeypatch, pieced=1000)
    assert pieces == serial
    assert 1000 <= sum(parsed) < path.stat().st_size - 1000
    assert len(pieces) == 399 and all(pieces[n][2] is not None for n in range(37, 400, 37))


def test_quoting_disabled_reads_quote_characters_as_text_in_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pipes.csv"
    path.write_text('id|note\n1|12" pipe\n2|plain\n')
    pieces, serial, parsed = _both(path, _contract(delimiter="|", quote=None), monkeypatch)
    assert parsed
    assert pieces == serial
    assert [row[:2] for _, row in sorted(pieces.items())] == [("1", '12" pipe'), ("2", "plain")]


def test_skipped_lines_past_the_first_piece_are_left_to_the_streaming_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "preamble.csv"
    path.write_text("".join(f"report line {i}\n" for i in range(40)) + "id|note\n1|a\n2|b\n")
    contract = _contract(delimiter="|", quote=None, skip_rows=40)
    pieces, serial, parsed = _both(path, contract, monkeypatch, expect_pieces=False)
    assert pieces == serial and parsed == []
    assert [row[:2] for _, row in sorted(pieces.items())] == [("1", "a"), ("2", "b")]
