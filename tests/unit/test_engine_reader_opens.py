"""A raw object is requested once: its first megabyte tells the compression and the header, and
the rows are read on from the same stream (on S3 each open is a GetObject request)."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any, List

import pytest
from pyarrow import fs

from lakeport.engine.python.reader import HEAD_BYTES, FileInfo, RawFile, read_batches
from lakeport.engine.sources import FilesystemOpener

from .csv_reading import id_note_contract, local_raw


class _CountingOpener(FilesystemOpener):
    def __init__(self, path: Path) -> None:
        super().__init__(fs.LocalFileSystem(), str(path))
        self.opens = 0
        self.closed = 0

    def open(self) -> Any:
        self.opens += 1
        stream = super().open()
        opener = self
        close = stream.close

        class _Counted(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def readinto(self, buffer: Any) -> int:
                data = stream.read(len(buffer))
                buffer[: len(data)] = data
                return len(data)

            def close(self) -> None:
                if not self.closed:
                    opener.closed += 1
                    close()
                super().close()

        return _Counted()


def _contract(**options: Any) -> Any:
    return id_note_contract("reader.opens", options=options)


def _ids(raw: RawFile, contract: Any) -> List[int]:
    ids: List[int] = []
    for batch in read_batches(raw, contract, FileInfo()):
        ids += [int(v) for v in batch.columns["id"].to_pylist()]
    return ids


@pytest.mark.parametrize("rows", [3, 200_000])  # within the first megabyte, and well past it
def test_an_uncompressed_csv_is_opened_once_and_every_row_is_read(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,note\n" + "".join(f"{i},note {i}\n" for i in range(rows)))
    assert (path.stat().st_size > HEAD_BYTES) == (rows > 3)
    opener = _CountingOpener(path)
    assert _ids(local_raw(path, "reader.opens", opener), _contract()) == list(range(rows))
    assert (opener.opens, opener.closed) == (1, 1)


def test_a_gzip_csv_is_opened_for_its_header_and_once_more_for_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "in.csv.gz"
    path.write_bytes(gzip.compress(("id,note\n" + "".join(f"{i},n\n" for i in range(5000))).encode()))
    opener = _CountingOpener(path)
    assert _ids(local_raw(path, "reader.opens", opener), _contract()) == list(range(5000))
    assert (opener.opens, opener.closed) == (2, 2)


def test_a_header_without_a_required_column_closes_the_stream_it_kept(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("other,note\n1,a\n")
    opener = _CountingOpener(path)
    with pytest.raises(Exception, match="lacks required column"):
        _ids(local_raw(path, "reader.opens", opener), _contract())
    assert (opener.opens, opener.closed) == (1, 1)
