"""One S3 event delivered 50 times — in bursts of one batch and from parallel dispatcher invocations —
through the real dispatcher, state machine and job: exactly one execution, one run, one ingestion."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

from lakeport.local import lambdas
from lakeport.orchestration.dispatcher import DispatchReport

from .flow import Flow

DELIVERIES = 50
BURSTS = 2  # batches of 10 copies, one after the other
PARALLEL = 2  # batches of 10 copies, dispatched at the same moment from two threads
# and the last 10 copies after the run has finished


def _records(body: str, start: int, count: int) -> List[Dict[str, Any]]:
    return [{"messageId": f"copy-{i:03d}", "body": body} for i in range(start, start + count)]


def test_one_event_delivered_fifty_times_starts_one_execution_and_ingests_once(flow: Flow) -> None:
    flow.apply_example("orders")
    lambdas.unregister_lambda(flow.resources.dispatcher_function_name())  # hold the queue: we deliver
    obj = flow.put_example("sales/orders/orders-2024-01-02.csv")
    flow.wait_for_queue(1)
    sqs = flow.aws.client("sqs")
    queue = flow.stack.provisioned.ingest_queue_url  # type: ignore[union-attr]
    [message] = sqs.receive_message(QueueUrl=queue, VisibilityTimeout=600)["Messages"]
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    body = message["Body"]
    assert json.loads(body)["detail"]["object"]["key"] == obj.key

    delivered = 0
    reports: List[DispatchReport] = []
    for _ in range(BURSTS):
        reports.append(flow.dispatcher.dispatch(_records(body, delivered, 10)))
        delivered += 10
    barrier = threading.Barrier(PARALLEL)

    def parallel(start: int) -> DispatchReport:
        barrier.wait()
        return flow.dispatcher.dispatch(_records(body, start, 10))

    with ThreadPoolExecutor(PARALLEL) as pool:
        reports += list(pool.map(parallel, [delivered + 10 * i for i in range(PARALLEL)]))
    delivered += 10 * PARALLEL
    flow.wait()
    # the rest after the run finished: the ledger answers, nothing starts
    late = flow.dispatcher.dispatch(_records(body, delivered, DELIVERIES - delivered))
    reports.append(late)
    delivered += DELIVERIES - delivered
    flow.wait()
    assert not late.started and len(late.skipped) >= 1

    assert delivered == DELIVERIES
    assert all(not r.failed_messages for r in reports)
    [execution] = flow.executions()
    assert execution["status"] == "SUCCEEDED"
    assert sum(1 for r in reports for s in r.started if s.new) == 1
    [run] = flow.run_records()
    assert run.state == "SUCCEEDED" and run.attempts == 1 and run.rows_written == 7
    record = flow.file_record(obj)
    assert record is not None and (record.state, record.run_id, record.rows_written) == ("SUCCEEDED", run.run_id, 7)
    assert len(flow.ledger_items()) == 1
    assert flow.query("SELECT count(*) AS n FROM sales.orders")[0]["n"] == 7
