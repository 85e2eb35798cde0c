"""Where a run's output goes and what it is called — shared by every engine.

Curated data is laid out Hive-style, one immutable *generation* folder per partition and run::

    s3://<curated>/<database>/<table>/<key>=<value>/.../run=<run_id>/part-<run_id>-<source>-<chunk>.parquet

The catalog points each partition at exactly one generation. A run writes new generations next to the
live ones and then switches the catalog, so readers see the old partition or the new one, never a mix,
and a crashed run leaves the live data untouched. File names are a pure function of (run, source
object, partition, chunk), so a retried run overwrites its own files instead of adding copies.

Rejected rows go to ``s3://<quarantine>/<database>/<table>/rows/lakeport_run_id=<run_id>/`` and
rejected files, byte for byte, to ``s3://<quarantine>/<database>/<table>/files/<run_id>/<raw key>``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Sequence, Tuple

from ..contract import Contract

GENERATION_PREFIX = "run="
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

    def generation_location(self, values: Sequence[str], run_id: str) -> str:
        """The folder a run writes one partition's new generation into."""
        return f"{self.table_location}{self.partition_path(values)}{GENERATION_PREFIX}{run_id}/"

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
