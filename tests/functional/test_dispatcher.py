"""The dispatcher against the emulator: what it starts, and what it leaves alone, when claims already exist."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict

import pytest

from lakeport.contract import load_contract_file
from lakeport.ledger.files import FileLedger, SourceObject
from lakeport.ledger.runs import RunLedger, RunRecord
from lakeport.manifest import read_manifest
from lakeport.orchestration.dispatcher import Dispatcher, dispatch_run_id
from lakeport.registry import ContractRegistry
from lakeport.s3objects import head_object

from .lake import EXAMPLES

DATASET = "sales.orders"
WHEN = datetime(2024, 6, 1, 12, 0, 5, tzinfo=timezone.utc)


@pytest.fixture
def dispatcher(local_stack):  # type: ignore[no-untyped-def]
    """A dispatcher on a provisioned stack that consumes nothing itself (no handler is registered)."""
    ddb = local_stack.aws.client("dynamodb")
    ContractRegistry(ddb, local_stack.resources.datasets_table).apply(
        load_contract_file(EXAMPLES / "contracts" / "orders.yaml"), applied_by="test"
    )
    return Dispatcher(local_stack.aws, local_stack.resources, retry_wait_seconds=1, publish_metrics=False)


def put(dispatcher: Dispatcher, key: str) -> SourceObject:
    s3 = dispatcher.aws.client("s3")
    body = (EXAMPLES / "raw" / "sales" / "orders" / "orders-2024-01-02.csv").read_bytes()
    s3.put_object(Bucket=dispatcher.resources.raw_bucket, Key=key, Body=body)
    return head_object(s3, dispatcher.resources.raw_bucket, key)


def event(obj: SourceObject, message_id: str = "m1") -> Dict[str, Any]:
    body = {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "time": WHEN.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "detail": {
            "bucket": {"name": obj.bucket},
            "object": {"key": obj.key, "size": obj.size, "etag": obj.etag, "version-id": obj.version_id},
        },
    }
    return {"messageId": message_id, "body": json.dumps(body)}


def ledgers(dispatcher: Dispatcher) -> tuple:
    ddb = dispatcher.aws.client("dynamodb")
    return FileLedger(ddb, dispatcher.resources.files_table), RunLedger(ddb, dispatcher.resources.runs_table)


def test_a_new_object_is_claimed_and_started_with_its_manifest(dispatcher: Dispatcher) -> None:
    obj = put(dispatcher, "sales/orders/a.csv")

    report = dispatcher.dispatch([event(obj)])

    [started] = report.started
    assert started.run_id == dispatch_run_id(DATASET, [obj], WHEN) and started.new
    files, _ = ledgers(dispatcher)
    record = files.get(obj)
    assert record is not None and (record.state, record.run_id) == ("CLAIMED", started.run_id)
    manifest = read_manifest(
        dispatcher.aws.client("s3"),
        f"s3://{dispatcher.resources.artifacts_bucket}/manifests/{DATASET}/{started.run_id}.json",
    )
    assert [o.uri for o in manifest.objects] == [obj.uri]
    described = dispatcher.aws.client("stepfunctions").describe_execution(executionArn=started.execution_arn)
    state_input = json.loads(described["input"])
    assert state_input == {
        "attempt": 0,
        "dataset": DATASET,
        "file_count": 1,
        "manifest": f"s3://{dispatcher.resources.artifacts_bucket}/manifests/{DATASET}/{started.run_id}.json",
        "retry_wait_seconds": 1,
        "run_id": started.run_id,
        "total_bytes": obj.size,
    }


def test_a_claim_whose_execution_never_started_is_started_under_that_run(dispatcher: Dispatcher) -> None:
    obj = put(dispatcher, "sales/orders/a.csv")
    files, _ = ledgers(dispatcher)
    orphan = "20240601T115959Z-00000000deadbeef"
    files.claim(obj, DATASET, orphan)  # the dispatcher died between its claim and StartExecution

    report = dispatcher.dispatch([event(obj)])

    assert [(s.run_id, s.files) for s in report.started] == [(orphan, 1)]


def test_a_claim_held_by_a_command_line_run_is_left_to_it(dispatcher: Dispatcher) -> None:
    obj = put(dispatcher, "sales/orders/a.csv")
    files, runs = ledgers(dispatcher)
    runs.start(RunRecord(dataset=DATASET, run_id="20240601T115959Z-cli00001"))
    files.claim(obj, DATASET, "20240601T115959Z-cli00001")

    report = dispatcher.dispatch([event(obj)])

    assert report.started == []
    assert report.skipped == [f"{obj.uri}: being ingested by run 20240601T115959Z-cli00001"]


def test_a_failed_object_waits_for_a_person_to_replay_it(dispatcher: Dispatcher) -> None:
    obj = put(dispatcher, "sales/orders/a.csv")
    files, _ = ledgers(dispatcher)
    files.claim(obj, DATASET, "r-failed")
    files.finish(obj, "r-failed", "FAILED", 0, 0, 0, 0, reason="InputFileError: broken")

    report = dispatcher.dispatch([event(obj)])

    assert report.started == [] and report.skipped == [f"{obj.uri}: FAILED in run r-failed"]


def test_several_objects_of_a_dataset_in_a_batch_make_one_run(dispatcher: Dispatcher) -> None:
    objects = [put(dispatcher, f"sales/orders/{name}.csv") for name in ("a", "b", "c")]

    report = dispatcher.dispatch([event(o, f"m{i}") for i, o in enumerate(objects)])

    [started] = report.started
    assert started.files == 3 and started.total_bytes == sum(o.size for o in objects)
    assert report.response() == {"batchItemFailures": []}
