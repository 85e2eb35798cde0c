"""The queue poller delivers batches the way Lambda's SQS event source mapping does."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, Dict, List

from lakeport.local.sqs_poller import SqsPoller

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:dispatcher"


def make_queue(aws: Any, visibility_timeout: int = 1, max_receive_count: int = 5) -> Dict[str, str]:
    sqs = aws.client("sqs")
    dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
    url = sqs.create_queue(
        QueueName="ingest",
        Attributes={"VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"url": url, "arn": arn, "dlq": dlq}


def send(aws: Any, url: str, bodies: List[str]) -> None:
    sqs = aws.client("sqs")
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def depth(aws: Any, url: str) -> int:
    counts = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])


def eventually(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.05)


def poller(aws: Any, queue: Dict[str, str], handler: Any, **kwargs: Any) -> SqsPoller:
    return SqsPoller(aws.client("sqs"), queue["url"], queue["arn"], "us-east-1", FUNCTION, lambda: handler, **kwargs)


def test_messages_arrive_in_batches_and_are_deleted_when_handled(aws) -> None:  # type: ignore[no-untyped-def]
    queue = make_queue(aws)
    batches: List[List[Dict[str, Any]]] = []
    send(aws, queue["url"], [f"m{i}" for i in range(25)])

    def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        batches.append(event["Records"])
        return {"batchItemFailures": []}

    with_poller = poller(aws, queue, handler, batch_size=100, batching_window_seconds=0.3).start()
    try:
        eventually(lambda: sum(len(b) for b in batches) == 25)
        eventually(lambda: depth(aws, queue["url"]) == 0)
    finally:
        with_poller.stop()

    assert len(batches) == 1, "25 messages fit one batch of up to 100"
    assert sorted(r["body"] for r in batches[0]) == sorted(f"m{i}" for i in range(25))
    assert {r["eventSource"] for r in batches[0]} == {"aws:sqs"}


def test_reported_failures_come_back_after_the_visibility_timeout(aws) -> None:  # type: ignore[no-untyped-def]
    queue = make_queue(aws, visibility_timeout=1)
    seen: List[str] = []
    lock = threading.Lock()
    send(aws, queue["url"], ["ok", "retry-me"])

    def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        failures = []
        with lock:
            for record in event["Records"]:
                first_time = record["body"] not in seen
                seen.append(record["body"])
                if record["body"] == "retry-me" and first_time:
                    failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    running = poller(aws, queue, handler, batching_window_seconds=0.2).start()
    try:
        eventually(lambda: seen.count("retry-me") == 2)
        eventually(lambda: depth(aws, queue["url"]) == 0)
    finally:
        running.stop()

    assert seen.count("ok") == 1
    assert seen.count("retry-me") == 2


def test_a_raising_handler_leaves_the_batch_and_it_ends_in_the_dead_letter_queue(aws) -> None:  # type: ignore[no-untyped-def]
    queue = make_queue(aws, visibility_timeout=1, max_receive_count=2)
    attempts: List[int] = []
    send(aws, queue["url"], ["poison"])

    def handler(event: Dict[str, Any], context: Any) -> None:
        attempts.append(len(event["Records"]))
        raise RuntimeError("the dispatcher crashed")

    running = poller(aws, queue, handler, batching_window_seconds=0).start()
    try:
        eventually(lambda: depth(aws, queue["dlq"]) == 1)
    finally:
        running.stop()

    assert len(attempts) == 2
    assert depth(aws, queue["url"]) == 0
