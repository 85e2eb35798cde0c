"""Ledgers in DynamoDB: which raw objects were ingested (files), what each run did (runs), and the
per-dataset lock that keeps runs of one dataset from overlapping."""

from .files import Claim, FileLedger, FileRecord, SourceObject
from .locks import DatasetLock, LockLease
from .runs import RunLedger, RunRecord, new_run_id
from .tables import create_tables, table_definitions

__all__ = [
    "Claim",
    "DatasetLock",
    "FileLedger",
    "FileRecord",
    "LockLease",
    "RunLedger",
    "RunRecord",
    "SourceObject",
    "create_tables",
    "new_run_id",
    "table_definitions",
]
