"""A run that dies at any step is retried with the same run id and leaves every row exactly once.

One test per injection point and write mode. Each crashes a run of two files (one with a bad row, so
the quarantine writer works too) on top of a table that already holds data, then checks:

* what a reader sees right after the crash: the old table (up to the snapshot commit) or the new one
  (after it), never a mix, whatever partitions the run touches;
* that nobody else can step in once the run began its commit (no other run of the dataset, no
  takeover of its objects even after their lease ran out);
* that the retry with the same run id completes, and the table then equals the model: no row lost,
  none twice, exactly one snapshot carries the run's id, and the ledgers' row counts equal the rows
  in the snapshot's data files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest

from lakeport.engine.python.writer import PartitionedWriter
from lakeport.errors import CommitIncompleteError, DatasetBusyError, LakeportError
from lakeport.iceberg.commit import RUN_ID_PROPERTY, RunCommit
from lakeport.ledger.files import FileLedger
from lakeport.ledger.locks import DatasetLock
from lakeport.ledger.runs import RunLedger

from .faults import (
    Crash,
    apply_run,
    crash_once,
    csv_rows,
    flatten,
    ledger,
    valid,
    visible_rows,
)

pytestmark = pytest.mark.py39

DATASET = "ops.events"
RUN = "20260601T000000Z-retry001"
CONTRACT = """
dataset: ops.events
owner: ops@example.com
source: {{prefix: ops/events/, format: csv}}
schema:
  - {{name: id, type: bigint, nullable: false}}
  - {{name: day, type: date, nullable: false}}
  - {{name: value, type: int}}
primary_key: [id]
partition_by: [{{name: day}}]
write_mode: {mode}
quality:
  rules: [{{range: {{column: value, min: 0}}}}]
  on_violation: quarantine_row
  max_bad_ratio: 0.5
"""
HEADER = "id,day,value\n"
# the table before the crashed run: two files, so each partition holds two files
BASE1 = HEADER + "1,2024-01-01,1\n2,2024-01-01,2\n3,2024-01-02,3\n4,2024-01-02,4\n5,2024-01-03,5\n6,2024-01-03,6\n"
BASE2 = (
    HEADER + "7,2024-01-01,7\n8,2024-01-01,8\n9,2024-01-02,9\n10,2024-01-02,10\n11,2024-01-03,11\n12,2024-01-03,12\n"
)
# the crashed run: updates keys 11, 12 in an existing partition, adds two new partitions, has one bad
# row (quarantined), and moves key 2 from 2024-01-01 to 2024-01-04 (upsert)
RUN_A = HEADER + "11,2024-01-03,111\n12,2024-01-03,112\n13,2024-01-04,113\n99,2024-01-04,-1\n14,2024-01-04,114\n"
RUN_B = HEADER + "15,2024-01-05,115\n16,2024-01-05,116\n2,2024-01-04,202\n17,2024-01-05,117\n"
MODES = ["append", "overwrite_partitions", "upsert"]


# -- injection points --------------------------------------------------------------------------------


def _is_quarantine(writer: PartitionedWriter, *args: Any, **kwargs: Any) -> bool:
    return "lakeport_reason" in writer.schema.names


def _is_data(writer: PartitionedWriter, *args: Any, **kwargs: Any) -> bool:
    return not _is_quarantine(writer)


def _after_snapshot(monkeypatch: Any) -> None:
    """The snapshot is committed, then the run dies before anything else (a lost reply, a killed job)."""
    commit = RunCommit.commit

    def commit_then_crash(self: RunCommit, new_files: Any) -> Any:
        commit(self, new_files)
        raise Crash("injected crash right after the snapshot commit")

    monkeypatch.setattr(RunCommit, "commit", commit_then_crash)


def _in_catalog_commit(monkeypatch: Any) -> None:
    """The run dies inside the commit, before the catalog took the new metadata."""
    from pyiceberg.table import Transaction

    crash_once(Transaction, "commit_transaction", monkeypatch, 0)


@dataclass(frozen=True)
class Point:
    name: str
    arm: Callable[[Any], None]
    sees: str  # what a reader sees after the crash: the "old" table or the "new" one
    committed: bool  # the crash came after the commit point


POINTS = [
    Point("after-read", lambda mp: crash_once(PartitionedWriter, "_write_rows", mp, 0), "old", False),
    Point("mid-write-data", lambda mp: crash_once(PartitionedWriter, "_write_rows", mp, 1, _is_data), "old", False),
    Point(
        "mid-write-quarantine",
        lambda mp: crash_once(PartitionedWriter, "_write_rows", mp, 0, _is_quarantine),
        "old",
        False,
    ),
    Point("before-data-files-registered", lambda mp: crash_once(RunCommit, "commit", mp, 0), "old", True),
    Point("in-snapshot-commit", _in_catalog_commit, "old", True),
    Point("after-snapshot-commit", _after_snapshot, "new", True),
    Point("after-commit-before-ledgers", lambda mp: crash_once(FileLedger, "finish", mp, 0), "new", True),
    Point("mid-file-ledger", lambda mp: crash_once(FileLedger, "finish", mp, 1), "new", True),
    Point("before-run-ledger", lambda mp: crash_once(RunLedger, "finish", mp, 0), "new", True),
    Point("before-commit-cleared", lambda mp: crash_once(DatasetLock, "end_commit", mp, 0), "new", True),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("point", POINTS, ids=[p.name for p in POINTS])
def test_a_run_crashed_at_any_step_is_retried_to_exactly_once(lake, monkeypatch, point: Point, mode: str):  # type: ignore[no-untyped-def]
    lake.apply(CONTRACT.format(mode=mode))
    lake.ingest(DATASET, [lake.put("ops/events/base1.csv", BASE1), lake.put("ops/events/base2.csv", BASE2)])
    old = apply_run(mode, {}, valid(csv_rows(BASE1) + csv_rows(BASE2)))
    new = apply_run(mode, old, valid(csv_rows(RUN_A) + csv_rows(RUN_B)))
    assert visible_rows(lake, DATASET) == flatten(old)
    live_before = lake.partitions(DATASET)
    a, b = lake.put("ops/events/a.csv", RUN_A), lake.put("ops/events/b.csv", RUN_B)
    point.arm(monkeypatch)

    with pytest.raises(LakeportError, match="injected crash") as caught:
        lake.ingest(DATASET, [a, b], run_id=RUN)
    monkeypatch.undo()

    # what a reader sees now
    seen = visible_rows(lake, DATASET)
    if point.sees == "old":
        assert seen == flatten(old) and lake.partitions(DATASET) == live_before
    else:
        assert seen == flatten(new)
    assert isinstance(caught.value, CommitIncompleteError) == point.committed
    if point.committed:
        # past the commit point: only this run may go on, and it is told to be retried
        assert isinstance(caught.value, CommitIncompleteError) and caught.value.transient
        other = lake.put("ops/events/c.csv", HEADER + "50,2024-01-03,50\n")
        with pytest.raises(DatasetBusyError, match=RUN):
            lake.ingest(DATASET, [other])
        much_later = datetime.now(timezone.utc) + timedelta(days=2)
        for obj in (a, b):
            claim = ledger(lake).claim(obj, DATASET, "20260602T000000Z-intruder", now=much_later)
            assert not claim.claimed and claim.run_id == RUN

    retry = lake.ingest(DATASET, [a, b], run_id=RUN)

    assert retry.state == "SUCCEEDED"
    curated = lake.read_curated(DATASET)
    assert sorted((r["id"], str(r["day"]), r["value"]) for r in curated) == flatten(new)  # no row lost, none twice
    # the ledgers agree with the curated zone
    records = [ledger(lake).get(obj) for obj in (a, b)]
    assert all(r is not None and r.state == "SUCCEEDED" and r.run_id == RUN and not r.commit_run for r in records)
    written = sum(r.rows_written or 0 for r in records if r is not None)
    run = lake.ingestor.runs.get(DATASET, RUN)
    assert run is not None and run.state == "SUCCEEDED" and run.attempts == 2
    assert run.rows_written == written == sum(1 for r in curated if r["lakeport_run_id"] == RUN) == 8
    assert (run.rows_read, run.rows_quarantined, run.rows_duplicate) == (9, 1, 0)
    quarantined = lake.query(f"SELECT count(*) AS n FROM ops.events_quarantine WHERE lakeport_run_id = '{RUN}'")
    assert quarantined[0]["n"] == 1
    assert lake.ingestor.lock.incomplete_commit(DATASET) is None
    # one snapshot for the run, however many attempts it took
    snapshots = lake.table(DATASET).metadata.snapshots
    assert sum(1 for s in snapshots if s.summary and s.summary.get(RUN_ID_PROPERTY) == RUN) == 1
    assert run.snapshot_id == lake.table(DATASET).current_snapshot().snapshot_id
