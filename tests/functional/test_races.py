"""Duplicates and races at the ledger and run level: many claims of one object, overlapping runs of
one dataset, and a crashed run's lease running out.

The concurrent tests rely on DynamoDB's atomic conditional writes, which the emulator gives only with
its fixes applied (Python 3.11); the others also run on Python 3.9."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest

from lakeport.errors import ClaimLostError, DatasetBusyError, LakeportError
from lakeport.iceberg.commit import RunCommit
from lakeport.ingest import Ingestor, IngestRequest, RunSummary
from lakeport.ledger.locks import DatasetLock, LockLease
from lakeport.ledger.runs import new_run_id

from .faults import ledger

DELIVERIES = 50
HEADER = "order_id,Order Date,customer,country,amount,status\n"
ORDERS = HEADER + "".join(f"{i},2024-05-01 10:00:00,C{i},DE,{i}.00,NEW\n" for i in range(1, 8))


def test_fifty_concurrent_claims_of_one_object_by_different_runs_give_it_to_exactly_one(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/once.csv", ORDERS)
    files = ledger(lake)
    barrier = threading.Barrier(DELIVERIES)

    def claim(i: int) -> Any:
        barrier.wait()
        return files.claim(obj, "sales.orders", f"20260601T000000Z-claim{i:03d}", lease_seconds=600)

    with ThreadPoolExecutor(DELIVERIES) as pool:
        claims = list(pool.map(claim, range(DELIVERIES)))

    winners = [c for c in claims if c.claimed]
    assert len(winners) == 1
    record = files.get(obj)
    assert record is not None and record.run_id == winners[0].run_id and record.attempts == 1
    assert all(c.outcome == "HELD" and c.run_id == winners[0].run_id for c in claims if not c.claimed)


def test_fifty_concurrent_runs_of_the_same_object_ingest_it_once(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/once.csv", ORDERS)
    barrier = threading.Barrier(DELIVERIES)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return lake.ingest("sales.orders", [obj], run_id=f"20260601T000000Z-run{i:03d}")
        except DatasetBusyError as exc:  # the lock's answer to an overlapping run: transient
            return exc

    with ThreadPoolExecutor(DELIVERIES) as pool:
        outcomes = list(pool.map(run, range(DELIVERIES)))

    ingested = [o for o in outcomes if isinstance(o, RunSummary) and o.files]
    assert len(ingested) == 1
    assert all(
        isinstance(o, DatasetBusyError) or (isinstance(o, RunSummary) and not o.files and o.skipped)
        for o in outcomes
        if o is not ingested[0]
    )
    assert sorted(r["order_id"] for r in lake.read_curated("sales.orders")) == list(range(1, 8))
    record = ledger(lake).get(obj)
    assert record is not None and (record.state, record.run_id, record.rows_written) == (
        "SUCCEEDED",
        ingested[0].run_id,
        7,
    )


UPSERT = """
dataset: crm.customers
owner: crm@example.com
source: {prefix: crm/customers/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: region, type: string, nullable: false}
  - {name: tier, type: string}
primary_key: [id]
partition_by: [{name: region}]
write_mode: upsert
"""


def test_two_runs_updating_one_partition_at_once_are_serialised_and_both_updates_stay(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(UPSERT)
    lake.ingest("crm.customers", [lake.put("crm/customers/0.csv", "id,region,tier\n1,eu,bronze\n2,eu,bronze\n")])
    first = lake.put("crm/customers/1.csv", "id,region,tier\n1,eu,gold\n")
    second = lake.put("crm/customers/2.csv", "id,region,tier\n2,eu,silver\n")
    inside, tried = threading.Event(), threading.Event()
    commit = RunCommit.commit

    def slow_commit(self: RunCommit, new_files: Any) -> Any:
        if self.run_id.endswith("first"):
            inside.set()
            assert tried.wait(30), "the second run never tried"
        return commit(self, new_files)

    RunCommit.commit = slow_commit  # type: ignore[method-assign]
    try:
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(lake.ingest, "crm.customers", [first], run_id="20260601T000000Z-first")
            assert inside.wait(30)
            # the first run holds the lock and is about to commit: the second must wait
            with pytest.raises(DatasetBusyError, match="20260601T000000Z-first") as busy:
                lake.ingest("crm.customers", [second], run_id="20260601T000001Z-second")
            tried.set()
            assert busy.value.transient
            assert running.result().state == "SUCCEEDED"
    finally:
        RunCommit.commit = commit  # type: ignore[method-assign]
    # the state machine retries the busy run later; it now sees the first run's update
    again = lake.ingest("crm.customers", [second], run_id="20260601T000001Z-second")

    assert again.state == "SUCCEEDED"
    rows = {r["id"]: r["tier"] for r in lake.read_curated("crm.customers")}
    assert rows == {1: "gold", 2: "silver"}  # no lost update
    run = lake.ingestor.runs.get("crm.customers", "20260601T000001Z-second")
    assert run is not None and run.attempts == 2 and run.state == "SUCCEEDED"


@pytest.mark.py39
def test_an_expired_lease_lets_the_object_be_ingested_once_by_the_next_run(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/lease.csv", ORDERS)
    files = ledger(lake)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=3)
    crashed = new_run_id(long_ago)
    # a run took the lock and the object three hours ago, then died before its commit point
    lake.ingestor.lock.acquire("sales.orders", crashed, lease_seconds=3600, now=long_ago)
    assert files.claim(obj, "sales.orders", crashed, lease_seconds=3600, now=long_ago).claimed

    # while the lease lives nobody else may take it (checked at a moment inside the lease) ...
    held = files.claim(obj, "sales.orders", "20260601T000000Z-early", now=long_ago + timedelta(minutes=30))
    assert not held.claimed and held.run_id == crashed
    # ... once it ran out, the next run takes the lock and the object and ingests it
    summary = lake.ingest("sales.orders", [obj])
    assert summary.state == "SUCCEEDED" and len(summary.files) == 1

    # the dead run cannot come back and record anything, and a third run finds the object done
    with pytest.raises(ClaimLostError, match=summary.run_id):
        files.finish(obj, crashed, "SUCCEEDED", 7, 7, 0, 0)
    later = lake.ingest("sales.orders", [obj])
    assert later.files == [] and "already SUCCEEDED" in later.skipped[0]
    assert sorted(r["order_id"] for r in lake.read_curated("sales.orders")) == list(range(1, 8))
    record = files.get(obj)
    assert record is not None and (record.run_id, record.attempts, record.rows_written) == (summary.run_id, 2, 7)


@pytest.mark.py39
def test_a_failed_run_before_its_commit_point_frees_its_objects(lake) -> None:  # type: ignore[no-untyped-def]
    """The other side of the commit point: a terminal failure before it marks the object FAILED, and a
    later run (a replay) ingests it once."""
    lake.apply_example("orders")
    obj = lake.put("sales/orders/fail.csv", ORDERS)
    original = Ingestor._quarantine_rejected_files

    def broken(self: Ingestor, *args: Any) -> Any:
        raise LakeportError("injected: the run failed before its commit point")

    Ingestor._quarantine_rejected_files = broken  # type: ignore[method-assign]
    try:
        with pytest.raises(LakeportError, match="injected"):
            lake.ingest("sales.orders", [obj])
    finally:
        Ingestor._quarantine_rejected_files = original  # type: ignore[method-assign]
    record = ledger(lake).get(obj)
    assert record is not None and record.state == "FAILED" and "injected" in (record.reason or "")
    assert lake.read_curated("sales.orders") == []

    replay = lake.ingestor.run(IngestRequest(dataset="sales.orders", objects=[obj]))
    assert replay.state == "SUCCEEDED"
    assert sorted(r["order_id"] for r in lake.read_curated("sales.orders")) == list(range(1, 8))


def test_two_upserts_of_overlapping_keys_committed_at_once_give_a_serial_result(lake, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without the dataset lock, only Iceberg's optimistic commit stands between two runs: both plan
    on the same snapshot, one commits, the other must plan again on the new one and re-check its keys."""
    lake.apply(UPSERT)
    base = "id,region,tier\n1,eu,bronze\n2,eu,bronze\n3,us,bronze\n"
    lake.ingest("crm.customers", [lake.put("crm/customers/0.csv", base)])
    deliveries = {
        "a": "id,region,tier\n1,eu,gold\n2,us,gold\n4,eu,gold\n",  # 2 moves to us
        "b": "id,region,tier\n2,eu,silver\n3,us,silver\n5,us,silver\n",
    }
    objects = {name: lake.put(f"crm/customers/{name}.csv", body) for name, body in deliveries.items()}

    def no_lock(self: DatasetLock, dataset: str, owner: str, lease_seconds: int, now: Any = None) -> LockLease:
        return LockLease(dataset, owner, 2**31)

    monkeypatch.setattr(DatasetLock, "acquire", no_lock)
    for name in ("begin_commit", "end_commit", "release"):
        monkeypatch.setattr(DatasetLock, name, lambda self, *args, **kwargs: True)
    barrier = threading.Barrier(2, timeout=60)
    attempt = RunCommit._attempt
    planned: set = set()

    def together(self: RunCommit, table: Any, *args: Any) -> Any:
        if self.run_id not in planned:  # both first attempts start from the same snapshot
            planned.add(self.run_id)
            barrier.wait()
        return attempt(self, table, *args)

    monkeypatch.setattr(RunCommit, "_attempt", together)
    with ThreadPoolExecutor(2) as pool:
        futures = {
            name: pool.submit(lake.ingest, "crm.customers", [obj], run_id=f"20260601T00000{i}Z-{name}")
            for i, (name, obj) in enumerate(objects.items())
        }
        summaries = {name: future.result() for name, future in futures.items()}

    assert all(s.state == "SUCCEEDED" for s in summaries.values())
    attempts = {name: s.commit.attempts for name, s in summaries.items()}
    assert sorted(attempts.values()) == [1, 2], attempts  # one of them planned again
    first, last = sorted(attempts, key=attempts.get)  # type: ignore[arg-type]
    expected: Dict[int, Tuple[str, str]] = {}
    for body in (base, deliveries[first], deliveries[last]):
        for line in body.splitlines()[1:]:
            key, region, tier = line.split(",")
            expected[int(key)] = (region, tier)
    rows = lake.read_curated("crm.customers", columns=["id", "region", "tier"])
    assert len(rows) == len({r["id"] for r in rows}), "a key is in the table twice"
    assert {r["id"]: (r["region"], r["tier"]) for r in rows} == expected
    snapshots = [s.snapshot_id for s in lake.table("crm.customers").metadata.snapshots]
    assert len(snapshots) == 3  # the first load and one per run


@pytest.mark.slow
def test_a_reader_during_a_commit_of_300_partitions_sees_all_of_the_run_or_none(lake) -> None:  # type: ignore[no-untyped-def]
    lake.apply(WIDE)
    rows = "".join(f"{p},{p}\n" for p in range(300))
    lake.ingest("ops.wide", [lake.put("ops/wide/0.csv", "p,v\n" + rows)])
    done = threading.Event()
    seen: List[Tuple[int, int]] = []

    def read() -> None:
        def once() -> None:
            result = lake.query("SELECT count(*) AS n, count(DISTINCT p) AS parts FROM ops.wide")[0]
            seen.append((result["n"], result["parts"]))

        while not done.is_set() or len(seen) < 3:
            once()
        once()  # begun after the ingest returned: the loop's last read may have begun before the commit

    with ThreadPoolExecutor(1) as pool:
        reader = pool.submit(read)
        try:
            second = lake.ingest("ops.wide", [lake.put("ops/wide/1.csv", "p,v\n" + rows)])
        finally:
            done.set()
        reader.result()
    assert second.state == "SUCCEEDED" and len(lake.partitions("ops.wide")) == 300
    assert set(seen) <= {(300, 300), (600, 300)}, sorted(set(seen))
    assert seen[-1] == (600, 300)


WIDE = """
dataset: ops.wide
owner: ops@example.com
source: {prefix: ops/wide/, format: csv}
schema:
  - {name: p, type: int, nullable: false}
  - {name: v, type: bigint}
partition_by: [{name: p}]
"""
