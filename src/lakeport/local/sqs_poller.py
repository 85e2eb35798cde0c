"""Feed an SQS queue to a Lambda handler in-process, the way Lambda's SQS event source mapping does.

The poller receives up to ``batch_size`` messages (gathering for at most ``batching_window_seconds``),
calls the handler with the event Lambda would deliver (``{"Records": [...]}`` with
``"eventSource": "aws:sqs"``), then deletes the messages that succeeded. With
``ReportBatchItemFailures`` semantics, the messages listed in the answer's ``batchItemFailures`` stay
in the queue and come back after the visibility timeout; if the handler raises, or answers with an
item identifier that is not in the batch, the whole batch stays. After ``maxReceiveCount`` receives
the queue's redrive policy moves a message to the dead-letter queue.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Set

from lakeport.local.lambdas import LambdaHandler, LocalLambdaContext, function_name_of

_log = logging.getLogger(__name__)
SQS_RECEIVE_MAX = 10
SQS_DELETE_MAX = 10


def _lambda_message_attributes(attributes: Dict[str, Any]) -> Dict[str, Any]:
    converted: Dict[str, Any] = {}
    for name, value in attributes.items():
        entry: Dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            entry["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[name] = entry
    return converted


def sqs_record(message: Dict[str, Any], queue_arn: str, region: str) -> Dict[str, Any]:
    """One ``Records`` entry of the Lambda SQS event for a ``ReceiveMessage`` message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(response: Any, batch_ids: Set[str]) -> Set[str]:
    """The message ids to keep, from a handler's answer (``batchItemFailures``), as Lambda reads it."""
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return set(batch_ids)
    keep: Set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in batch_ids:
            _log.warning("batchItemFailures names %r, which is not in the batch: the whole batch fails", item)
            return set(batch_ids)
        keep.add(identifier)
    return keep


class SqsPoller:
    """Poll one queue and hand its messages to the handler returned by ``handler_source``."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        region: str,
        function_arn: str,
        handler_source: Callable[[], Optional[LambdaHandler]],
        *,
        batch_size: int = 100,
        batching_window_seconds: float = 0.5,
        idle_seconds: float = 0.1,
        function_timeout_seconds: float = 60.0,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.region = region
        self.function_arn = function_arn
        self.function_name = function_name_of(function_arn)
        self.handler_source = handler_source
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self.idle_seconds = idle_seconds
        self.function_timeout_seconds = function_timeout_seconds
        self.batches = 0
        self._busy = threading.Event()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> SqsPoller:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._loop, name=f"sqs-{self.function_name}", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout)
            self._thread = None

    def busy(self) -> bool:
        """True while a batch is being gathered or handled."""
        return self._busy.is_set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            handler = self.handler_source()
            handled = False
            if handler is not None:
                try:
                    handled = self.poll_once(handler)
                except Exception:
                    _log.exception("polling %s for %s failed", self.queue_url, self.function_name)
            if not handled:
                self._stopping.wait(self.idle_seconds)

    def _receive(self, count: int) -> List[Dict[str, Any]]:
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(SQS_RECEIVE_MAX, count),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages", []))

    def _gather(self) -> List[Dict[str, Any]]:
        batch = self._receive(self.batch_size)
        if not batch:
            return batch
        deadline = time.monotonic() + self.batching_window_seconds
        while len(batch) < self.batch_size and not self._stopping.is_set():
            more = self._receive(self.batch_size - len(batch))
            batch.extend(more)
            if time.monotonic() >= deadline:
                break
            if not more:
                self._stopping.wait(min(self.idle_seconds, max(0.0, deadline - time.monotonic())))
        return batch

    def poll_once(self, handler: LambdaHandler) -> bool:
        """Receive one batch, hand it over, delete what succeeded; False when the queue was empty."""
        self._busy.set()
        try:
            messages = self._gather()
            if not messages:
                return False
            self.batches += 1
            event = {"Records": [sqs_record(m, self.queue_arn, self.region) for m in messages]}
            ids = {m["MessageId"] for m in messages}
            context = LocalLambdaContext(
                function_name=self.function_name,
                invoked_function_arn=self.function_arn,
                timeout_seconds=self.function_timeout_seconds,
            )
            try:
                response = handler(event, context)
            except Exception as exc:
                _log.warning(
                    "%s raised %s: %s; its %d message(s) return after the visibility timeout",
                    self.function_name,
                    type(exc).__name__,
                    exc,
                    len(messages),
                )
                return True
            keep = failed_message_ids(response, ids)
            self._delete([m for m in messages if m["MessageId"] not in keep])
            return True
        finally:
            self._busy.clear()

    def _delete(self, messages: List[Dict[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_DELETE_MAX):
            chunk = messages[start : start + SQS_DELETE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            answer = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in answer.get("Failed", []):
                _log.warning("could not delete a handled message from %s: %s", self.queue_url, failure)


__all__ = ["SqsPoller", "failed_message_ids", "sqs_record"]
