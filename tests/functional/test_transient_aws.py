"""Throttling and 5xx answers from S3, DynamoDB and Glue, injected in front of the emulator with
botocore's ``before-send`` event: retried with backoff and jitter until the run succeeds, or — when
they never stop — a FAILED run with the reason, after a bounded number of attempts.

Curated Parquet is written through Arrow's S3 filesystem (the C++ SDK with its standard retry
strategy, see ``AwsContext.s3_filesystem``), which botocore events cannot reach; the raw reads, the
rejected-file copies, the ledgers and the catalog all go through botocore and are covered here.

The SDK's backoff is measured, not slept: the real jittered delay is recorded and a zero delay is
used instead, so the tests stay fast and the bound on attempts and on waiting is exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, List

import pytest
from botocore.awsrequest import AWSResponse
from botocore.retries import standard

from lakeport.aws import RETRY_CONFIG
from lakeport.errors import AwsTransientError, TransientError

from .faults import ledger

HEADER = "order_id,Order Date,customer,country,amount,status\n"
ORDERS = HEADER + "".join(f"{i},2024-05-0{1 + i % 2} 10:00:00,C{i},DE,{i}.00,NEW\n" for i in range(1, 9))
# botocore reads retries["max_attempts"] as retries after the first request
MAX_ATTEMPTS = RETRY_CONFIG.retries.get("total_max_attempts") or RETRY_CONFIG.retries["max_attempts"] + 1


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **kwargs: Any) -> Any:
        yield self._data


@dataclass
class Fault:
    """An error answer for one service operation: the first ``times`` calls get it (-1: every call)."""

    service: str
    operation: str
    status: int
    code: str
    times: int
    sent: int = 0
    calls: int = 0

    def response(self, url: str) -> AWSResponse:
        if self.service == "s3":
            body = f"<?xml version='1.0'?><Error><Code>{self.code}</Code><Message>injected</Message></Error>"
            headers = {"Content-Type": "application/xml"}
        else:
            prefix = "com.amazonaws.dynamodb.v20120810#" if self.service == "dynamodb" else ""
            body = json.dumps({"__type": prefix + self.code, "message": "injected"})
            headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": self.code}
        return AWSResponse(url, self.status, headers, _Body(body.encode()))

    def before_send(self, request: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.times < 0 or self.sent < self.times:
            self.sent += 1
            return self.response(request.url)
        return None


@dataclass
class Backoff:
    """The delays the SDK chose (attempt number, delay); it waits none of them here."""

    delays: List[Any] = field(default_factory=list)

    def install(self, monkeypatch: Any) -> None:
        original = standard.ExponentialBackoff.delay_amount

        def delay_amount(backoff: Any, context: Any) -> float:
            self.delays.append((context.attempt_number, original(backoff, context), backoff._get_base_scale(context)))
            return 0.0

        monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", delay_amount)


@pytest.fixture
def inject(lake):  # type: ignore[no-untyped-def]
    """Register faults on the run's clients; they are removed after the test (clients are shared)."""
    registered: List[Any] = []

    def add(fault: Fault) -> None:
        client = lake.aws.client(fault.service)
        event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{fault.operation}"
        client.meta.events.register(event, fault.before_send)
        registered.append((client, event, fault.before_send))

    yield add
    for client, event, handler in registered:
        client.meta.events.unregister(event, handler)


TRANSIENT = [
    Fault("s3", "GetObject", 503, "SlowDown", 3),
    Fault("s3", "GetObject", 500, "InternalError", 2),
    Fault("dynamodb", "UpdateItem", 400, "ThrottlingException", 4),
    Fault("dynamodb", "UpdateItem", 400, "ProvisionedThroughputExceededException", 3),
    Fault("dynamodb", "GetItem", 500, "InternalServerError", 2),
    Fault("glue", "UpdateTable", 400, "ThrottlingException", 3),  # the Iceberg commit
    Fault("glue", "GetTable", 500, "InternalServiceException", 2),
]


@pytest.mark.parametrize("fault", TRANSIENT, ids=[f"{f.service}-{f.operation}-{f.code}" for f in TRANSIENT])
def test_throttling_and_5xx_are_retried_with_backoff_and_the_run_succeeds(
    lake, monkeypatch, inject, fault: Fault
) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/flaky.csv", ORDERS)
    backoff = Backoff()
    backoff.install(monkeypatch)
    inject(fault)

    summary = lake.ingest("sales.orders", [obj])

    assert summary.state == "SUCCEEDED" and summary.totals()["rows_written"] == 8
    assert fault.sent == fault.times and fault.calls > fault.times  # every error answer was retried
    assert sorted(r["order_id"] for r in lake.read_curated("sales.orders")) == list(range(1, 9))
    record = ledger(lake).get(obj)
    assert record is not None and (record.state, record.rows_written) == ("SUCCEEDED", 8)
    # backoff: one delay per retry, each a random fraction of base * 2^(attempt-1), capped
    assert len(backoff.delays) >= fault.times
    for attempt, delay, base in backoff.delays:
        assert 0 <= delay <= min(base * 2 ** (attempt - 1), standard.ExponentialBackoff._MAX_BACKOFF)
    if fault.code in ("SlowDown", "ThrottlingException", "ProvisionedThroughputExceededException"):
        assert all(base == 1 for _, _, base in backoff.delays[: fault.times])  # throttling backs off longer


def _worst_case_wait(max_attempts: int, base: float) -> float:
    cap = standard.ExponentialBackoff._MAX_BACKOFF
    return sum(min(base * 2 ** (attempt - 1), cap) for attempt in range(1, max_attempts))


def test_an_error_that_never_goes_away_ends_failed_with_the_reason_after_bounded_attempts(
    lake, monkeypatch, inject
) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/stuck.csv", ORDERS)
    backoff = Backoff()
    backoff.install(monkeypatch)
    fault = Fault("s3", "GetObject", 503, "SlowDown", -1)
    inject(fault)

    with pytest.raises(AwsTransientError, match="SlowDown") as caught:
        lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-stuck001")

    # bounded: exactly max_attempts requests, max_attempts - 1 waits, each within its cap
    assert fault.calls == MAX_ATTEMPTS == 9
    assert len(backoff.delays) == MAX_ATTEMPTS - 1
    assert sum(delay for _, delay, _ in backoff.delays) <= _worst_case_wait(MAX_ATTEMPTS, 1.0) == 91.0
    assert caught.value.transient
    run = lake.ingestor.runs.get("sales.orders", "20260601T000000Z-stuck001")
    assert run is not None and run.state == "FAILED"
    assert "AwsTransientError" in (run.error or "") and "SlowDown" in (run.error or "") and obj.uri in (run.error or "")
    # nothing became visible; the claim stays with the run so the state machine's retry can go on
    assert lake.read_curated("sales.orders") == []
    record = ledger(lake).get(obj)
    assert record is not None and (record.state, record.run_id) == ("CLAIMED", "20260601T000000Z-stuck001")

    # once the cause goes away, the retry of the same run succeeds
    fault.times = fault.sent  # the cause goes away
    retry = lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-stuck001")
    assert retry.state == "SUCCEEDED" and retry.totals()["rows_written"] == 8


def test_a_glue_error_that_never_goes_away_after_the_commit_point_keeps_the_run_retryable(
    lake, monkeypatch, inject
) -> None:  # type: ignore[no-untyped-def]
    lake.apply_example("orders")
    obj = lake.put("sales/orders/stuck.csv", ORDERS)
    Backoff().install(monkeypatch)
    fault = Fault("glue", "UpdateTable", 400, "ThrottlingException", -1)  # the Iceberg commit
    inject(fault)

    with pytest.raises(TransientError, match="ThrottlingException") as caught:
        lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-stuck002")

    assert fault.calls == MAX_ATTEMPTS  # one call, its SDK retries, then the error
    assert caught.value.code == "CommitIncompleteError" and caught.value.transient
    run = lake.ingestor.runs.get("sales.orders", "20260601T000000Z-stuck002")
    assert run is not None and run.state == "FAILED" and "ThrottlingException" in (run.error or "")
    fault.times = fault.sent
    retry = lake.ingest("sales.orders", [obj], run_id="20260601T000000Z-stuck002")
    assert retry.state == "SUCCEEDED"
    assert sorted(r["order_id"] for r in lake.read_curated("sales.orders")) == list(range(1, 9))
