"""What every engine is given and what it gives back (shared by the python and Spark engines)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from ..contract import Contract
from .layout import TableLayout

PartitionKey = Tuple[str, ...]

SUCCEEDED = "SUCCEEDED"
QUARANTINED = "QUARANTINED"
FAILED = "FAILED"


@dataclass(frozen=True)
class SourceInput:
    """One raw object of the run, in manifest order (the order decides "latest wins" for upserts)."""

    uri: str
    version: str
    size: int
    source_id: str
    key: str = ""


@dataclass
class WrittenFile:
    uri: str
    partition: PartitionKey
    rows: int
    bytes: int


@dataclass
class FileOutcome:
    """The accounting of one source object in one run."""

    source: SourceInput
    state: str = SUCCEEDED
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    bytes_read: int = 0
    reason: Optional[str] = None
    first_problem: Optional[str] = None
    rejected_copy: Optional[str] = None
    ignored_columns: List[str] = field(default_factory=list)
    missing_columns: List[str] = field(default_factory=list)
    files: List[WrittenFile] = field(default_factory=list)
    quarantine_files: List[WrittenFile] = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.rows_written + self.rows_quarantined + self.rows_duplicate


@dataclass
class EngineJob:
    """Everything an engine needs to process one run."""

    contract: Contract
    run_id: str
    ingested_at: datetime
    sources: List[SourceInput]
    layout: TableLayout
    input_filesystem: Any = None
    output_filesystem: Any = None
    remote_output: bool = True
    table_keys: Optional[Any] = None  # callable () -> iterable of existing primary-key values
    s3_client: Optional[Any] = None  # reads s3:// sources at their claimed version (see engine/sources.py)
    options: Dict[str, Any] = field(default_factory=dict)


@dataclass
class EngineResult:
    """Per-file outcomes and the new files per partition, before anything is made visible."""

    engine: str
    files: List[FileOutcome]
    peak_buffered_bytes: int = 0

    def partitions(self) -> Dict[PartitionKey, List[WrittenFile]]:
        out: Dict[PartitionKey, List[WrittenFile]] = {}
        for outcome in self.files:
            if outcome.state != SUCCEEDED:
                continue
            for written in outcome.files:
                out.setdefault(written.partition, []).append(written)
        return out

    def totals(self) -> Dict[str, int]:
        keys = ("rows_read", "rows_written", "rows_quarantined", "rows_duplicate", "bytes_read")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}
