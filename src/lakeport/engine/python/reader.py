"""Read raw objects as batches of text columns, streaming, whatever the format and compression.

Every reader yields :class:`TextBatch` objects: one string array per contract column (keyed by the
table column name), the 1-based record number of each row in its file, and for rows that could not
be parsed at all (a CSV row with the wrong number of fields, a JSON line that is not an object, bytes
that are not text in the declared encoding) a reading error and the raw text. Such rows flow on and
are quarantined like any other bad row, so the row accounting stays exact.

Whole-file problems (unreadable compression, a missing required column, a file larger than the
contract's ``max_uncompressed_bytes`` once decompressed) raise :class:`InputFileError`.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import io
import json
import os
import re
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, Deque, Dict, Generator, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ...contract import Contract
from ...errors import InputFileError
from .. import reasons
from ..sources import RawOpener
from .convert import cast_locating, position_mask
from .rules import join_two

# The smallest CSV block (a batch; a block is also longer than source.max_row_bytes). A 10 MB file is
# three blocks, not two, so reading, converting and writing overlap more on the engine's two
# workers (0.40 -> 0.31 s on a 10 MB flights-shaped file); at 100 MB the time does not change.
BLOCK_SIZE = 4 << 20
JSON_BATCH_LINES = 65536
PARQUET_BATCH_ROWS = 131072
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"\x28\xb5\x2f\xfd": "zstd"}


@dataclass
class TextBatch:
    """Rows of one file: text (or already typed, for Parquet) columns and where each row came from."""

    columns: Dict[str, pa.Array]
    row_numbers: pa.Array
    errors: Optional[pa.Array] = None
    raw: Optional[pa.Array] = None
    encoded: bool = False
    """The CSV columns still hold the bytes as read; :func:`decode_text` makes them text."""

    @property
    def num_rows(self) -> int:
        return len(self.row_numbers)


@dataclass
class FileInfo:
    """What the reader learned about a file besides its rows."""

    ignored_columns: List[str] = field(default_factory=list)
    missing_columns: List[str] = field(default_factory=list)
    compression: str = "none"
    bytes_read: int = 0
    rows_in_file: Optional[int] = None
    """The file's row count when the format records it (Parquet): a file rejected before its rows
    are read still counts them as quarantined."""


class ReadaheadGate:
    """Keeps pyarrow's CSV reader at most ``ahead`` blocks ahead of the batches it has returned.

    The streaming reader fetches input blocks on a background thread into a queue of up to 32
    blocks, so with 4 MiB blocks an eighth of a gigabyte of raw text can sit in memory ahead of
    the parser. The reader's stream calls :meth:`before_read` before each block and waits while it
    is ``ahead`` blocks in front; the reading loop calls :meth:`parsed` for each batch it gets.

    This cannot stall the parser: a batch needs at most its own block and the next two (a row may
    straddle two block boundaries; pyarrow refuses longer rows), so with ``ahead`` >= 4 the blocks
    the next batch needs are always allowed. The wait is bounded all the same.
    """

    def __init__(self, ahead: int = 4, patience: float = 10.0) -> None:
        self._ahead = max(ahead, 4)
        self._patience = patience
        self._reads = 0
        self._parsed = 0
        self._condition = threading.Condition()

    def before_read(self) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self._reads < self._parsed + self._ahead, timeout=self._patience)
            self._reads += 1

    def parsed(self) -> None:
        with self._condition:
            self._parsed += 1
            self._condition.notify_all()

    def open(self) -> None:
        """Stop holding reads back (reading is over, or failed)."""
        with self._condition:
            self._ahead = 1 << 62
            self._condition.notify_all()


class _LimitedStream(io.RawIOBase):
    """A read-only stream that fails once more than ``limit`` bytes have come out of it."""

    def __init__(self, inner: Any, limit: int, describe: str, gate: Optional[ReadaheadGate] = None) -> None:
        self._inner = inner
        self._limit = limit
        self._describe = describe
        self._gate = gate
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._gate is not None:
            self._gate.before_read()
        data = self._inner.read(len(buffer))
        size = len(data)
        self.count += size
        if self.count > self._limit:
            raise _TooLarge(self._describe)
        buffer[:size] = data
        return size

    def read(self, size: int = -1) -> bytes:
        if self._gate is not None:
            self._gate.before_read()
        data = self._inner.read(size) if size is not None and size >= 0 else self._inner.read()
        self.count += len(data)
        if self.count > self._limit:
            raise _TooLarge(self._describe)
        return bytes(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class _TooLarge(Exception):
    pass


ROW_TOO_LONG = "lakeport:row-too-long"
"""The text that stands in for a line longer than ``source.max_row_bytes`` (see :class:`_LongLines`)."""

_SAMPLE_BYTES = 256


class _ReadStream(io.RawIOBase):
    """A read-only stream defined by its ``read``; ``readinto`` (what pyarrow calls) goes through it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _LongLines(_ReadStream):
    """Passes a text stream on unchanged, except that a line longer than ``limit`` bytes is replaced
    by a ``marker`` line as soon as it is seen, so no more than ``limit`` bytes of one line are ever
    held in memory, whatever the file (a gigabyte without a newline, e.g. a decompression bomb).

    The readers turn the marker into one unparseable row with its record number and the line's length
    (from :attr:`dropped`, in file order); the rows after it are read as usual. Lines are physical
    (split at ``\n``): a quoted value holding newlines is several short lines here.

    Each ``read(n)`` reads at most ``n`` bytes from the inner stream once, so the readahead gate
    below still sees one read per block the CSV reader asks for. Telling that a block holds no long
    line costs a search for the first and last newline of each piece of at most ``limit`` bytes;
    only a block that may hold one is walked newline by newline.
    """

    def __init__(self, inner: Any, limit: int, marker: bytes, gate: Optional[ReadaheadGate] = None) -> None:
        self._inner = inner
        self._gate = gate
        self._limit = limit
        self._marker = marker + b"\n"
        self._pending = bytearray()  # the start of a line whose end has not been read yet
        self._out = bytearray()
        self._offset = 0  # how much of _out has been handed on
        self._dropping: Optional[List[Any]] = None  # [length so far, first bytes] of a long line
        self._eof = False
        self.dropped: collections.deque[Tuple[int, bytes]] = collections.deque()

    @property
    def count(self) -> int:
        return int(getattr(self._inner, "count", 0))

    def read(self, size: int = -1) -> bytearray:
        if size is None or size < 0:
            size = 1 << 62
        if self._gate is not None:
            self._gate.before_read()
        while len(self._out) - self._offset < size and not self._eof:
            chunk = self._inner.read(min(size, 8 << 20))
            if not chunk:
                self._finish()
                break
            self._feed(bytes(chunk))
            if len(self._out) - self._offset:
                break  # hand on what is ready; the caller asks again
        end = min(len(self._out), self._offset + size)
        if self._offset == 0 and end == len(self._out):
            # the usual case: all that is ready, handed on as it is (no copy)
            data, self._out = self._out, bytearray()
            return data
        data = bytearray(memoryview(self._out)[self._offset : end])
        self._offset = end
        if self._offset == len(self._out):
            self._out.clear()
            self._offset = 0
        return data

    def _fits(self, data: bytes) -> bool:
        """Whether no line that ends in or runs through ``data`` is longer than the limit. A line
        inside a piece of at most ``limit`` bytes cannot be, so only each piece's first and last
        newline are looked for (memchr speed), not every newline."""
        limit = self._limit
        carried = len(self._pending)  # the bytes of the current line before this piece
        for begin in range(0, len(data), limit):
            end = min(begin + limit, len(data))
            first = data.find(b"\n", begin, end)
            if first < 0:
                carried += end - begin
                if carried > limit:
                    return False
                continue
            if carried + first - begin > limit:
                return False
            carried = end - data.rfind(b"\n", begin, end) - 1
        return True

    def _feed(self, data: bytes) -> None:
        if self._dropping is None and self._fits(data):
            last = data.rfind(b"\n")
            if last < 0:
                self._pending += data
                return
            if self._out:
                self._out += self._pending
            else:  # the usual case: the carried line start becomes the front of what is handed on
                self._out = self._pending
            self._out += memoryview(data)[: last + 1]
            self._pending = bytearray(memoryview(data)[last + 1 :])
            return
        newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        start = 0
        if self._dropping is not None:
            if not len(newlines):
                self._dropping[0] += len(data)
                return
            self._dropping[0] += int(newlines[0])
            self._end_drop()
            start = int(newlines[0]) + 1
            newlines = newlines[1:]
        limit = self._limit
        if not len(newlines):
            if len(self._pending) + len(data) - start <= limit:
                self._pending += data[start:]
                return
        else:
            last = int(newlines[-1])
            first = len(self._pending) + int(newlines[0]) - start
            inner = int(np.diff(newlines).max()) - 1 if len(newlines) > 1 else 0
            if first <= limit and inner <= limit and len(data) - last - 1 <= limit:
                self._out += self._pending
                self._out += data[start : last + 1]
                self._pending = bytearray(data[last + 1 :])
                return
        position = start
        for newline in newlines.tolist():
            if len(self._pending) + newline - position > limit:
                self._dropping = [len(self._pending) + newline - position, bytes(self._pending[:_SAMPLE_BYTES])]
                self._sample(data, position)
                self._end_drop()
            else:
                self._out += self._pending
                self._out += data[position : newline + 1]
            self._pending.clear()
            position = newline + 1
        if len(self._pending) + len(data) - position > limit:
            self._dropping = [len(self._pending) + len(data) - position, bytes(self._pending[:_SAMPLE_BYTES])]
            self._sample(data, position)
            self._pending.clear()
        else:
            self._pending += data[position:]

    def _sample(self, data: bytes, position: int) -> None:
        assert self._dropping is not None
        missing = _SAMPLE_BYTES - len(self._dropping[1])
        if missing > 0:
            self._dropping[1] += data[position : position + missing]

    def _end_drop(self) -> None:
        assert self._dropping is not None
        length, sample = self._dropping
        self.dropped.append((length, sample))
        self._out += self._marker
        self._dropping = None

    def _finish(self) -> None:
        self._eof = True
        if self._dropping is not None:
            self._end_drop()
        self._out += self._pending
        self._pending.clear()

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _line_guard(
    stream: Any, contract: Contract, marker: str, gate: Optional[ReadaheadGate] = None
) -> Optional[_LongLines]:
    """A :class:`_LongLines` over ``stream``, or None for an encoding in which a newline is not the
    byte 10 (UTF-16/32: the row limit is not applied there). The readahead ``gate`` counts the reads
    of whichever stream the parser reads from: dropping a long line takes many inner reads."""
    if not _newline_is_byte_10(contract):
        stream._gate = gate
        return None
    return _LongLines(stream, contract.source.max_row_bytes, marker.encode(contract.source.options.encoding), gate)


def _newline_is_byte_10(contract: Contract) -> bool:
    encoding = contract.source.options.encoding
    try:
        return "\n".encode(encoding) == b"\n" and ROW_TOO_LONG.encode(encoding) == ROW_TOO_LONG.encode()
    except (LookupError, UnicodeError):
        return False


def _long_line_text(length: int, sample: bytes, encoding: str) -> str:
    """The raw text kept for a line too long to keep: its first bytes and its length."""
    return sample.decode(encoding, errors="replace") + f"… ({length} bytes in all)"


HEAD_BYTES = 1 << 20
"""How much of an object is read to find its compression and its header row."""
HEADER_GUESS_BYTES = 64 << 10
"""How much of the head is decoded first to find the header row (all of it if the row goes on)."""


class _Replay(_ReadStream):
    """A stream whose first bytes were already read to look at them: those bytes, then the rest."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: Optional[int] = -1) -> bytes:
        if len(self._head):
            if size is None or size < 0:
                data = bytes(self._head) + self._rest.read()
                self._head = memoryview(b"")
                return data
            first = self._head[:size]
            self._head = self._head[size:]
            if len(first) == size:
                return bytes(first)
            # a short read would make a short CSV block, and a batch of its own
            return b"".join((first, self._rest.read(size - len(first))))
        return bytes(self._rest.read(size) if size is not None and size >= 0 else self._rest.read())

    def close(self) -> None:
        try:
            self._rest.close()
        finally:
            super().close()


class _WithoutLastLines(_ReadStream):
    """Passes a text stream on but for its last ``lines`` lines that are not blank: a trailer (a row
    count, a checksum, ``EOF``) that is no data. Lines end at the byte 10 (LF or CR LF); blank
    lines after the trailer do not count. Holds back no more than those lines and the one not ended
    yet, and never more than ``cap`` bytes: text that long is no trailer, and is handed on (the long
    line guard after this stream still bounds what one line may hold)."""

    def __init__(self, inner: Any, lines: int, cap: int) -> None:
        self._inner = inner
        self._lines = lines
        self._cap = cap
        self._held = bytearray()
        self._done = False

    @property
    def count(self) -> int:
        return int(getattr(self._inner, "count", 0))

    def read(self, size: Optional[int] = -1) -> bytes:
        while not self._done:
            chunk = self._inner.read(size if size is not None and size > 0 else 1 << 20)
            if not chunk:
                self._done = True
                del self._held[self._start_of_last(len(self._held)) :]
                break
            self._held += chunk
            # what lies before the last lines that may be the trailer is data whatever follows
            held = len(self._held)
            keep = held if held > self._cap else self._start_of_last(self._held.rfind(b"\n") + 1)
            if keep:
                with memoryview(self._held) as view:
                    data = bytes(view[:keep])
                del self._held[:keep]
                return data
        data = bytes(self._held)
        self._held.clear()
        return data

    def _start_of_last(self, end: int) -> int:
        """Where the last ``lines`` lines with text in them, before ``end``, start (0 if fewer)."""
        held = self._held
        found = 0
        while end > 0:
            start = held.rfind(b"\n", 0, max(end - 1, 0)) + 1
            if held[start:end].strip():
                found += 1
                if found == self._lines:
                    return start
            end = start
        return 0

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _footer_held_back(stream: _LimitedStream, contract: Contract) -> Any:
    """``stream`` without its last ``skip_footer_rows`` lines, or itself when there are none to skip
    (the contract allows them only in encodings where a line ends at the byte 10)."""
    lines = contract.source.options.skip_footer_rows
    return stream if not lines else _WithoutLastLines(stream, lines, (lines + 1) * contract.source.max_row_bytes)


class RawFile:
    """One raw object to read: how to open it and how to describe it in errors.

    The object's first megabyte is read once (:meth:`head`) to tell its compression and, for an
    uncompressed CSV, its header row; the stream it came from stays open, and the first
    :meth:`open` goes on from it: one request for the object, not three."""

    def __init__(self, opener: RawOpener, uri: str, dataset: str) -> None:
        self.opener = opener
        self.uri = uri
        self.dataset = dataset
        self._head: Optional[bytes] = None
        self._after_head: Any = None

    def fail(self, reason: str, hint: Optional[str] = None) -> InputFileError:
        return InputFileError(self.dataset, self.uri, reason, hint=hint)

    def head(self) -> bytes:
        """The object's first bytes (up to :data:`HEAD_BYTES`), as stored (compressed or not)."""
        if self._head is None:
            stream = self.opener.open()
            try:
                self._head = bytes(stream.read(HEAD_BYTES))
            except BaseException:
                stream.close()
                raise
            self._after_head = stream
        return self._head

    def release(self) -> None:
        """Close the stream kept after :meth:`head`, if no :meth:`open` took it."""
        stream, self._after_head = self._after_head, None
        if stream is not None:
            stream.close()

    def detect_compression(self, option: str) -> str:
        if option != "auto":
            return option
        head = self.head()
        for magic, name in _MAGIC.items():
            if head.startswith(magic):
                return name
        return "none"

    def open(self, compression: str, limit: int, gate: Optional[ReadaheadGate] = None) -> _LimitedStream:
        if self._after_head is not None:
            assert self._head is not None
            stream: Any = _Replay(self._head, self._after_head)
            self._after_head = None
        else:
            stream = self.opener.open()
        if compression != "none":
            stream = pa.CompressedInputStream(stream, compression)
        return _LimitedStream(stream, limit, self.uri, gate)


def read_batches(raw: RawFile, contract: Contract, info: FileInfo, decode: bool = True) -> Iterator[TextBatch]:
    """Dispatch on the contract's format; translate low-level failures into a clear file error.

    With ``decode=False`` CSV batches come ``encoded``: the caller runs :func:`decode_text` on them,
    possibly on another thread (the python engine does it on its conversion workers, which leaves
    the reading thread free to parse the next block).
    """
    fmt = contract.source.format
    options = contract.source.options
    try:
        if fmt == "parquet":
            yield from _read_parquet(raw, contract, info)
            return
        if fmt == "excel":
            yield from _read_excel(raw, contract, info)
            return
        info.compression = raw.detect_compression(options.compression)
        if fmt == "csv":
            yield from _read_csv(raw, contract, info, decode)
        elif fmt == "fixed_width":
            yield from _read_fixed_width(raw, contract, info)
        else:
            yield from _read_jsonl(raw, contract, info)
    except _TooLarge:
        raise raw.fail(
            f"more than {contract.source.max_uncompressed_bytes} bytes once decompressed",
            hint="raise source.max_uncompressed_bytes if the file is genuine; it may be a decompression bomb",
        ) from None
    except InputFileError:
        raise
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        hint = None
        if "straddl" in text:
            text = (
                "a record spans too many lines: a quoted value holds line breaks over more than"
                f" {max(BLOCK_SIZE, contract.source.max_row_bytes)} bytes"
            )
            hint = "look for a quote that is never closed; if such values are genuine, raise source.max_row_bytes"
        elif isinstance(exc, UnicodeDecodeError) or "UTF8" in text or "decode" in text.lower():
            hint = f"the file is not {options.encoding} text: set source.options.encoding (e.g. latin-1)"
        elif info.compression != "none":
            text = f"the {info.compression} stream is truncated or corrupt ({text})"
            hint = "deliver the file again"
        raise raw.fail(f"cannot be read as {fmt}: {text}", hint=hint) from None
    finally:
        raw.release()


# -- CSV --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    names: List[str]
    lines: int
    """Physical lines up to the end of the header row, skipped lines included: what pyarrow,
    which skips lines without looking at quotes, must skip to reach the first data row."""
    only_row: bool = False
    """Nothing follows the header row: the file has no data rows."""
    size: int = 0
    """The bytes (decompressed) the header was looked for in: the whole file if ``only_row``."""


def _header(raw: RawFile, contract: Contract, compression: str) -> _Header:
    options = contract.source.options
    limit = contract.source.max_uncompressed_bytes
    if compression == "none":
        head = raw.head()
        if len(head) > limit:
            raise _TooLarge(raw.uri)
    else:
        stream = raw.open(compression, limit)
        try:
            head = stream.read(HEAD_BYTES)
        finally:
            stream.close()
    # Most headers end within the first few kilobytes: decode those first (the whole megabyte costs
    # milliseconds, a fair share of a small file's job), the rest only if the header goes on.
    if len(head) > HEADER_GUESS_BYTES:
        found = _header_row(head[:HEADER_GUESS_BYTES], options, whole=False)
        if found is not None:
            return found
    found = _header_row(head, options, whole=len(head) < HEAD_BYTES)
    return found if found is not None else _Header([], 0)


def _header_row(data: bytes, options: Any, whole: bool) -> Optional[_Header]:
    """The header row in ``data`` (the first bytes of the file, all of them if ``whole``), or None
    if ``data`` may end before the row does: in a prefix a row is known complete only once another
    row follows it."""
    decoder = codecs.getincrementaldecoder(options.encoding)(errors="replace")
    text = decoder.decode(data).replace("\x00", "\ufffd")  # Python 3.9's csv refuses NUL
    # newline="": lines end at \n, \r\n or \r, as pyarrow counts them; skip_rows counts lines
    lines = io.StringIO(text, newline="")
    for _ in range(options.skip_rows):
        lines.readline()
    reader = csv.reader(
        lines,
        delimiter=options.delimiter,
        quotechar=options.quote or '"',
        quoting=csv.QUOTE_MINIMAL if options.quote else csv.QUOTE_NONE,
        escapechar=options.escape,
        doublequote=True,
    )
    for row in reader:
        if row:
            names = [name.strip().lstrip("\ufeff") for name in row]
            through = options.skip_rows + reader.line_num
            following = next(reader, None) is not None
            if following or whole:
                return _Header(names, through, only_row=whole and not following, size=len(data))
            return None
    return _Header([], 0) if whole else None


def _dedupe(names: Sequence[str]) -> Tuple[List[str], List[str]]:
    seen: Dict[str, int] = {}
    out, duplicates = [], []
    for name in names:
        if name in seen:
            seen[name] += 1
            duplicates.append(name)
            out.append(f"{name}__{seen[name]}")
        else:
            seen[name] = 1
            out.append(name)
    return out, duplicates


_SEPARATORS = re.compile(r"[\s_-]+")


def _loose(name: str) -> str:
    """A column name with case, and runs of spaces, hyphens and underscores, made alike."""
    return _SEPARATORS.sub("_", name.casefold()).strip("_")


def find_columns(
    raw: RawFile, contract: Contract, info: FileInfo, names: Sequence[str], where: str, hint: str
) -> Dict[str, str]:
    """The contract's read columns among a file's column ``names`` (its header or schema), as
    {name in the file: table column}, in the file's order.

    A column is found under its source name. Failing that, under the one name in the file that
    differs from it only in case and in spaces, hyphens and underscores (:func:`_loose`:
    ``ORDER_DATE``, ``Order Date`` and ``order-date`` are one name): exports change the case and
    spacing of their headers from one system or version to the next. Two such names in one file
    match nothing (no guess). Records in ``info`` the file's columns not read and the contract's
    not found; a missing ``nullable: false`` column, or no column found at all (a wrong delimiter,
    sheet or file: every value would be null), rejects the file, ``where`` naming what was searched.
    """
    columns = contract.read_columns
    exact = {c.source_name: c.name for c in columns}
    found = {n: exact[n] for n in names if n in exact}
    taken = set(found.values())
    spelled: Dict[str, List[str]] = {}
    for name in names:
        if name and name not in found:
            spelled.setdefault(_loose(name), []).append(name)
    for column in columns:
        candidates = spelled.get(_loose(column.source_name), [])
        if column.name not in taken and len(candidates) == 1 and candidates[0] not in found:
            found[candidates[0]] = column.name
            taken.add(column.name)
    found = {n: found[n] for n in names if n in found}  # the file's order, first of a repeated name
    info.ignored_columns = [n for n in names if n and n not in found]
    missing = [c for c in columns if c.name not in taken]
    info.missing_columns = [c.source_name for c in missing]
    required = [c.source_name for c in missing if not c.nullable]
    if required:
        shown = ", ".join(repr(r) for r in required)
        raise raw.fail(f"{where} lacks required column(s) {shown} {_found(names)}", hint=hint)
    if columns and not found:
        sought = ", ".join(repr(c.source_name) for c in columns[:5]) + (", ..." if len(columns) > 5 else "")
        raise raw.fail(f"{where} has none of the contract's columns ({sought}) {_found(names)}", hint=hint)
    return found


def _found(names: Sequence[str]) -> str:
    return f"(found: {', '.join(repr(n) for n in names[:20])}{', ...' if len(names) > 20 else ''})"


def _read_csv(raw: RawFile, contract: Contract, info: FileInfo, decode: bool = True) -> Iterator[TextBatch]:
    options = contract.source.options
    duplicates: List[str] = []
    if options.header:
        header = _header(raw, contract, info.compression)
        if not header.names:
            return  # empty file: no header, no rows
        names, duplicates = _dedupe(header.names)
        skip = header.lines
    else:
        names = [c.source_name for c in contract.read_columns]
        skip = options.skip_rows
    wanted = find_columns(
        raw,
        contract,
        info,
        names,
        "the header",
        hint="check the delimiter and the header row, or map the column with 'source:' in the contract",
    )
    clashing = sorted(set(duplicates) & set(wanted))
    if clashing:
        raise raw.fail(
            f"the header names {', '.join(repr(c) for c in clashing)} more than once",
            hint="fix the export so each column appears once",
        )
    present = list(wanted)
    if options.header and header.only_row:
        # a header and nothing else (pyarrow cannot skip a last line that has no line break)
        info.bytes_read = header.size
        return

    marker = options.delimiter * len(names) + ROW_TOO_LONG
    gate = ReadaheadGate()
    limited = raw.open(info.compression, contract.source.max_uncompressed_bytes)
    guard = _line_guard(_footer_held_back(limited, contract), contract, marker, gate)
    rows = _CsvRows(contract, names, present, wanted, marker, guard, decode)
    stream: Any = guard if guard is not None else limited
    try:
        if guard is not None and rows.splittable():
            yield from rows.pieces(guard, skip, gate)
        else:
            yield from rows.serial(stream, skip, 0, gate)
    finally:
        gate.open()
        info.bytes_read = limited.count
        stream.close()


PIECE_BYTES = BLOCK_SIZE
"""The text parsed at once when a CSV is read in pieces (:meth:`_CsvRows.pieces`)."""
PIECED_BYTES = 64 << 20
"""How much of a file at most is read in pieces. Pieces spare a file of a few blocks the streaming
reader's one-block delay at its start and end (10 MB: 0.18 -> 0.16 s); in a long file that delay
does not count, and the streaming reader's own read-ahead measured 3-4% faster at 1 GB."""
PARSE_THREADS = 1
"""Pieces parsed at once. One: the engine's two conversion workers already use the second core, and
a second parser measured 6% slower on a 100 MB file (4% faster on a 10 MB one)."""


_Parsed = Tuple[pa.Table, List[Tuple[Optional[int], Any, int, int]], int]
"""A parsed piece: its rows, pyarrow's reports of unparseable ones (number counted from the piece's
first line, text, fields found, fields expected), and the lines skipped at its start."""


class _CsvRows:
    """The rows of one CSV file, numbered in file order, read with pyarrow's CSV parser.

    Two ways. :meth:`serial` hands the whole stream to pyarrow's streaming reader, which parses one
    block after another on its own thread, and hands a block's rows on only once it has parsed the
    next block: the conversion workers wait a block at the start. :meth:`pieces` is for text with no
    quote character (most numeric exports; a quoted header does not count): there every line break
    ends a record, so this thread cuts the text at line breaks into pieces and a worker parses each
    as soon as it is cut; the pieces are numbered in file order. The first block that holds a quote
    character hands the rest of the file to :meth:`serial`, which knows where quoted values end.
    Both number rows the same way and report the same unparseable rows (a test compares them).
    """

    def __init__(
        self,
        contract: Contract,
        names: List[str],
        present: List[str],
        wanted: Dict[str, str],
        marker: str,
        guard: Optional[_LongLines],
        decode: bool,
    ) -> None:
        self.contract = contract
        self.options = contract.source.options
        self.names = names
        self.present = present
        self.wanted = wanted
        self.marker = marker
        self.guard = guard
        self.decode = decode
        self.limit = contract.source.max_row_bytes
        self.convert_options = pacsv.ConvertOptions(
            column_types={n: pa.binary() for n in present},
            include_columns=present,
            null_values=list(self.options.null_values),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )

    def splittable(self) -> bool:
        """Whether a line break can be told from the bytes alone (UTF-8, no escape character)."""
        return codecs.lookup(self.options.encoding).name == "utf-8" and not self.options.escape

    def _read_options(self, skip: int, block_size: int) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(
            column_names=self.names,
            skip_rows=skip,
            block_size=block_size,
            encoding=self.options.encoding if self.options.encoding != "utf-8" else "utf8",
            # one thread per parser: pyarrow numbers the rows it reports only when reading serially
            use_threads=False,
        )

    def _parse_options(self, on_invalid: Any) -> pacsv.ParseOptions:
        options = self.options
        return pacsv.ParseOptions(
            delimiter=options.delimiter,
            quote_char=options.quote if options.quote else False,
            escape_char=options.escape if options.escape else False,
            double_quote=True,
            newlines_in_values=True,
            ignore_empty_lines=True,
            invalid_row_handler=on_invalid,
        )

    def _invalid(self, number: int, text: Optional[str], actual: int, expected: int) -> Tuple[int, str, str]:
        """(data row number, reason, text) of a row pyarrow could not split into the header's
        fields; called in file order, so a long line's marker takes the next dropped line."""
        guard = self.guard
        if guard is not None and text == self.marker and guard.dropped:
            length, sample = guard.dropped.popleft()
            reason = reasons.row_too_long(length, self.limit)
            return number, reason, _long_line_text(length, sample, self.options.encoding)
        reason = reasons.unparseable_row(f"{actual} fields where {expected} were expected")
        return number, reason, text or ""

    def _batch(self, columns: Dict[str, Any], numbers: pa.Array) -> TextBatch:
        encoded = TextBatch(columns=columns, row_numbers=numbers, encoded=True)
        return decode_text(encoded, self.contract) if self.decode else encoded

    # -- the streaming reader ------------------------------------------------------------------------

    def serial(self, stream: Any, skip: int, before: int, gate: ReadaheadGate) -> Iterator[TextBatch]:
        """The rows of ``stream`` through pyarrow's streaming reader; ``before`` data rows came
        earlier in the file, and the stream starts ``skip`` lines before its first data row."""
        # rows reported unparseable by pyarrow (numbered from the stream's first line, skipped lines
        # included) and those the good rows' numbering has not passed yet
        invalid: List[Tuple[int, str, str]] = []
        unparsed_ahead: List[int] = []

        def on_invalid(row: Any) -> str:
            number = before + row.number - skip if row.number is not None else -1
            invalid.append(self._invalid(number, row.text, row.actual_columns, row.expected_columns))
            return "skip"

        read_options = self._read_options(
            skip,
            # pyarrow refuses a record that straddles two block boundaries; a block longer than the
            # longest line the guard lets through keeps every single-line record within one boundary
            max(BLOCK_SIZE, self.limit + (64 << 10)),
        )
        # One parsing thread (conversion runs on the engine's own workers, so this costs no
        # parallelism). Even so the reader may parse the next block ahead, and call ``on_invalid``
        # from there, while this loop handles a batch: the loop below allows for that.
        reader = pacsv.open_csv(
            stream,
            read_options=read_options,
            parse_options=self._parse_options(on_invalid),
            convert_options=self.convert_options,
        )
        next_row = before + 1
        for batch in reader:
            gate.parsed()
            # pyarrow may already be parsing the next block on its reader thread and report its
            # unparseable rows meanwhile: take the reports once, so a row reported between reading
            # the list and emptying it is neither lost to the numbering nor reported twice
            taken = invalid[:]
            del invalid[: len(taken)]
            unparsed_ahead.extend(number for number, _, _ in taken if number >= next_row)
            if batch.num_rows:
                # the good rows keep their own numbers in the file: an unparseable row before them
                # is skipped by pyarrow, not by the numbering
                numbers = _row_numbers(next_row, batch.num_rows, unparsed_ahead)
                yield self._batch({self.wanted[n]: batch.column(n) for n in self.present}, numbers)
                next_row = int(numbers[-1].as_py()) + 1
                unparsed_ahead[:] = [n for n in unparsed_ahead if n >= next_row]
            if taken:
                yield _unparseable_batch(taken, self.contract)
        if invalid:
            yield _unparseable_batch(invalid, self.contract)

    # -- in pieces, parsed beside the reading ----------------------------------------------------------

    def pieces(self, guard: _LongLines, skip: int, gate: ReadaheadGate) -> Iterator[TextBatch]:
        """The rows of a file cut at line breaks into pieces, each parsed on a worker, while no
        quote character is seen and for the first :data:`PIECED_BYTES`; then :meth:`serial` reads
        on, from the block that holds a quote or lies past that point."""
        quote = self.options.quote.encode() if self.options.quote else None
        window: Deque[Future[_Parsed]] = deque()
        before = 0  # data rows in the pieces already numbered
        carry = b""  # a line not ended yet (the guard hands on whole lines but for its size cap)
        cut_so_far = 0
        with ThreadPoolExecutor(max_workers=PARSE_THREADS, thread_name_prefix="lakeport-parse") as pool:
            try:
                while True:
                    block = self._read_block(guard, gate)
                    # the lines before the first data row (a header may well be quoted) were read
                    # by _header; pyarrow skips them by counting lines
                    body = _after_lines(block, skip) if skip else 0
                    # (body < 0: the skipped lines go on past this block, a case for pyarrow)
                    quoted = body < 0 or (quote is not None and block.find(quote, body) >= 0)
                    if quoted or (block and cut_so_far >= PIECED_BYTES):
                        before = yield from self._numbered_from(window, before, keep=0)
                        yield from self.serial(_Replay(carry + block, guard), skip, before, gate)
                        return
                    data = carry + block if carry else block
                    if not block:  # the end: what is left is the last line
                        piece, carry = data, b""
                    else:
                        cut = data.rfind(b"\n") + 1
                        piece, carry = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
                    if piece:
                        window.append(pool.submit(self._parse_piece, piece, skip))
                        skip = 0  # only the first piece holds the lines before the first data row
                        cut_so_far += len(piece)
                    # two pieces queued behind the one numbered next keep the parser busy
                    before = yield from self._numbered_from(window, before, keep=PARSE_THREADS + 1 if block else 0)
                    if not block:
                        return
            finally:
                for future in window:
                    future.cancel()

    def _numbered_from(self, window: Deque[Future[_Parsed]], before: int, keep: int) -> Generator[TextBatch, None, int]:
        """The batches of the parsed pieces at the front of ``window``, until ``keep`` are left;
        returns the number of data rows they take the file to."""
        while len(window) > keep:
            batches, before = self._numbered(window.popleft().result(), before)
            yield from batches
        return before

    @staticmethod
    def _read_block(guard: _LongLines, gate: ReadaheadGate) -> bytes:
        """At least half a piece of whole lines (the guard hands on whole lines), or the rest."""
        parts: List[Any] = []
        size = 0
        while size < PIECE_BYTES // 2:
            chunk = guard.read(PIECE_BYTES - size)
            gate.parsed()  # this loop is the parser: it never reads ahead of itself
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _parse_piece(self, piece: bytes, skip: int) -> _Parsed:
        """Parse one piece, on a worker (what it gives: :data:`_Parsed`)."""
        reports: List[Tuple[Optional[int], Any, int, int]] = []

        def on_invalid(row: Any) -> str:
            reports.append((row.number, row.text, row.actual_columns, row.expected_columns))
            return "skip"

        table = pacsv.read_csv(
            pa.BufferReader(piece),
            read_options=self._read_options(skip, len(piece) + (64 << 10)),
            parse_options=self._parse_options(on_invalid),
            convert_options=self.convert_options,
        )
        return table, reports, skip

    def _numbered(self, parsed: _Parsed, before: int) -> Tuple[List[TextBatch], int]:
        """A parsed piece's batches, numbered after the ``before`` data rows ahead of it."""
        table, reports, skip = parsed
        taken = [
            self._invalid(-1 if number is None else before + number - skip, text, actual, expected)
            for number, text, actual, expected in reports
        ]
        batches: List[TextBatch] = []
        if table.num_rows:
            numbers = _row_numbers(before + 1, table.num_rows, [number for number, _, _ in taken])
            columns = {}
            for name in self.present:
                column = table.column(name)
                columns[self.wanted[name]] = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            batches.append(self._batch(columns, numbers))
        if taken:
            batches.append(_unparseable_batch(taken, self.contract))
        return batches, before + table.num_rows + len(reports)


_LINE_END = re.compile(rb"\r\n|\r|\n")


def _after_lines(data: bytes, lines: int) -> int:
    """Where the text after the first ``lines`` lines of ``data`` starts (-1: not within it)."""
    position = 0
    for _ in range(lines):
        found = _LINE_END.search(data, position)
        if found is None:
            return -1
        position = found.end()
    return position


def _row_numbers(first: int, n: int, skipped: Sequence[int] = ()) -> pa.Array:
    """``n`` row numbers from ``first`` on, leaving out the ``skipped`` ones."""
    # from numpy, not from a Python range: a million Python ints cost a fifth of a second
    candidates = np.arange(first, first + n + len(skipped), dtype=np.int64)
    if len(skipped):
        candidates = candidates[~np.isin(candidates, np.asarray(skipped, dtype=np.int64))]
    return pa.array(candidates[:n])


def _unparseable_batch(entries: List[Tuple[int, str, str]], contract: Contract) -> TextBatch:
    numbers, errors, raw_text = zip(*entries)
    n = len(entries)
    columns = {c.name: pa.nulls(n, pa.string()) for c in contract.columns}
    return TextBatch(
        columns=columns,
        row_numbers=pa.array([None if number < 1 else number for number in numbers], pa.int64()),
        errors=pa.array(errors, pa.string()),
        raw=pa.array(raw_text, pa.string()),
    )


def _ascii_only(values: pa.Array) -> bool:
    """Whether every byte of a binary array is ASCII, hence valid UTF-8 as it stands. One pass over
    the data buffer instead of a check per value: most columns (numbers, dates, codes) pass it."""
    data = values.buffers()[2]
    if data is None or data.size == 0:
        return True
    return bool(np.frombuffer(data, dtype=np.uint8).max() < 0x80)


def decode_text(batch: TextBatch, contract: Contract) -> TextBatch:
    """Validate the bytes of an ``encoded`` batch as UTF-8 per value; bad values become a row error
    instead of a crash. Columns the file lacks come back as nulls."""
    if not batch.encoded:
        return batch
    n = batch.num_rows
    columns: Dict[str, pa.Array] = {}
    errors: Optional[pa.Array] = batch.errors
    for name, values in batch.columns.items():
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if _ascii_only(values):
            columns[name] = values.view(pa.string())
            continue
        try:
            columns[name] = values.cast(pa.string())
            continue
        except pa.ArrowInvalid:
            pass
        text, bad_positions = cast_locating(values, lambda a: a.cast(pa.string()))
        columns[name] = text
        bad = position_mask(n, bad_positions)
        message = pc.if_else(
            bad,
            f"{name}: is not valid text in the declared encoding"
            " (set source.options.encoding if the file is not UTF-8)",
            pa.scalar(None, pa.string()),
        )
        errors = join_two(errors, message)
    for column in contract.columns:
        if column.name not in columns:
            columns[column.name] = pa.nulls(n, pa.string())
    return TextBatch(columns=columns, row_numbers=batch.row_numbers, errors=errors, raw=batch.raw)


# -- JSON Lines -------------------------------------------------------------------------------------


def _json_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _read_jsonl(raw: RawFile, contract: Contract, info: FileInfo) -> Iterator[TextBatch]:
    options = contract.source.options
    sources = [(c.source_name, c.name) for c in contract.read_columns]
    derived = [c.name for c in contract.derived_columns]
    limited = raw.open(info.compression, contract.source.max_uncompressed_bytes)
    guard = _line_guard(limited, contract, ROW_TOO_LONG)
    stream: Any = guard if guard is not None else limited
    text: IO[str] = io.TextIOWrapper(io.BufferedReader(stream, 1 << 20), encoding=options.encoding, newline=None)
    limit = contract.source.max_row_bytes
    try:
        line_no = 0
        while True:
            values: Dict[str, List[Optional[str]]] = {name: [] for _, name in sources}
            rows: List[int] = []
            errors: List[Optional[str]] = []
            raws: List[Optional[str]] = []
            bad = False
            for line in text:
                line_no += 1
                stripped = line.strip()
                if not stripped:
                    continue
                error, raw_line, record = None, None, None
                if guard is not None and stripped == ROW_TOO_LONG and guard.dropped:
                    length, sample = guard.dropped.popleft()
                    error = reasons.row_too_long(length, limit)
                    stripped = _long_line_text(length, sample, options.encoding)
                else:
                    try:
                        record = json.loads(stripped)
                        if not isinstance(record, dict):
                            error = reasons.unparseable_row(
                                f"line {line_no} is a JSON {type(record).__name__}, not an object"
                            )
                    except ValueError as exc:
                        error = reasons.unparseable_row(
                            f"line {line_no} is not valid JSON ({exc.args[0] if exc.args else exc})"
                        )
                if error is not None:
                    bad = True
                    raw_line = stripped
                    record = {}
                assert record is not None
                for src, name in sources:
                    values[name].append(_json_text(record.get(src)))
                rows.append(line_no)
                errors.append(error)
                raws.append(raw_line)
                if len(rows) >= JSON_BATCH_LINES:
                    break
            if not rows:
                break
            columns = {name: pa.array(v, pa.string()) for name, v in values.items()}
            columns.update((name, pa.nulls(len(rows), pa.string())) for name in derived)
            yield TextBatch(
                columns=columns,
                row_numbers=pa.array(rows, pa.int64()),
                errors=pa.array(errors, pa.string()) if bad else None,
                raw=pa.array(raws, pa.string()) if bad else None,
            )
    finally:
        info.bytes_read = limited.count
        text.close()


# -- fixed-width text -------------------------------------------------------------------------------

FIXED_WIDTH_BLOCK = 8 << 20


def _lines_of(data: bytes) -> pa.Array:
    """The lines of ``data`` as a binary array over the same bytes (no copy of the text), without
    their line breaks (LF or CR LF)."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1))
    if starts[-1] == len(data):  # the data ends with a line break: no line after it
        starts = starts[:-1]
    offsets = np.concatenate((starts, [len(data)])).astype(np.int32)
    lines = pa.Array.from_buffers(pa.binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return _strip_end(_strip_end(lines, b"\n"), b"\r")


def _strip_end(lines: pa.Array, byte: bytes) -> pa.Array:
    if not len(lines):
        return lines
    ends = pc.equal(pc.binary_slice(lines, -1), pa.scalar(byte, pa.binary()))
    if not pc.any(ends).as_py():
        return lines
    return pc.if_else(ends, pc.binary_slice(lines, 0, -1), lines)


def _read_fixed_width(raw: RawFile, contract: Contract, info: FileInfo) -> Iterator[TextBatch]:
    """Each line is one row; each column its ``start``/``length`` characters, trimmed of spaces.
    Rows are numbered by their line in the file (skipped and blank lines counted, not read)."""
    options = contract.source.options
    columns = contract.read_columns
    derived = [c.name for c in contract.derived_columns]
    limited = raw.open(info.compression, contract.source.max_uncompressed_bytes)
    guard = _line_guard(_footer_held_back(limited, contract), contract, ROW_TOO_LONG)
    stream: Any = guard if guard is not None else limited
    limit = contract.source.max_row_bytes
    marker = ROW_TOO_LONG.encode() if guard is not None else None
    null_values = pa.array(list(options.null_values), pa.string())
    carry = b""
    line_no = 0
    try:
        while True:
            block = stream.read(FIXED_WIDTH_BLOCK)
            data = carry + bytes(block)
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if cut == 0:
                carry = data
                continue
            data, carry = data[:cut], data[cut:]
            utf8 = options.encoding == "utf-8"
            if not utf8:
                # one decode for the whole block; line by line only when some line is not valid
                with contextlib.suppress(UnicodeDecodeError):
                    data, utf8 = data.decode(options.encoding).encode("utf-8"), True
            lines = _lines_of(data)
            numbers = np.arange(line_no + 1, line_no + 1 + len(lines), dtype=np.int64)
            line_no += len(lines)
            keep = np.asarray(pc.fill_null(pc.greater(pc.binary_length(lines), 0), False))
            keep &= numbers > options.skip_rows
            if not keep.any():
                continue
            mask = pa.array(keep)
            lines, numbers_array = lines.filter(mask), pa.array(numbers[keep])
            yield _fixed_width_batch(
                lines, numbers_array, columns, derived, options, utf8, marker, guard, limit, null_values
            )
            if not block:
                break
    finally:
        info.bytes_read = limited.count
        stream.close()


def _fixed_width_batch(
    lines: pa.Array,
    numbers: pa.Array,
    columns: Sequence[Any],
    derived: Sequence[str],
    options: Any,
    utf8: bool,
    marker: Optional[bytes],
    guard: Optional[_LongLines],
    limit: int,
    null_values: pa.Array,
) -> TextBatch:
    n = len(lines)
    errors: List[Optional[str]] = [None] * n
    raw_text: List[Optional[str]] = [None] * n
    bad = np.zeros(n, dtype=bool)
    if marker is not None and guard is not None and guard.dropped:
        for i in np.flatnonzero(np.asarray(pc.fill_null(pc.equal(lines, pa.scalar(marker, pa.binary())), False))):
            if not guard.dropped:
                break
            length, sample = guard.dropped.popleft()
            errors[i], raw_text[i], bad[i] = (
                reasons.row_too_long(length, limit),
                _long_line_text(length, sample, options.encoding),
                True,
            )
    if utf8:
        text, failing = cast_locating(lines, lambda a: a.cast(pa.string()))
    else:
        text, failing = _decoded(lines, options.encoding)
    for position in failing:
        if not bad[position]:
            errors[position] = reasons.unparseable_row(
                f"line {numbers[position].as_py()} is not valid {options.encoding} text (set source.options.encoding)"
            )
            raw_text[position] = lines[position].as_py().decode(options.encoding, errors="replace")
            bad[position] = True
    out: Dict[str, pa.Array] = {}
    blank = pa.array(bad)
    for column in columns:
        field = pc.utf8_trim_whitespace(
            pc.utf8_slice_codeunits(text, column.start - 1, column.start - 1 + column.length)
        )
        field = pc.if_else(pc.or_(blank, pc.is_in(field, value_set=null_values)), pa.scalar(None, pa.string()), field)
        out[column.name] = field
    for name in derived:
        out[name] = pa.nulls(n, pa.string())
    any_bad = bool(bad.any())
    return TextBatch(
        columns=out,
        row_numbers=numbers,
        errors=pa.array(errors, pa.string()) if any_bad else None,
        raw=pa.array(raw_text, pa.string()) if any_bad else None,
    )


def _decoded(lines: pa.Array, encoding: str) -> Tuple[pa.Array, List[int]]:
    """Lines in another encoding as text; the positions of those that are not valid in it."""
    values: List[Optional[str]] = []
    failing: List[int] = []
    for i, line in enumerate(lines.to_pylist()):
        try:
            values.append(line.decode(encoding))
        except UnicodeDecodeError:
            values.append(None)
            failing.append(i)
    return pa.array(values, pa.string()), failing


# -- Excel ------------------------------------------------------------------------------------------

EXCEL_BATCH_ROWS = 65536


def _read_excel(raw: RawFile, contract: Contract, info: FileInfo) -> Iterator[TextBatch]:
    """One worksheet (``source.options.sheet``, else the first) read with calamine: the header row
    after ``skip_rows`` names the columns as in a CSV, each later row is a row, numbered as Excel
    numbers it. Cell values become text as the other formats give it (numbers that are whole
    without a fraction, dates and times in ISO form), then convert like any text."""
    from python_calamine import CalamineWorkbook

    options = contract.source.options
    with raw.opener.local_copy() as handle:
        workbook = (
            CalamineWorkbook.from_path(handle) if isinstance(handle, str) else CalamineWorkbook.from_filelike(handle)
        )
        names = list(workbook.sheet_names)
        if not names:
            raise raw.fail("the workbook has no worksheet", hint="deliver the export again")
        sheet_name = options.sheet or names[0]
        if sheet_name not in names:
            raise raw.fail(
                f"the workbook has no worksheet {sheet_name!r} (it has: {', '.join(repr(n) for n in names)})",
                hint="set source.options.sheet to one of those",
            )
        sheet = workbook.get_sheet_by_name(sheet_name)
        rows = sheet.iter_rows() if hasattr(sheet, "iter_rows") else iter(sheet.to_python(skip_empty_area=False))
        info.bytes_read = int(
            getattr(handle, "size", lambda: 0)() if not isinstance(handle, str) else os.path.getsize(handle)
        )
        yield from _excel_rows(raw, contract, info, rows)


def _excel_rows(raw: RawFile, contract: Contract, info: FileInfo, rows: Iterator[List[Any]]) -> Iterator[TextBatch]:
    options = contract.source.options
    number = 0
    for _ in range(options.skip_rows):
        next(rows, None)
        number += 1
    if options.header:
        header: List[str] = []
        for row in rows:
            number += 1
            if _has_cells(row):
                # a header cell may be a number (a year, 2024) or a date, written as a CSV would write it
                header = [(_cell_text(cell, "string") or "").strip() for cell in row]
                break
        if not header:
            return
    else:
        header = [c.source_name for c in contract.read_columns]
    found = find_columns(
        raw,
        contract,
        info,
        header,
        "the header row",
        hint="check source.options.sheet and skip_rows, or map the column with 'source:' in the contract",
    )
    positions = {found[name]: i for i, name in reversed(list(enumerate(header))) if name in found}
    if options.skip_footer_rows:
        rows = _without_last_rows(rows, options.skip_footer_rows)
    markers = set(options.null_values)
    values: Dict[str, List[Optional[str]]] = {c.name: [] for c in contract.columns}
    numbers: List[int] = []
    for row in rows:
        number += 1
        if not _has_cells(row):
            continue  # an empty row of the sheet's used area
        for column in contract.read_columns:
            at = positions.get(column.name)
            cell = row[at] if at is not None and at < len(row) else None
            text = _cell_text(cell, column.column_type.kind)
            values[column.name].append(None if text is None or text in markers else text)
        numbers.append(number)
        if len(numbers) >= EXCEL_BATCH_ROWS:
            yield _excel_batch(contract, values, numbers)
            values = {c.name: [] for c in contract.columns}
            numbers = []
    if numbers:
        yield _excel_batch(contract, values, numbers)


def _has_cells(row: List[Any]) -> bool:
    return any(cell not in (None, "") for cell in row)


def _without_last_rows(rows: Iterator[List[Any]], count: int) -> Iterator[List[Any]]:
    """A sheet's rows but for its last ``count`` rows that are not empty (a total, a footnote)."""
    held: Deque[List[Any]] = collections.deque()  # from the count-th last row with cells on
    filled = 0
    for row in rows:
        held.append(row)
        if _has_cells(row):
            filled += 1
            while filled > count:
                first = held.popleft()
                filled -= _has_cells(first)
                yield first


def _excel_batch(contract: Contract, values: Dict[str, List[Optional[str]]], numbers: List[int]) -> TextBatch:
    n = len(numbers)
    columns = {
        c.name: pa.nulls(n, pa.string()) if c.derived else pa.array(values[c.name], pa.string())
        for c in contract.columns
    }
    return TextBatch(columns=columns, row_numbers=pa.array(numbers, pa.int64()))


def _cell_text(cell: Any, kind: str) -> Optional[str]:
    """A cell's value as the text a CSV export would hold."""
    import datetime as dt

    if cell is None:
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        # Excel stores every number as a double: 42 is 42.0, which is a whole number, not a fraction
        return str(int(cell)) if cell.is_integer() and abs(cell) < 2**53 else repr(cell)
    if isinstance(cell, dt.datetime):
        if kind == "date" and cell.time() == dt.time(0):
            return cell.date().isoformat()
        return cell.isoformat(sep=" ")
    if isinstance(cell, (dt.date, dt.time)):
        return cell.isoformat()
    if isinstance(cell, dt.timedelta):
        return str(cell)
    return str(cell)


# -- Parquet ----------------------------------------------------------------------------------------


def _read_parquet(raw: RawFile, contract: Contract, info: FileInfo) -> Iterator[TextBatch]:
    with raw.opener.local_copy() as handle:
        parquet = pq.ParquetFile(handle)
        info.bytes_read = parquet.metadata.serialized_size + sum(
            parquet.metadata.row_group(i).total_byte_size for i in range(parquet.metadata.num_row_groups)
        )
        info.rows_in_file = parquet.metadata.num_rows
        names = parquet.schema_arrow.names
        wanted = find_columns(
            raw,
            contract,
            info,
            names,
            "the Parquet schema",
            hint="map the column with 'source:' in the contract or fix the export",
        )
        present = list(wanted)
        next_row = 1
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present):
            n = batch.num_rows
            columns = {wanted[name]: batch.column(name) for name in present}
            for column in contract.columns:
                columns.setdefault(column.name, pa.nulls(n, pa.string()))
            yield TextBatch(columns=columns, row_numbers=_row_numbers(next_row, n))
            next_row += n
