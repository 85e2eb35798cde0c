"""A job that dies half-way through its catalog switch, on the real path: the job reports the
transient CommitIncompleteError, the state machine waits and runs the same run id again, and the
table ends with every row once."""

from __future__ import annotations

import pytest

from lakeport import catalog as catalog_module
from lakeport.catalog import Catalog

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


def test_a_job_killed_mid_switch_is_rolled_forward_by_the_state_machine(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow.apply(EVENTS)
    monkeypatch.setattr(catalog_module, "CREATE_BATCH", 1)  # one partition per Glue call
    original = Catalog._call
    calls = {"n": 0}

    def dies_on_the_second_partition(self: Catalog, operation: str, action: str, **kwargs: object) -> object:
        if operation == "batch_create_partition" and kwargs.get("TableName") == "events":
            calls["n"] += 1
            if calls["n"] == 2:
                raise Crash("injected: the job died after switching one partition")
        return original(self, operation, action, **kwargs)

    monkeypatch.setattr(Catalog, "_call", dies_on_the_second_partition)
    obj = flow.put("ops/events/three-days.csv", BODY)

    flow.wait(timeout=90)

    [execution] = flow.executions()
    assert execution["status"] == "SUCCEEDED"
    [run] = flow.run_records("ops.events")
    assert run.state == "SUCCEEDED" and run.attempts == 2 and run.rows_written == 12
    assert calls["n"] > 2  # the second attempt switched the rest
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.rows_written, record.commit_run) == ("SUCCEEDED", 12, None)
    rows = flow.query("SELECT id FROM ops.events ORDER BY id")
    assert [r["id"] for r in rows] == list(range(1, 13))
