"""Failures, duplicates, limits and strays on the real path: caught, recorded, alerted, never doubled."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Dict

import pytest
from typer.testing import CliRunner

from lakeport.cli.main import app
from lakeport.local import lambdas
from lakeport.local.pipeline import python_job_entry
from lakeport.local.provision import provision

from .flow import EXAMPLES, Flow


def _replace_job_arguments(flow: Flow, arguments: Dict[str, str]) -> Dict[str, str]:
    """Give the Python-shell job other default arguments; returns the ones it had."""
    glue = flow.aws.client("glue")
    job = glue.get_job(JobName=flow.resources.python_job_name)["Job"]
    kept = ("Role", "Command", "ExecutionProperty", "MaxRetries", "Timeout", "MaxCapacity")
    glue.delete_job(JobName=job["Name"])  # the emulator has no UpdateJob
    glue.create_job(Name=job["Name"], DefaultArguments=arguments, **{k: job[k] for k in kept if k in job})
    return dict(job["DefaultArguments"])


def _drop_default_argument(flow: Flow, name: str) -> Dict[str, str]:
    """Break the Python-shell job the way a bad deployment would: a default argument goes missing."""
    job = flow.aws.client("glue").get_job(JobName=flow.resources.python_job_name)["Job"]
    return _replace_job_arguments(flow, {k: v for k, v in job["DefaultArguments"].items() if k != name})


def _restore_job(flow: Flow, arguments: Dict[str, str]) -> None:
    _replace_job_arguments(flow, arguments)


def test_a_terminal_job_failure_is_caught_recorded_in_both_ledgers_and_alerted(flow: Flow) -> None:
    inbox = flow.alerts_inbox()
    flow.apply_example("orders")
    arguments = _drop_default_argument(flow, "--curated_bucket")
    obj = flow.put_example("sales/orders/orders-2024-01-02.csv")

    flow.wait()

    [execution] = flow.executions()
    assert execution["status"] == "FAILED"
    history = flow.history(execution["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[-3:] == ["RecordFailure", "Notify", "Failed"]
    assert entered.count("RunPythonJob") == 1, "a terminal error is not retried"
    [run] = flow.run_records("sales.orders")
    assert run.state == "FAILED" and run.execution_arn == execution["executionArn"]
    assert "ConfigurationError: the job lacks the argument(s) --curated_bucket" in (run.error or "")
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.run_id) == ("FAILED", run.run_id)
    assert "--curated_bucket" in (record.reason or "")

    [alert] = flow.alerts(inbox)
    assert alert["Subject"] == f"lakeport: sales.orders run {run.run_id} failed (ConfigurationError)"
    assert len(alert["Subject"]) < 100
    text = alert["Message"]
    assert "the job lacks the argument(s) --curated_bucket" in text
    assert obj.uri in text and execution["executionArn"] in text
    assert "lakeport runs sales.orders" in text
    assert f"replay: lakeport replay sales.orders --run {run.run_id}" in text
    assert f"or: lakeport ingest sales.orders {obj.uri}" in text
    assert "files marked FAILED: 1" in text

    # once the job is whole again, the replay the alert proposes ingests the FAILED file
    _restore_job(flow, arguments)
    result = CliRunner().invoke(
        app, ["--endpoint-url", flow.stack.endpoint_url, "replay", "sales.orders", "--run", run.run_id]
    )
    assert result.exit_code == 0, result.output
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.run_id, record.rows_written) == ("SUCCEEDED", run.run_id, 7)
    assert flow.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 7


def test_the_same_event_delivered_five_times_starts_one_execution_and_ingests_once(flow: Flow) -> None:
    flow.apply_example("orders")
    dispatcher = flow.resources.dispatcher_function_name()
    lambdas.unregister_lambda(dispatcher)  # hold the queue while the copies are made
    obj = flow.put_example("sales/orders/orders-2024-01-02.csv")
    flow.wait_for_queue(1)
    sqs = flow.aws.client("sqs")
    queue = flow.stack.provisioned.ingest_queue_url  # type: ignore[union-attr]
    [message] = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"]
    body = message["Body"]

    sqs.send_message(QueueUrl=queue, MessageBody=body)  # two copies in the first batch
    flow.stack.set_dispatcher(flow.dispatcher.handle)
    flow.wait_for_queue(0)
    sqs.send_message(QueueUrl=queue, MessageBody=body)  # a third while the run may still be going
    flow.wait_for_queue(0)
    flow.wait()
    sqs.send_message(QueueUrl=queue, MessageBody=body)  # two more after it finished
    sqs.send_message(QueueUrl=queue, MessageBody=body)
    flow.wait()

    [execution] = flow.executions()
    assert execution["status"] == "SUCCEEDED"
    [run] = flow.run_records()
    assert run.execution_arn == execution["executionArn"] and run.attempts == 1
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.run_id, record.rows_written) == (
        "SUCCEEDED",
        run.run_id,
        7,
    )
    assert len(flow.ledger_items()) == 1
    assert flow.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 7


def test_hitting_the_glue_concurrency_limit_is_retried_until_every_run_succeeds(flow: Flow) -> None:
    provision(flow.aws, flow.resources, max_concurrent_runs=1)
    real_job = python_job_entry(flow.aws)

    def slow_job(arguments: Dict[str, str]) -> None:
        time.sleep(1.5)  # long enough for the second execution to ask Glue while the first runs
        real_job(arguments)

    flow.stack.register_job("python", slow_job)
    flow.apply_example("orders")
    flow.apply_example("readings")
    flow.put_example("sales/orders/orders-2024-01-02.csv")
    flow.put_example("iot/readings/plant-a-2024-03-01.jsonl.gz")

    flow.wait(timeout=90)

    executions = flow.executions()
    assert len(executions) == 2 and {e["status"] for e in executions} == {"SUCCEEDED"}
    limited = [
        event
        for execution in executions
        for event in flow.history(execution["executionArn"])
        if event["type"] == "TaskFailed"
        and event["taskFailedEventDetails"]["error"] == "Glue.ConcurrentRunsExceededException"
    ]
    assert limited, "one execution hit the concurrency limit and was retried"
    runs = flow.run_records()
    assert sorted((r.dataset, r.state, r.rows_written) for r in runs) == [
        ("iot.readings", "SUCCEEDED", 235),
        ("sales.orders", "SUCCEEDED", 7),
    ]


def test_files_landed_while_a_long_run_holds_the_only_job_slot_all_succeed(flow: Flow) -> None:
    """Capacity never fails a file: 20 datasets land while a long run holds the job (MaxConcurrentRuns 1).

    Each of their executions is refused by Glue again and again until the slot frees; none may end
    FAILED and none may need a hand-run ingest.
    """
    provision(flow.aws, flow.resources, max_concurrent_runs=1)
    real_job = python_job_entry(flow.aws)
    holding = threading.Event()

    def job(arguments: Dict[str, str]) -> None:
        if arguments["--dataset"] == "sales.orders":
            holding.set()
            time.sleep(8)  # the long run: every other run asks Glue while it holds the slot
        real_job(arguments)

    flow.stack.register_job("python", job)
    flow.apply_example("orders")
    template = (EXAMPLES / "contracts" / "orders.yaml").read_text(encoding="utf-8")
    datasets = [f"shop{n:02}.orders" for n in range(20)]
    for dataset in datasets:
        flow.apply(
            template.replace("dataset: sales.orders", f"dataset: {dataset}").replace(
                "prefix: sales/orders/", f"prefix: {dataset.replace('.', '/')}/"
            )
        )
    body = (EXAMPLES / "raw" / "sales" / "orders" / "orders-2024-01-02.csv").read_bytes()
    flow.put("sales/orders/orders-2024-01-02.csv", body)
    assert holding.wait(30), "the long run did not start"
    for dataset in datasets:
        flow.put(f"{dataset.replace('.', '/')}/orders-2024-01-02.csv", body)

    flow.wait(timeout=300)

    executions = flow.executions()
    assert len(executions) == 21 and {e["status"] for e in executions} == {"SUCCEEDED"}
    refused = sum(
        1
        for execution in executions
        for event in flow.history(execution["executionArn"])
        if event["type"] == "TaskFailed"
        and event["taskFailedEventDetails"]["error"] == "Glue.ConcurrentRunsExceededException"
    )
    assert refused >= 20, "every file but the first waited for the slot"
    runs = flow.run_records()
    assert sorted(r.dataset for r in runs) == sorted(["sales.orders", *datasets])
    assert {(r.state, r.rows_written) for r in runs} == {("SUCCEEDED", 7)}


def test_a_key_matching_no_dataset_is_reported_and_starts_nothing(flow: Flow, caplog: pytest.LogCaptureFixture) -> None:
    flow.apply_example("orders")
    caplog.set_level(logging.WARNING, logger="lakeport.dispatcher")

    flow.put("marketing/campaigns/2024.csv", "id\n1\n")
    flow.put("sales/orders/", b"")  # a folder marker: not data, ignored quietly
    flow.wait()

    assert flow.executions() == []
    assert flow.run_records() == []
    assert flow.ledger_items() == []
    assert flow.queue_depth() == 0, "the message is done: retrying would not change the answer"
    key = f"s3://{flow.resources.raw_bucket}/marketing/campaigns/2024.csv"
    warnings = [r.getMessage() for r in caplog.records if r.name == "lakeport.dispatcher"]
    assert any(key in w and "no dataset contract" in w for w in warnings), warnings
    assert not any("sales/orders/" in w for w in warnings)
    assert flow.metric_sum("UnmatchedObjects") == 1


def test_a_malformed_message_is_reported_as_a_batch_item_failure(flow: Flow) -> None:
    records = [
        {"messageId": "good", "body": json.dumps({"Event": "s3:TestEvent"})},
        {"messageId": "bad", "body": "not json"},
    ]
    assert flow.dispatcher.handle({"Records": records}) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_a_run_whose_files_are_all_rejected_fails_its_execution_and_is_alerted(flow: Flow) -> None:
    inbox = flow.alerts_inbox()
    flow.apply_example("orders")
    body = "order_id,Order Date,country,amount,status\n2,2024-01-01 00:00:00,FR,1.00,NEW\n"  # no customer
    obj = flow.put("sales/orders/no-customer.csv", body)

    flow.wait()

    [execution] = flow.executions()
    assert execution["status"] == "FAILED"
    history = flow.history(execution["executionArn"])
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
    assert entered[-4:] == ["AnyFileRejected", "NotifyRejected", "RejectedOrPartial", "Rejected"]
    [failed] = [e for e in history if e["type"] == "ExecutionFailed"]
    assert failed["executionFailedEventDetails"]["error"] == "RunRejected"
    [run] = flow.run_records("sales.orders")
    assert (run.state, run.files_rejected, run.bytes_rejected) == ("REJECTED", 1, len(body))
    record = flow.file_record(obj)
    assert record is not None and record.state == "QUARANTINED"

    [alert] = flow.alerts(inbox)
    assert alert["Subject"] == "lakeport: a run of sales.orders ended REJECTED"
    text = alert["Message"]
    assert f"Run {run.run_id} of sales.orders ended REJECTED: 1 of 1 file(s) were rejected as a whole" in text
    assert obj.uri in text and "the header lacks required column(s) 'customer'" in text
    assert "lakeport ingest sales.orders <uri> --force" in text and execution["executionArn"] in text
