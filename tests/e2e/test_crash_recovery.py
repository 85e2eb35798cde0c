"""A job that dies right after its Iceberg snapshot is committed, on the real path: the job reports
the transient CommitIncompleteError, the state machine waits and runs the same run id again, the
retry finds its snapshot instead of committing a second one, and the table ends with every row once."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from pyiceberg.table import Transaction

from lakeport.iceberg.commit import RUN_ID_PROPERTY

from .flow import Flow

EVENTS = """
dataset: ops.events
owner: ops@example.com
source: {prefix: ops/events/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: day, type: date, nullable: false}
partition_by: [{name: day}]
write_mode: append
"""
BODY = "id,day\n" + "".join(f"{i},2024-05-0{1 + i % 3}\n" for i in range(1, 13))


class Crash(RuntimeError):
    pass


def test_a_job_killed_right_after_its_snapshot_commit_is_rolled_forward_by_the_state_machine(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow.apply(EVENTS)
    original = Transaction.commit_transaction
    calls: Dict[str, int] = {"n": 0}

    def dies_after_committing(self: Any) -> Any:
        committed = original(self)
        if self.table_metadata.location.rstrip("/").endswith("ops/events"):
            calls["n"] += 1
            if calls["n"] == 1:
                raise Crash("injected: the job died right after its snapshot was committed")
        return committed

    monkeypatch.setattr(Transaction, "commit_transaction", dies_after_committing)
    obj = flow.put("ops/events/three-days.csv", BODY)

    flow.wait(timeout=90)

    [execution] = flow.executions()
    assert execution["status"] == "SUCCEEDED"
    [run] = flow.run_records("ops.events")
    assert run.state == "SUCCEEDED" and run.attempts == 2 and run.rows_written == 12
    assert calls["n"] == 1  # the retry found its snapshot and committed nothing
    table = flow.table("ops", "events")
    mine = [
        s
        for s in table.metadata.snapshots
        if s.summary is not None and s.summary.additional_properties.get(RUN_ID_PROPERTY) == run.run_id
    ]
    assert len(mine) == 1 and run.snapshot_id == mine[0].snapshot_id
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.rows_written, record.commit_run) == ("SUCCEEDED", 12, None)
    rows = flow.query("SELECT id FROM ops.events ORDER BY id")
    assert [r["id"] for r in rows] == list(range(1, 13))
