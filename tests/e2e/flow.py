"""The local stack with lakeport's real dispatcher, notifier and Glue job, and helpers to watch it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from lakeport.contract import Contract, load_contract_file, load_contract_text
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ledger.files import FileLedger, FileRecord, SourceObject
from lakeport.ledger.runs import RunLedger, RunRecord
from lakeport.local.stack import LocalStack
from lakeport.orchestration.dispatcher import Dispatcher
from lakeport.registry import ContractRegistry
from lakeport.s3objects import head_object


class Flow:
    """A started, wired :class:`LocalStack` seen from the outside: S3 in, ledgers and SQL out."""

    def __init__(self, stack: LocalStack, dispatcher: Dispatcher) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.aws = stack.aws
        self.resources = stack.resources
        ddb = self.aws.client("dynamodb")
        self.registry = ContractRegistry(ddb, self.resources.datasets_table)
        self.files = FileLedger(ddb, self.resources.files_table)
        self.runs = RunLedger(ddb, self.resources.runs_table)

    # contracts -----------------------------------------------------------------------------------
    def apply(self, contract: Union[Path, str, Contract]) -> Contract:
        if isinstance(contract, Path):
            contract = load_contract_file(contract)
        elif isinstance(contract, str):
            contract = load_contract_text(contract)
        self.registry.apply(contract, applied_by="e2e", allow_breaking=True)
        return self.registry.get(contract.dataset)

    def apply_example(self, name: str) -> Contract:
        return self.apply(EXAMPLES / "contracts" / f"{name}.yaml")

    # raw files -----------------------------------------------------------------------------------
    def put(self, key: str, body: Union[bytes, str]) -> SourceObject:
        data = body.encode("utf-8") if isinstance(body, str) else body
        s3 = self.aws.client("s3")
        s3.put_object(Bucket=self.resources.raw_bucket, Key=key, Body=data)
        return head_object(s3, self.resources.raw_bucket, key)

    def put_example(self, relative: str) -> SourceObject:
        return self.put(relative, (EXAMPLES / "raw" / relative).read_bytes())

    # waiting and watching -----------------------------------------------------------------------
    def wait(self, timeout: float = 60.0) -> None:
        self.stack.wait_idle(timeout=timeout)

    def executions(self) -> List[Dict[str, Any]]:
        sfn = self.aws.client("stepfunctions")
        found: List[Dict[str, Any]] = []
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=self.resources.state_machine_arn()):
            found += page["executions"]
        return found

    def history(self, execution_arn: str) -> List[Dict[str, Any]]:
        return list(self.aws.client("stepfunctions").get_execution_history(executionArn=execution_arn)["events"])

    def run_records(self, dataset: Optional[str] = None) -> List[RunRecord]:
        return self.runs.list(dataset, limit=100)

    def file_record(self, obj: SourceObject) -> Optional[FileRecord]:
        return self.files.get(obj)

    def ledger_items(self) -> List[Dict[str, Any]]:
        return list(self.aws.client("dynamodb").scan(TableName=self.resources.files_table)["Items"])

    def table(self, database: str, name: str) -> Any:
        """A curated Iceberg table as it is now."""
        from lakeport.iceberg.tables import open_catalog

        return open_catalog(self.aws).load_table((database, name))

    def query(self, sql: str) -> List[Dict[str, Any]]:
        from lakeport.query import LocalQueryEngine

        return LocalQueryEngine.for_context(self.aws).execute(sql).to_pylist()

    def queue_depth(self) -> int:
        assert self.stack.provisioned is not None
        counts = self.aws.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.provisioned.ingest_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesNotVisible"])

    def wait_for_queue(self, depth: int = 0, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while self.queue_depth() != depth:
            assert time.monotonic() < deadline, f"the ingest queue did not reach {depth} message(s)"
            time.sleep(0.05)

    def alerts_inbox(self) -> str:
        """An SQS queue subscribed to the alerts topic (raw delivery off: the SNS envelope arrives)."""
        sqs = self.aws.client("sqs")
        url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.aws.client("sns").subscribe(TopicArn=self.resources.alerts_topic_arn(), Protocol="sqs", Endpoint=arn)
        return str(url)

    def alerts(self, inbox: str, wait_seconds: int = 2) -> List[Dict[str, Any]]:
        messages = (
            self.aws.client("sqs")
            .receive_message(QueueUrl=inbox, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds)
            .get("Messages", [])
        )
        return [json.loads(m["Body"]) for m in messages]

    def metric_sum(self, name: str) -> float:
        from datetime import datetime, timedelta, timezone

        now = datetime.now(timezone.utc)
        stats = self.aws.client("cloudwatch").get_metric_statistics(
            Namespace=self.resources.metrics_namespace,
            MetricName=name,
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(hours=1),
            Period=3600,
            Statistics=["Sum"],
        )
        return float(sum(p["Sum"] for p in stats["Datapoints"]))
