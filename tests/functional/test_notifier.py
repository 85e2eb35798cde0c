"""The notifier records a failed run in both ledgers and writes the alert, against the emulator."""

from __future__ import annotations

import json

from lakeport.ledger.files import FileLedger
from lakeport.manifest import Manifest, write_manifest
from lakeport.orchestration.notifier import Notifier

from .lake import Lake

RUN = "20240601T120005Z-0123456789abcdef"


def payload(lake: Lake, manifest: str) -> dict:
    cause = {
        "Id": "jr_1",
        "JobName": lake.resources.python_job_name,
        "JobRunState": "FAILED",
        "ErrorMessage": "InputFileError: dataset sales.orders: s3://raw/a.csv: the header has 3 columns",
    }
    return {
        "dataset": "sales.orders",
        "run_id": RUN,
        "manifest": manifest,
        "error": {"Error": "States.TaskFailed", "Cause": json.dumps(cause)},
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:ingest:{RUN}",
    }


def test_the_runs_claims_are_marked_failed_and_other_runs_objects_are_left_alone(lake: Lake) -> None:
    mine = lake.put("sales/orders/a.csv", "order_id\n1\n")
    done_elsewhere = lake.put("sales/orders/b.csv", "order_id\n2\n")
    files = FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table)
    files.claim(mine, "sales.orders", RUN)
    files.claim(done_elsewhere, "sales.orders", "r-other")
    files.finish(done_elsewhere, "r-other", "SUCCEEDED", 1, 1, 0, 0)
    manifest = write_manifest(
        lake.aws.client("s3"), lake.resources.artifacts_bucket, Manifest("sales.orders", RUN, [mine, done_elsewhere])
    )

    alert = Notifier(lake.aws, lake.resources).handle(payload(lake, manifest))

    record = files.get(mine)
    assert record is not None and (record.state, record.run_id) == ("FAILED", RUN)
    assert "the header has 3 columns" in (record.reason or "")
    other = files.get(done_elsewhere)
    assert other is not None and (other.state, other.run_id) == ("SUCCEEDED", "r-other")
    [run] = lake.ingestor.runs.list("sales.orders")
    assert (run.run_id, run.state, run.files) == (RUN, "FAILED", 2)
    assert run.error is not None and run.error.startswith("InputFileError: dataset sales.orders")
    assert alert["subject"] == f"lakeport: sales.orders run {RUN} failed (InputFileError)"
    assert "files marked FAILED: 1" in alert["message"]
    assert f"left as they are: {done_elsewhere.uri} (SUCCEEDED by run r-other)" in alert["message"]


def test_a_run_past_its_commit_point_keeps_its_claims_and_the_alert_says_how_to_finish_it(lake: Lake) -> None:
    obj = lake.put("sales/orders/a.csv", "order_id\n1\n")
    files = FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table)
    files.claim(obj, "sales.orders", RUN)
    files.mark_committing(obj, RUN)
    manifest = write_manifest(
        lake.aws.client("s3"), lake.resources.artifacts_bucket, Manifest("sales.orders", RUN, [obj])
    )

    alert = Notifier(lake.aws, lake.resources).handle(payload(lake, manifest))

    record = files.get(obj)
    assert record is not None and (record.state, record.commit_run) == ("CLAIMED", RUN)
    assert "passed its commit point" in alert["message"]
    assert f"finish: lakeport replay sales.orders --run {RUN}" in alert["message"]
    assert f"aws glue start-job-run --job-name {lake.resources.python_job_name}" in alert["message"]
    assert f'"--run_id": "{RUN}"' in alert["message"]
    assert "replay:" not in alert["message"]
