"""``lakeport replay`` and ``lakeport quarantine reprocess`` as a user drives them, against the emulator."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, List

import pytest
from typer.testing import CliRunner

from lakeport.cli.main import app
from lakeport.errors import LakeportError
from lakeport.ingest import Ingestor
from lakeport.ledger.files import FileLedger

from .faults import crash_once, ledger
from .lake import EXAMPLES, Lake

HEADER = "order_id,Order Date,customer,country,amount,status\n"


@pytest.fixture
def lakeport(lake, emulator, monkeypatch):  # type: ignore[no-untyped-def]
    """``lakeport <args>`` through the real CLI, pointed at the emulator; returns its output."""
    for name, value in {
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "COLUMNS": "250",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        assert (result.exit_code == 0) == ok, output
        return output

    return run


def _ids(lake: Lake, dataset: str) -> List[int]:
    return sorted(r["order_id"] for r in lake.read_curated(dataset))


def _orders(first: int, n: int) -> str:
    return HEADER + "".join(f"{i},2024-05-01 10:00:00,C{i},DE,{i}.00,NEW\n" for i in range(first, first + n))


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


def test_replaying_an_appended_object_is_refused_unless_duplicates_are_allowed(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply(EVENTS)
    obj = lake.put("ops/events/a.csv", "id,day\n1,2024-05-01\n2,2024-05-01\n3,2024-05-02\n")
    lake.ingest("ops.events", [obj])

    out = lakeport("replay", "ops.events", "--object", obj.uri, ok=False)
    assert "DuplicateReplayError" in out and "would add those rows a second time" in out
    assert f"{obj.uri} (3 rows" in out and "--allow-duplicates" in out
    assert sorted(r["id"] for r in lake.read_curated("ops.events")) == [1, 2, 3]

    out = lakeport("replay", "ops.events", "--object", obj.uri, "--allow-duplicates", "--output", "json")
    assert [(f["state"], f["written"]) for f in json.loads(out)] == [("SUCCEEDED", 3)]
    assert sorted(r["id"] for r in lake.read_curated("ops.events")) == [1, 1, 2, 2, 3, 3]  # asked for, so done


def test_replay_by_state_and_time_ingests_a_failed_object_once(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    good = lake.put("sales/orders/good.csv", _orders(1, 2))
    lake.ingest("sales.orders", [good])
    between = datetime.now(timezone.utc).isoformat()
    broken = lake.put("sales/orders/broken.csv", _orders(10, 2))

    def fail(self: Ingestor, *args: Any) -> Any:
        raise LakeportError("injected: the run broke before its commit point")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ingestor, "_quarantine_rejected_files", fail)
        with pytest.raises(LakeportError):
            lake.ingest("sales.orders", [broken])
    assert ledger(lake).get(broken).state == "FAILED"  # type: ignore[union-attr]

    out = lakeport("replay", "sales.orders", "--state", "FAILED", "--since", between, "--output", "json")
    assert [(f["object"], f["state"], f["written"]) for f in json.loads(out)] == [(broken.uri, "SUCCEEDED", 2)]
    assert _ids(lake, "sales.orders") == [1, 2, 10, 11]
    # nothing FAILED is left, so the same replay has nothing to do; a window before everything is empty too
    assert "nothing to replay" in lakeport("replay", "sales.orders", "--state", "FAILED", ok=False)
    assert "nothing to replay" in lakeport("replay", "sales.orders", "--until", "2000-01-01T00:00:00Z", ok=False)
    assert "is not an ISO date" in lakeport("replay", "sales.orders", "--since", "yesterday", ok=False)


def test_replay_in_upsert_mode_is_idempotent(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("accounts")
    obj = lake.put_example("finance/accounts/accounts-2024-04-01.csv")
    lake.ingest("finance.accounts", [obj])
    before = sorted((r["account_id"], str(r["balance"])) for r in lake.read_curated("finance.accounts"))

    for _ in range(2):
        lakeport("replay", "finance.accounts", "--object", obj.uri)

    after = sorted((r["account_id"], str(r["balance"])) for r in lake.read_curated("finance.accounts"))
    assert after == before and len(after) == 5


def test_replay_run_finishes_a_run_stopped_after_its_commit_point(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/a.csv", _orders(1, 4))
    with pytest.MonkeyPatch.context() as patch:
        crash_once(FileLedger, "finish", patch)
        with pytest.raises(LakeportError, match="injected crash"):
            lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-stopped1")
    blocked = lake.put("sales/orders/b.csv", _orders(20, 1))
    out = lakeport("ingest", "sales.orders", blocked.uri, ok=False)
    assert "DatasetBusyError" in out and "lakeport replay sales.orders --run 20260601T000000Z-stopped1" in out

    out = lakeport("replay", "sales.orders", "--run", "20260601T000000Z-stopped1", "--output", "json")

    assert [(f["state"], f["written"]) for f in json.loads(out)] == [("SUCCEEDED", 4)]
    assert _ids(lake, "sales.orders") == [1, 2, 3, 4]
    lakeport("ingest", "sales.orders", blocked.uri)  # the dataset is free again
    assert _ids(lake, "sales.orders") == [1, 2, 3, 4, 20]


def test_quarantined_rows_are_reprocessed_once_after_a_contract_fix(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put_example("sales/orders/orders-2024-01-02.csv")
    first = lake.ingest("sales.orders", [obj])
    assert first.totals()["rows_quarantined"] == 5
    # the old form of the command still shows the rows; 'show' is the same
    shown = json.loads(lakeport("quarantine", "sales.orders", "--output", "json"))
    assert shown == json.loads(lakeport("quarantine", "show", "sales.orders", "--output", "json")) and len(shown) == 5

    # the fix: negative amounts (refunds) and the status LOST are valid after all
    fixed = (
        (EXAMPLES / "contracts" / "orders.yaml")
        .read_text()
        .replace("    - {range: {column: amount, min: 0}}\n", "")
        .replace("values: [NEW, PAID, SHIPPED, CANCELLED]", "values: [NEW, PAID, SHIPPED, CANCELLED, LOST]")
    )
    lake.apply(fixed)

    out = json.loads(lakeport("quarantine", "reprocess", "sales.orders", "--run", first.run_id, "--output", "json"))

    [row] = out
    assert (row["quarantine_run"], row["rows"], row["written"], row["quarantined_again"]) == (first.run_id, 5, 2, 3)
    again_run = row["new_run"]
    rows = {r["order_id"]: r for r in lake.read_curated("sales.orders")}
    assert sorted(rows) == [1001, 1002, 1003, 1004, 1005, 1007, 1009, 1010, 1011]
    assert str(rows[1004]["amount"]) == "-12.00" and rows[1009]["status"] == "LOST"
    assert rows[1004]["order_date"].isoformat() == "2024-01-02T10:00:00"  # "Order Date" text converted as before
    # what still fails is quarantined again, with its reason, under the new run
    still = json.loads(lakeport("quarantine", "sales.orders", "--run", again_run, "--output", "json"))
    reasons = " | ".join(r["lakeport_reason"] for r in still)
    assert len(still) == 3 and "2024-02-30" in reasons and "12.345" in reasons and "already in the table" in reasons
    # the object is in the artifacts bucket, not under the raw prefix the dispatcher watches
    record = ledger(lake).for_run(again_run)[0]
    assert record.bucket == lake.resources.artifacts_bucket and record.state == "SUCCEEDED"

    # reprocessing the same run again writes nothing
    twice = json.loads(lakeport("quarantine", "reprocess", "sales.orders", "--run", first.run_id, "--output", "json"))
    assert twice[0]["written"] == 0 and "already SUCCEEDED" in twice[0]["note"]
    assert len(lake.read_curated("sales.orders")) == 9
    # every run's rows at once: the first is done, the second's rows fail again (a third run holds them)
    everything = json.loads(lakeport("quarantine", "reprocess", "sales.orders", "--output", "json"))
    assert [r["quarantine_run"] for r in everything] == [first.run_id, again_run]
    assert everything[1]["quarantined_again"] == 3 and len(lake.read_curated("sales.orders")) == 9


def test_reprocess_leaves_rows_of_rejected_files_to_a_replay(lake, lakeport) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    bad = lake.put("sales/orders/bad.csv", HEADER + "1,2024-01-01 00:00:00,a,DE,-1.00,NEW\n2,x,b,DE,1.00,NEW\n")
    run = lake.ingest("sales.orders", [bad])
    assert run.files[0].state == "QUARANTINED"  # more bad rows than max_bad_ratio: the whole file

    out = lakeport("quarantine", "reprocess", "sales.orders")

    assert "left out; replay those files: lakeport replay sales.orders --state QUARANTINED" in out
    assert lake.read_curated("sales.orders") == []


def test_runs_of_one_second_are_reprocessed_in_the_order_they_started(lake) -> None:  # type: ignore[no-untyped-def]
    """Run ids carry the second they started and a random suffix: the suffix must not decide the order."""
    from lakeport.recovery import Recovery

    lake.apply_example("orders")
    late_suffix_first, early_suffix_second = "20240105T120000Z-ffffffff", "20240105T120000Z-00000000"
    for n, run_id in enumerate((late_suffix_first, early_suffix_second)):
        obj = lake.put(
            f"sales/orders/o{n}.csv",
            HEADER + f"{n + 1},2024-01-01 00:00:00,a,DE,-1.00,NEW\n" + _orders(10 * n + 100, 4)[len(HEADER) :],
        )
        assert lake.ingest("sales.orders", [obj], run_id=run_id).totals()["rows_quarantined"] == 1

    runs = Recovery(lake.aws, lake.resources, lake.ingestor).quarantine_runs("sales.orders")

    assert list(runs) == [late_suffix_first, early_suffix_second]
