"""Where a run's output goes and what it is called — shared by every engine.

A curated table is an Iceberg table; its data files are laid out under the table's ``data/`` folder,
one folder per partition (a convention for people browsing the bucket: readers find files through
the table's metadata, never by listing)::

    s3://<curated>/<database>/<table>/data/<key>=<value>/.../part-<run_id>-<source>-<chunk>.parquet
    s3://<curated>/<database>/<table>/metadata/...        (Iceberg metadata, written by pyiceberg)

A file written by a run is invisible until the run's snapshot is committed. File names are a pure
function of (run, source object, partition, chunk), so a retried run overwrites its own files instead
of adding copies. Every file holds the partition columns too (Iceberg derives a file's partition from
its column statistics), as constants per file.

Rejected rows go to ``s3://<quarantine>/<database>/<table>/rows/lakeport_run_id=<run_id>/`` and
rejected files, byte for byte, to ``s3://<quarantine>/<database>/<table>/files/<run_id>/<raw key>``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Dict, List, Sequence, Tuple

import pyarrow as pa

from ..contract import Contract

DATA_FOLDER = "data/"
_HIVE_UNSAFE = re.compile(r"[\x00-\x1f\"#%'*/:=?\\\x7f{}\[\]^]")


def hive_escape(value: str) -> str:
    """Escape a partition value the way Hive and Spark do in paths (``/`` -> ``%2F``)."""
    return _HIVE_UNSAFE.sub(lambda m: f"%{ord(m.group(0)):02X}", value)


def format_partition_value(value: Any) -> str:
    """The text of a partition value in a path and in the catalog."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def source_id(uri: str, version: str) -> str:
    """A short, stable id for one version of one raw object."""
    return hashlib.sha256(f"{uri}#{version}".encode()).hexdigest()[:12]


def list_parquet(filesystem: Any, location: str) -> List[str]:
    """The Parquet files directly in a location (URIs), sorted (quarantine partitions are read so)."""
    from pyarrow import fs as pafs

    _scheme, path = split_uri(location)
    try:
        infos = filesystem.get_file_info(pafs.FileSelector(path.rstrip("/"), allow_not_found=True))
    except FileNotFoundError:
        return []
    prefix = location if location.endswith("/") else location + "/"
    return sorted(
        prefix + info.base_name
        for info in infos
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
    )


def split_uri(uri: str) -> Tuple[str, str]:
    """``s3://bucket/key`` -> (``s3``, ``bucket/key``); ``file:///tmp/x`` -> (``file``, ``/tmp/x``)."""
    scheme, sep, rest = uri.partition("://")
    if not sep:
        return "file", uri
    return scheme, rest


@dataclass(frozen=True)
class TableLayout:
    """Paths of one dataset's curated and quarantine data under two roots (``s3://bucket`` or ``file:///dir``)."""

    database: str
    table: str
    curated_root: str
    quarantine_root: str
    partition_names: Tuple[str, ...]

    @classmethod
    def for_contract(cls, contract: Contract, curated_root: str, quarantine_root: str) -> TableLayout:
        return cls(
            database=contract.database,
            table=contract.table,
            curated_root=curated_root.rstrip("/"),
            quarantine_root=quarantine_root.rstrip("/"),
            partition_names=tuple(p.name for p in contract.partition_by),
        )

    @property
    def table_location(self) -> str:
        return f"{self.curated_root}/{self.database}/{self.table}/"

    @property
    def quarantine_location(self) -> str:
        return f"{self.quarantine_root}/{self.database}/{self.table}/rows/"

    def partition_path(self, values: Sequence[str]) -> str:
        """``order_day=2024-01-02/`` (empty for an unpartitioned table)."""
        if len(values) != len(self.partition_names):
            raise ValueError(f"expected {len(self.partition_names)} partition values, got {len(values)}")
        return "".join(f"{name}={hive_escape(v)}/" for name, v in zip(self.partition_names, values))

    def data_location(self, values: Sequence[str]) -> str:
        """The folder a partition's data files are written into."""
        return f"{self.table_location}{DATA_FOLDER}{self.partition_path(values)}"

    @staticmethod
    def data_file_name(run_id: str, source: str, chunk: int) -> str:
        return f"part-{run_id}-{source}-{chunk:05d}.parquet"

    def quarantine_run_location(self, run_id: str) -> str:
        return f"{self.quarantine_location}lakeport_run_id={run_id}/"

    @staticmethod
    def quarantine_file_name(source: str, chunk: int) -> str:
        return f"part-{source}-{chunk:05d}.parquet"

    def rejected_file_location(self, run_id: str, raw_key: str) -> str:
        """Where a rejected raw object is kept; ``.``/``..``/empty key segments are escaped so tools
        that normalise paths cannot place the copy outside this folder."""
        segments = [{"": "%2F", ".": "%2E", "..": "%2E%2E"}.get(s, s) for s in raw_key.split("/")]
        return f"{self.quarantine_root}/{self.database}/{self.table}/files/{run_id}/{'/'.join(segments)}"


class PartitionColumns:
    """The partition columns a curated file carries after its rows' columns, one constant per file.

    An identity partition of a contract column keeps that column's type; a derived one has the type
    of its transform (``year`` int, ``month`` string ``YYYY-MM``, ``day`` date). The engines group
    rows by partition and hand over the key's text; this turns it back into typed constants.
    """

    def __init__(self, contract: Contract) -> None:
        from .python.convert import arrow_type, convert_text

        self._convert = convert_text
        self.contract = contract
        fields: List[pa.Field] = []
        self._parsers: List[Callable[[str], pa.Scalar]] = []
        for field in contract.partition_by:
            if field.transform == "identity":
                column = contract.column(field.source_column)
                type_ = arrow_type(column.column_type)
                self._parsers.append(self._identity_parser(field.name, type_))
            else:
                type_ = {"year": pa.int32(), "month": pa.string(), "day": pa.date32()}[field.transform]
                self._parsers.append(self._derived_parser(field.transform, type_))
            fields.append(pa.field(field.name, type_))
        self.fields = fields
        self._cache: Dict[Tuple[str, ...], List[pa.Array]] = {}

    def _identity_parser(self, name: str, type_: pa.DataType) -> Callable[[str], pa.Scalar]:
        column = self.contract.column(name)

        def parse(text: str) -> pa.Scalar:
            single = pa.array([text], pa.string())
            try:
                # the engines write a key's value in its plain spelling (format_value), which a plain
                # cast reads as the contract's conversion does, for a fraction of the cost
                return single.cast(type_)[0]
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return self._convert(single, column).values.cast(type_)[0]

        return parse

    @staticmethod
    def _derived_parser(transform: str, type_: pa.DataType) -> Callable[[str], pa.Scalar]:
        def parse(text: str) -> pa.Scalar:
            if transform == "year":
                return pa.scalar(int(text), type_)
            if transform == "day":
                return pa.scalar(date.fromisoformat(text), type_)
            return pa.scalar(text, type_)

        return parse

    def arrays(self, key: Sequence[str], rows: int) -> List[pa.Array]:
        """The partition columns of ``rows`` rows of partition ``key`` (slices of a cached constant)."""
        if not self.fields:
            return []
        cached = self._cache.get(tuple(key))
        if cached is None or len(cached[0]) < rows:
            # grown as needed: a small file's partitions do not each pay for a row group's worth
            size = rows if cached is None else max(rows, 2 * len(cached[0]))
            scalars = [parse(text) for parse, text in zip(self._parsers, key)]
            cached = [pa.repeat(scalar, size) if hasattr(pa, "repeat") else _repeat(scalar, size) for scalar in scalars]
            self._cache[tuple(key)] = cached
        return [array.slice(0, rows) for array in cached]


def _repeat(scalar: pa.Scalar, rows: int) -> pa.Array:
    return pa.array([scalar.as_py()], scalar.type).take(pa.array([0] * rows, pa.int32()))
