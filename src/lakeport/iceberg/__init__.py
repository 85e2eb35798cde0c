"""Curated tables as Apache Iceberg tables in the Glue Data Catalog, written through pyiceberg."""

from __future__ import annotations

from .commit import RUN_ID_PROPERTY, CommitOutcome, RunCommit, run_snapshot
from .tables import CuratedTables, file_schema, iceberg_schema, open_catalog, partition_spec

__all__ = [
    "RUN_ID_PROPERTY",
    "CommitOutcome",
    "CuratedTables",
    "RunCommit",
    "file_schema",
    "iceberg_schema",
    "open_catalog",
    "partition_spec",
    "run_snapshot",
]
