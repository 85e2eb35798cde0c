"""The local stack runs the real ingest state machine: engine choice, Glue runs, retries, failures, events."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from typing import Any, Dict, List

import pytest

from lakeport.errors import DatasetBusyError, InputFileError
from lakeport.local.provision import provision

DATASET = "sales.orders"
THRESHOLD = 1000


class FakeJob:
    """Records every run's arguments; fails the way it is told to."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.calls: List[Dict[str, str]] = []
        self.seconds = seconds
        self.errors: List[Exception] = []
        self._lock = threading.Lock()

    def __call__(self, arguments: Dict[str, str]) -> None:
        with self._lock:
            self.calls.append(arguments)
            error = self.errors.pop(0) if self.errors else None
        if self.seconds:
            time.sleep(self.seconds)
        if error is not None:
            raise error


class FakeNotifier:
    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def __call__(self, event: Dict[str, Any], context: Any) -> Dict[str, str]:
        self.events.append(event)
        return {
            "subject": f"lakeport: {event['dataset']} run {event['run_id']} failed",
            "message": f"run {event['run_id']} failed: {event['error']['Cause']}",
        }


@pytest.fixture
def head_item(local_stack):  # type: ignore[no-untyped-def]
    local_stack.aws.client("dynamodb").put_item(
        TableName=local_stack.resources.datasets_table,
        Item={
            "dataset": {"S": DATASET},
            "version": {"N": "0"},
            "engine": {"S": "auto"},
            "spark_threshold_bytes": {"N": str(THRESHOLD)},
            "latest_version": {"N": "1"},
        },
    )


def execution_input(run_id: str = "r1", total_bytes: int = 10) -> str:
    return json.dumps(
        {
            "dataset": DATASET,
            "run_id": run_id,
            "manifest": f"s3://manifests/{run_id}/m.json",
            "total_bytes": total_bytes,
            "file_count": 1,
            "attempt": 0,
            "retry_wait_seconds": 1,
        }
    )


def start(stack: Any, run_id: str = "r1", total_bytes: int = 10) -> str:
    sfn = stack.aws.client("stepfunctions")
    answer = sfn.start_execution(
        stateMachineArn=stack.resources.state_machine_arn(),
        name=run_id,
        input=execution_input(run_id, total_bytes),
    )
    return str(answer["executionArn"])


def finish(stack: Any, execution_arn: str, timeout: float = 30.0) -> Dict[str, Any]:
    sfn = stack.aws.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: Dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError(f"{execution_arn} still running after {timeout} s")


def run_item(stack: Any, run_id: str) -> Dict[str, Any]:
    answer = stack.aws.client("dynamodb").get_item(
        TableName=stack.resources.runs_table, Key={"dataset": {"S": DATASET}, "run_id": {"S": run_id}}
    )
    return dict(answer.get("Item", {}))


@pytest.mark.usefixtures("head_item")
def test_small_input_runs_the_python_job_and_records_the_run(local_stack) -> None:  # type: ignore[no-untyped-def]
    python_job, spark_job = FakeJob(), FakeJob()
    local_stack.register_job("python", python_job)
    local_stack.register_job("spark", spark_job)

    execution_arn = start(local_stack, "r1", total_bytes=10)
    described = finish(local_stack, execution_arn)

    assert described["status"] == "SUCCEEDED"
    assert spark_job.calls == []
    [arguments] = python_job.calls
    assert arguments["--dataset"] == DATASET
    assert arguments["--run_id"] == "r1"
    assert arguments["--manifest"] == "s3://manifests/r1/m.json"
    assert arguments["--engine"] == "python"
    assert f"threshold {THRESHOLD}" in arguments["--engine_reason"]
    assert arguments["--execution_arn"] == execution_arn
    # the job's default arguments (tables, buckets) are merged in, as Glue does
    assert arguments["--datasets_table"] == local_stack.resources.datasets_table
    assert arguments["--curated_bucket"] == local_stack.resources.curated_bucket
    item = run_item(local_stack, "r1")
    assert item["execution_arn"]["S"] == execution_arn
    assert item["job_run_id"]["S"] == local_stack.glue.records()[0].run_id
    output = json.loads(described["output"])
    assert output["engine"]["name"] == "python"


@pytest.mark.usefixtures("head_item")
def test_input_at_the_threshold_runs_the_spark_job(local_stack) -> None:  # type: ignore[no-untyped-def]
    python_job, spark_job = FakeJob(), FakeJob()
    local_stack.register_job("python", python_job)
    local_stack.register_job("spark", spark_job)

    described = finish(local_stack, start(local_stack, "r-big", total_bytes=THRESHOLD))

    assert described["status"] == "SUCCEEDED"
    assert python_job.calls == []
    [arguments] = spark_job.calls
    assert arguments["--engine"] == "spark"
    assert ">=" in arguments["--engine_reason"]


@pytest.mark.usefixtures("head_item")
def test_terminal_job_failure_notifies_and_fails_the_execution(local_stack) -> None:  # type: ignore[no-untyped-def]
    aws = local_stack.aws
    alerts = aws.client("sqs").create_queue(QueueName="alerts-inbox")["QueueUrl"]
    alerts_arn = aws.client("sqs").get_queue_attributes(QueueUrl=alerts, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws.client("sns").subscribe(TopicArn=local_stack.resources.alerts_topic_arn(), Protocol="sqs", Endpoint=alerts_arn)
    job, notifier = FakeJob(), FakeNotifier()
    job.errors.append(InputFileError(DATASET, "sales/orders/a.csv", "the header has 3 columns, the contract 4"))
    local_stack.register_job("python", job)
    local_stack.set_notifier(notifier)

    described = finish(local_stack, start(local_stack, "r-bad"))

    assert described["status"] == "FAILED"
    assert len(job.calls) == 1, "a terminal error is not retried"
    [event] = notifier.events
    assert event["run_id"] == "r-bad"
    assert "InputFileError" in event["error"]["Cause"]
    messages = aws.client("sqs").receive_message(QueueUrl=alerts, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Subject"] == f"lakeport: {DATASET} run r-bad failed"
    assert "the header has 3 columns" in envelope["Message"]


@pytest.mark.usefixtures("head_item")
def test_transient_job_failures_are_retried_until_the_job_succeeds(local_stack) -> None:  # type: ignore[no-untyped-def]
    job, notifier = FakeJob(), FakeNotifier()
    job.errors += [
        DatasetBusyError(f"dataset {DATASET} is locked by run r0"),
        DatasetBusyError("still locked"),
    ]
    local_stack.register_job("python", job)
    local_stack.set_notifier(notifier)

    described = finish(local_stack, start(local_stack, "r-busy"))

    assert described["status"] == "SUCCEEDED"
    assert len(job.calls) == 3
    assert notifier.events == []
    assert json.loads(described["output"])["attempt"] == 2
    failed = [record for record in local_stack.glue.records() if record.state == "FAILED"]
    assert [record.error_message.startswith("[transient] DatasetBusyError") for record in failed] == [
        True,
        True,
    ]


@pytest.mark.usefixtures("head_item")
def test_glue_concurrency_limit_is_retried_until_both_runs_succeed(local_stack) -> None:  # type: ignore[no-untyped-def]
    provision(local_stack.aws, local_stack.resources, max_concurrent_runs=1)
    job = FakeJob(seconds=1.0)
    local_stack.register_job("python", job)

    first, second = start(local_stack, "r-a"), start(local_stack, "r-b")
    results = [finish(local_stack, first), finish(local_stack, second)]

    assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED"]
    assert sorted(call["--run_id"] for call in job.calls) == ["r-a", "r-b"]
    history = local_stack.aws.client("stepfunctions").get_execution_history(executionArn=second)["events"]
    history += local_stack.aws.client("stepfunctions").get_execution_history(executionArn=first)["events"]
    limited = [
        e
        for e in history
        if e["type"] == "TaskFailed" and e["taskFailedEventDetails"]["error"] == "Glue.ConcurrentRunsExceededException"
    ]
    assert limited, "one of the two executions hit the concurrency limit and was retried"


def test_object_put_in_the_raw_bucket_reaches_the_dispatcher(local_stack) -> None:  # type: ignore[no-untyped-def]
    received: List[Dict[str, Any]] = []
    done = threading.Event()

    def dispatcher(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        received.extend(event["Records"])
        done.set()
        return {"batchItemFailures": []}

    local_stack.set_dispatcher(dispatcher)
    key = "sales/orders/2024 01/orders+1.csv"
    local_stack.aws.client("s3").put_object(Bucket=local_stack.resources.raw_bucket, Key=key, Body=b"id\n1\n")

    assert done.wait(10), "the dispatcher was not called"
    local_stack.wait_idle(timeout=10)
    [record] = received
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == local_stack.provisioned.ingest_queue_arn
    detail = json.loads(record["body"])["detail"]
    assert detail["bucket"]["name"] == local_stack.resources.raw_bucket
    assert urllib.parse.unquote_plus(detail["object"]["key"]) == key
