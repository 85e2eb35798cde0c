"""Partitioned Parquet output with memory bounded by a budget, not by file size.

Rows arrive batch by batch, each batch spread over any number of partitions. Rows are buffered per
(source object, partition) and written as a row group when a buffer reaches ``row_group_rows``; when
all buffers together pass ``memory_budget`` the largest ones are written early (smaller row groups,
same data). Each (source, partition) pair gets its own file sequence ``part-<run>-<source>-<chunk>``,
so a rejected source can be removed without touching the others and a retry rewrites the same names.

Remote outputs (S3) are staged in a local temporary file and uploaded when the file is complete, so
an open file costs a file handle rather than an upload buffer.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..layout import TableLayout, split_uri
from ..model import PartitionKey, WrittenFile

PARQUET_OPTIONS: Dict[str, Any] = {
    "compression": "snappy",
    "version": "2.6",
    "use_dictionary": True,
    "write_statistics": True,
}


@dataclass
class _Open:
    writer: pq.ParquetWriter
    local_path: str
    uri: str
    rows: int = 0
    chunk: int = 0


@dataclass
class _Buffer:
    tables: List[pa.Table] = field(default_factory=list)
    rows: int = 0
    nbytes: int = 0


def filesystem_path(uri: str) -> str:
    return split_uri(uri)[1]


class PartitionedWriter:
    """Write one run's rows for many sources into per-partition generation folders."""

    def __init__(
        self,
        filesystem: Any,
        layout: TableLayout,
        run_id: str,
        schema: pa.Schema,
        *,
        memory_budget: int = 256 << 20,
        row_group_rows: int = 131072,
        max_rows_per_file: int = 8_000_000,
        staging_dir: Optional[str] = None,
        remote: bool = True,
        location_for: Optional[Any] = None,
        file_name_for: Optional[Any] = None,
        writer_threads: int = 2,
    ) -> None:
        self.filesystem = filesystem
        self.layout = layout
        self.run_id = run_id
        self.schema = schema
        self.memory_budget = memory_budget
        self.row_group_rows = row_group_rows
        self.max_rows_per_file = max_rows_per_file
        self.remote = remote
        self._staging = staging_dir
        self._owns_staging = False
        self._location_for = location_for or (lambda key: layout.generation_location(key, run_id))
        self._file_name_for = file_name_for or (lambda source, chunk: layout.data_file_name(run_id, source, chunk))
        self._buffers: Dict[Tuple[str, PartitionKey], _Buffer] = {}
        self._open: Dict[Tuple[str, PartitionKey], _Open] = {}
        self._chunks: Dict[Tuple[str, PartitionKey], int] = {}
        self._buffered_bytes = 0
        self.written: Dict[str, List[WrittenFile]] = {}
        self.peak_buffered_bytes = 0
        self._pool = ThreadPoolExecutor(max_workers=writer_threads, thread_name_prefix="lakeport-writer")
        self._pending: List[Future[None]] = []
        self._max_pending = 2 * writer_threads
        self._slot_locks: Dict[Tuple[str, PartitionKey], threading.Lock] = {}
        self._state_lock = threading.Lock()

    # -- public -----------------------------------------------------------------------------------

    def write(
        self,
        source: str,
        table: pa.Table,
        codes: Optional[np.ndarray] = None,
        keys: Optional[Dict[int, PartitionKey]] = None,
    ) -> None:
        """Buffer ``table`` (already in ``schema``); ``codes`` maps each row to a partition in ``keys``."""
        if table.num_rows == 0:
            return
        for key, part in self._split(table, codes, keys or {}):
            slot = (source, key)
            buffer = self._buffers.setdefault(slot, _Buffer())
            buffer.tables.append(part)
            buffer.rows += part.num_rows
            buffer.nbytes += part.nbytes
            self._buffered_bytes += part.nbytes
            if buffer.rows >= self.row_group_rows:
                self._flush(slot)
        self.peak_buffered_bytes = max(self.peak_buffered_bytes, self._buffered_bytes)
        if self._buffered_bytes > self.memory_budget:
            for slot in sorted(self._buffers, key=lambda s: self._buffers[s].nbytes, reverse=True):
                self._flush(slot)
                if self._buffered_bytes <= self.memory_budget // 2:
                    break

    def finish_source(self, source: str) -> List[WrittenFile]:
        """Write out everything buffered for ``source`` and close its files."""
        for slot in [s for s in self._buffers if s[0] == source]:
            self._flush(slot)
            self._buffers.pop(slot, None)
        self._drain()
        for slot in [s for s in self._open if s[0] == source]:
            self._close(slot)
        return self.written.get(source, [])

    def discard_source(self, source: str) -> None:
        """Forget and delete everything written for ``source`` (its file was rejected)."""
        for slot in [s for s in self._buffers if s[0] == source]:
            self._buffered_bytes -= self._buffers.pop(slot).nbytes
        self._drain()
        for slot in [s for s in self._open if s[0] == source]:
            handle = self._open.pop(slot)
            handle.writer.close()
            if self.remote:
                os.unlink(handle.local_path)
            self._delete(handle.uri)
        for written in self.written.pop(source, []):
            self._delete(written.uri)

    def close(self) -> None:
        for source in {s for s, _ in list(self._buffers) + list(self._open)}:
            self.finish_source(source)
        self._pool.shutdown(wait=True)
        if self._owns_staging and self._staging:
            shutil.rmtree(self._staging, ignore_errors=True)

    # -- internals --------------------------------------------------------------------------------

    def _split(
        self, table: pa.Table, codes: Optional[np.ndarray], keys: Dict[int, PartitionKey]
    ) -> List[Tuple[PartitionKey, pa.Table]]:
        if codes is None:
            return [((), table)]
        distinct = np.unique(codes)
        if len(distinct) == 1:
            return [(keys[int(distinct[0])], table)]
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        indices = pa.array(order)
        # one gather per column (a Table.take is several times slower on string columns)
        gathered = pa.Table.from_arrays([pc.take(column, indices) for column in table.columns], schema=table.schema)
        bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(order)]))
        return [
            (keys[int(sorted_codes[start])], gathered.slice(int(start), int(end - start)))
            for start, end in zip(starts, ends)
        ]

    def _flush(self, slot: Tuple[str, PartitionKey]) -> None:
        """Hand the slot's buffered rows to a writer thread (Parquet encoding releases the GIL)."""
        buffer = self._buffers.get(slot)
        if buffer is None or buffer.rows == 0:
            return
        self._buffered_bytes -= buffer.nbytes
        self._buffers[slot] = _Buffer()
        # bound the memory held by flushes still in flight
        while len(self._pending) >= self._max_pending:
            self._pending.pop(0).result()
        lock = self._slot_locks.setdefault(slot, threading.Lock())
        self._pending.append(self._pool.submit(self._write_rows, slot, buffer.tables, lock))

    def _write_rows(self, slot: Tuple[str, PartitionKey], tables: List[pa.Table], lock: threading.Lock) -> None:
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        with lock:
            offset = 0
            while offset < table.num_rows:
                handle = self._handle(slot)
                room = self.max_rows_per_file - handle.rows
                piece = table.slice(offset, room)
                handle.writer.write_table(piece, row_group_size=max(piece.num_rows, 1))
                handle.rows += piece.num_rows
                offset += piece.num_rows
                if handle.rows >= self.max_rows_per_file:
                    self._close(slot)

    def _drain(self) -> None:
        while self._pending:
            self._pending.pop(0).result()

    def _handle(self, slot: Tuple[str, PartitionKey]) -> _Open:
        with self._state_lock:
            handle = self._open.get(slot)
            if handle is not None:
                return handle
            source, key = slot
            chunk = self._chunks.get(slot, 0)
            self._chunks[slot] = chunk + 1
            staging = self._staging_dir() if self.remote else ""
            staged = len(self._chunks)
        uri = self._location_for(key) + self._file_name_for(source, chunk)
        if self.remote:
            local_path = os.path.join(staging, f"{staged}-{chunk}.parquet")
        else:
            local_path = filesystem_path(uri)
            os.makedirs(os.path.dirname(local_path), exist_ok=True)
        writer = pq.ParquetWriter(local_path, self.schema, **PARQUET_OPTIONS)
        handle = _Open(writer=writer, local_path=local_path, uri=uri, chunk=chunk)
        with self._state_lock:
            self._open[slot] = handle
        return handle

    def _close(self, slot: Tuple[str, PartitionKey]) -> None:
        with self._state_lock:
            handle = self._open.pop(slot)
        handle.writer.close()
        size = os.path.getsize(handle.local_path)
        if self.remote:
            self._upload(handle.local_path, handle.uri)
            os.unlink(handle.local_path)
        with self._state_lock:
            self.written.setdefault(slot[0], []).append(WrittenFile(handle.uri, slot[1], handle.rows, size))

    def _upload(self, local_path: str, uri: str) -> None:
        with open(local_path, "rb") as source, self.filesystem.open_output_stream(filesystem_path(uri)) as sink:
            while True:
                block = source.read(8 << 20)
                if not block:
                    break
                sink.write(block)

    def _delete(self, uri: str) -> None:
        try:
            self.filesystem.delete_file(filesystem_path(uri))
        except (FileNotFoundError, OSError):
            pass

    def _staging_dir(self) -> str:
        if self._staging is None:  # called under _state_lock
            self._staging = tempfile.mkdtemp(prefix="lakeport-")
            self._owns_staging = True
        return self._staging
