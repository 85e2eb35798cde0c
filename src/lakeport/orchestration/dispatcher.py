"""The dispatcher Lambda: raw-bucket events in, one ingest execution per dataset and batch out.

For each SQS batch of S3 "Object Created" events (EventBridge → ingest queue → here):

1. **Route** every object to its dataset: the contract whose ``source.prefix`` is the longest prefix
   of the key. Folder markers and other non-data keys are ignored. A key that matches no dataset
   (or that its dataset's ``suffixes`` exclude) is *reported*: a warning naming the key in the
   dispatcher's log and the CloudWatch metric ``UnmatchedObjects`` (namespace ``Lakeport``);
   nothing is started for it, and the message is done (retrying would not change the answer).
2. **Deliveries** (see :mod:`lakeport.delivery`): a file in a ``delivery=<id>/`` folder waits
   until the folder's completeness marker exists (its message is done; the file stays unclaimed).
   The marker's own event brings in every object it lists, in the versions it lists, after checking
   that each is there with the listed size and checksum. A delivery that fails the check is
   reported (``IncompleteDeliveries``) and not ingested.
3. **Claim** each object in the files ledger. Objects already SUCCEEDED/QUARANTINED are skipped,
   and so are FAILED ones: after a failure, a person replays (``lakeport ingest``), the dispatcher
   does not loop on a broken file. The claim's run id is derived from the objects (their ledger keys)
   and the latest event time, so the same event delivered again yields the same run id.
4. **Start** one execution per dataset with the run id as the execution name, after writing the
   run manifest to the artifacts bucket. ``ExecutionAlreadyExists`` means a re-delivered event: done.
   Objects still claimed by a run whose execution never started (the dispatcher died between claim
   and start) are picked up again under that run's id.

Messages that could not be handled (AWS errors, a malformed body) are returned in
``batchItemFailures``, so SQS delivers only those again, and moves them to the dead-letter queue
after ``maxReceiveCount`` attempts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from lakeport.aws import AwsContext, error_code, translate
from lakeport.clock import as_utc, epoch, iso
from lakeport.contract import Contract
from lakeport.delivery import DeliveryMarker, DeliveryMarkerError, delivery_folder, is_marker_key, marker_key
from lakeport.ledger.files import CLAIMED, DEFAULT_CLAIM_LEASE, DONE_STATES, FAILED, FileLedger, SourceObject
from lakeport.ledger.runs import RunLedger
from lakeport.manifest import Manifest, write_manifest
from lakeport.orchestration.deliveries import DeliveryChecker
from lakeport.orchestration.environment import (
    DEFAULT_RETRY_WAIT_SECONDS,
    resources_from_environment,
    retry_wait_seconds,
)
from lakeport.orchestration.events import MalformedEventError, ObjectCreated, parse_record
from lakeport.registry import ContractRegistry
from lakeport.resources import Resources
from lakeport.s3objects import is_data_key

log = logging.getLogger("lakeport.dispatcher")

UNMATCHED_METRIC = "UnmatchedObjects"
INCOMPLETE_METRIC = "IncompleteDeliveries"
MALFORMED_METRIC = "MalformedEvents"
STARTED_METRIC = "RunsStarted"
TERMINAL_EXECUTION_STATES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class StartedRun:
    dataset: str
    run_id: str
    execution_arn: str
    files: int
    total_bytes: int
    new: bool
    """False when the execution already existed (a re-delivered event)."""


@dataclass
class DispatchReport:
    """What one batch did; :meth:`response` is the answer Lambda's SQS integration expects."""

    started: List[StartedRun] = field(default_factory=list)
    unmatched: List[str] = field(default_factory=list)
    waiting: List[str] = field(default_factory=list)
    covered: List[str] = field(default_factory=list)
    ignored: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    incomplete: List[str] = field(default_factory=list)
    malformed: List[str] = field(default_factory=list)
    failed_messages: List[str] = field(default_factory=list)

    def fail(self, message_ids: Sequence[str]) -> None:
        for message_id in message_ids:
            if message_id not in self.failed_messages:
                self.failed_messages.append(message_id)

    def response(self) -> Dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": m} for m in self.failed_messages]}


@dataclass
class _Group:
    """The objects of one dataset in one batch."""

    contract: Contract
    objects: Dict[Tuple[str, str], SourceObject] = field(default_factory=dict)
    times: List[datetime] = field(default_factory=list)
    message_ids: List[str] = field(default_factory=list)

    def add(self, obj: SourceObject, moment: datetime, message_id: str) -> None:
        self.objects[obj.ledger_key] = obj
        self.times.append(moment)
        if message_id not in self.message_ids:
            self.message_ids.append(message_id)


def dispatch_run_id(dataset: str, objects: Sequence[SourceObject], moment: datetime) -> str:
    """``<UTC stamp of moment>-<16 hex>``: the same objects and moment always give the same id.

    The hash covers the dataset and every object's ledger key (bucket/key and version), sorted; the
    id sorts by time like :func:`lakeport.ledger.runs.new_run_id` and is a valid execution name.
    """
    digest = hashlib.sha256(dataset.encode("utf-8"))
    for object_key, version in sorted(o.ledger_key for o in objects):
        digest.update(f"\n{object_key}\x00{version}".encode())
    return f"{as_utc(moment).strftime('%Y%m%dT%H%M%SZ')}-{digest.hexdigest()[:16]}"


class Dispatcher:
    """Routes, claims and starts; one instance serves many batches (it caches the contracts)."""

    def __init__(
        self,
        aws: AwsContext,
        resources: Resources,
        *,
        retry_wait_seconds: int = DEFAULT_RETRY_WAIT_SECONDS,
        claim_lease_seconds: int = DEFAULT_CLAIM_LEASE,
        publish_metrics: bool = True,
        head_workers: int = 8,
    ) -> None:
        self.aws = aws
        self.resources = resources
        self.retry_wait_seconds = retry_wait_seconds
        self.claim_lease_seconds = claim_lease_seconds
        self.publish_metrics = publish_metrics
        ddb = aws.client("dynamodb")
        self.registry = ContractRegistry(ddb, resources.datasets_table)
        self.files = FileLedger(ddb, resources.files_table)
        self.runs = RunLedger(ddb, resources.runs_table)
        self.deliveries = DeliveryChecker(aws.client("s3"), head_workers)

    # -- entry points ------------------------------------------------------------------------

    def handle(self, event: Mapping[str, Any], context: Any = None) -> Dict[str, Any]:
        """The Lambda handler's body: an SQS event in, ``{"batchItemFailures": [...]}`` out."""
        return self.dispatch(list(event.get("Records") or [])).response()

    def dispatch(self, records: Sequence[Mapping[str, Any]]) -> DispatchReport:
        report = DispatchReport()
        groups: Dict[str, _Group] = {}
        markers: Dict[str, Optional[DeliveryMarker]] = {}
        for record in records:
            message_id = str(record.get("messageId", "?"))
            try:
                for event in parse_record(record):
                    self._route(event, groups, markers, report)
            except MalformedEventError as exc:
                log.error("%s; it goes to the dead-letter queue after its retries", exc.one_line())
                report.malformed.append(message_id)
                report.fail([message_id])
            except Exception as exc:
                error = translate(exc, f"routing message {message_id}")
                log.warning("message %s returns to the queue: %s", message_id, error.one_line())
                report.fail([message_id])
        for group in groups.values():
            try:
                self._start(group, report)
            except Exception as exc:
                error = translate(exc, f"starting a run of {group.contract.dataset}")
                log.warning(
                    "%d message(s) of %s return to the queue: %s",
                    len(group.message_ids),
                    group.contract.dataset,
                    error.one_line(),
                )
                report.fail(group.message_ids)
        self._publish(report)
        return report

    # -- routing -----------------------------------------------------------------------------

    def _unmatched(self, report: DispatchReport, uri: str, why: str) -> None:
        log.warning("unmatched object %s: %s; nothing is started for it", uri, why)
        report.unmatched.append(uri)

    def _route(
        self,
        event: ObjectCreated,
        groups: Dict[str, _Group],
        markers: Dict[str, Optional[DeliveryMarker]],
        report: DispatchReport,
    ) -> None:
        uri = f"s3://{event.bucket}/{event.key}"
        if event.bucket != self.resources.raw_bucket:
            self._unmatched(report, uri, f"it is not in the raw bucket {self.resources.raw_bucket}")
            return
        marker = is_marker_key(event.key)
        if not marker and not is_data_key(event.key):
            log.info("ignored %s: a folder or marker object, not data", uri)
            report.ignored.append(uri)
            return
        contract = self.registry.match_key(event.key)
        if contract is None:
            self._unmatched(
                report,
                uri,
                "no dataset contract has a source.prefix it starts with "
                "(lakeport contract list shows the prefixes; apply a contract, then deliver the file again)",
            )
            return
        if marker:
            self._route_marker(event, contract, groups, report)
            return
        if not is_data_key(event.key, contract):
            suffixes = ", ".join(contract.source.suffixes or [])
            self._unmatched(report, uri, f"dataset {contract.dataset} only takes files ending in {suffixes}")
            return
        folder = delivery_folder(event.key, contract.source.prefix)
        if folder is not None:
            if folder not in markers:
                try:
                    markers[folder] = self.deliveries.read_marker(event.bucket, marker_key(folder), missing_ok=True)
                except DeliveryMarkerError:
                    markers[folder] = None  # the marker's own event reports it
            complete = markers[folder]
            if complete is None:
                log.info("%s waits for its delivery's marker %s", uri, marker_key(folder))
                report.waiting.append(uri)
                return
            listed = next((o for o in complete.objects if o.key == event.key), None)
            if listed is not None and listed.version_id in (None, event.version_id):
                report.covered.append(uri)  # the marker's own event brings it in
                return
            log.info("%s arrived after its delivery was complete; it is ingested on its own", uri)
        group = groups.setdefault(contract.dataset, _Group(contract))
        group.add(event.source(), event.time, event.message_id)

    def _route_marker(
        self, event: ObjectCreated, contract: Contract, groups: Dict[str, _Group], report: DispatchReport
    ) -> None:
        uri = f"s3://{event.bucket}/{event.key}"
        try:
            marker = self.deliveries.read_marker(event.bucket, event.key)
            assert marker is not None
            objects = self.deliveries.objects(event.bucket, event.key, marker, contract)
        except DeliveryMarkerError as exc:
            log.warning("delivery %s is not ingested: %s", uri, exc.one_line())
            report.incomplete.append(uri)
            return
        group = groups.setdefault(contract.dataset, _Group(contract))
        for obj in objects:
            group.add(obj, event.time, event.message_id)
        log.info("delivery %s: %d object(s) for %s", uri, len(objects), contract.dataset)

    # -- claiming and starting ---------------------------------------------------------------

    def _start(self, group: _Group, report: DispatchReport) -> None:
        dataset = group.contract.dataset
        fresh: List[SourceObject] = []
        held: Dict[str, List[SourceObject]] = defaultdict(list)
        now = epoch()
        for obj in sorted(group.objects.values(), key=lambda o: o.ledger_key):
            record = self.files.get(obj)
            if record is None:
                fresh.append(obj)
            elif record.state in DONE_STATES:
                report.skipped.append(f"{obj.uri}: already {record.state} by run {record.run_id}")
            elif record.state == FAILED:
                log.warning(
                    "%s failed in run %s and is not retried automatically; replay it with"
                    " 'lakeport ingest %s %s' once the cause is fixed",
                    obj.uri,
                    record.run_id,
                    dataset,
                    obj.uri,
                )
                report.skipped.append(f"{obj.uri}: FAILED in run {record.run_id}")
            elif record.state == CLAIMED and (record.lease_expires_at or 0) < now:
                fresh.append(obj)
            else:
                held[record.run_id].append(obj)
        for run_id, objects in held.items():
            if self._orphaned(dataset, run_id):
                self._adopt(group, run_id, report)
            else:
                report.skipped += [f"{o.uri}: being ingested by run {run_id}" for o in objects]
        if not fresh:
            return
        run_id = dispatch_run_id(dataset, fresh, max(group.times))
        claimed = []
        for obj in fresh:
            claim = self.files.claim(obj, dataset, run_id, lease_seconds=self.claim_lease_seconds)
            if claim.claimed:
                claimed.append(obj)
            else:
                report.skipped.append(claim.describe())
        if claimed:
            self._launch(dataset, run_id, claimed, max(group.times), report)

    def _execution_arn(self, run_id: str) -> str:
        return self.resources.state_machine_arn().replace(":stateMachine:", ":execution:") + f":{run_id}"

    def _execution_status(self, run_id: str) -> Optional[str]:
        try:
            answer = self.aws.client("stepfunctions").describe_execution(executionArn=self._execution_arn(run_id))
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise translate(exc, f"describing execution {run_id}") from exc
        return str(answer["status"])

    def _orphaned(self, dataset: str, run_id: str) -> bool:
        """A claim whose run never began: no execution of that name, no run record (not a CLI run)."""
        return self._execution_status(run_id) is None and self.runs.get(dataset, run_id) is None

    def _adopt(self, group: _Group, run_id: str, report: DispatchReport) -> None:
        dataset = group.contract.dataset
        objects = [r.source for r in self.files.for_run(run_id) if r.state == CLAIMED]
        known = {o.ledger_key for o in objects}
        objects += [o for o in group.objects.values() if o.ledger_key not in known and self._held_by(o, run_id)]
        for obj in objects:
            self.files.claim(obj, dataset, run_id, lease_seconds=self.claim_lease_seconds)
        log.warning(
            "run %s of %s claimed %d object(s) but never started; starting it now", run_id, dataset, len(objects)
        )
        if objects:
            self._launch(dataset, run_id, objects, max(group.times), report)

    def _held_by(self, obj: SourceObject, run_id: str) -> bool:
        record = self.files.get(obj)
        return record is not None and record.state == CLAIMED and record.run_id == run_id

    def relaunch(self, dataset: str, run_id: str, objects: List[SourceObject]) -> DispatchReport:
        """Start run ``run_id`` again, under its own name, for ``objects`` it claimed; its execution
        must be gone (a local stack that restarted keeps the ledgers but not the executions)."""
        report = DispatchReport()
        self._launch(dataset, run_id, objects, datetime.now(timezone.utc), report)
        return report

    def _launch(
        self, dataset: str, run_id: str, objects: List[SourceObject], moment: datetime, report: DispatchReport
    ) -> None:
        objects = sorted(objects, key=lambda o: (o.key, o.ledger_key[1]))
        manifest = Manifest(dataset=dataset, run_id=run_id, objects=objects, created_at=iso(moment))
        manifest_uri = write_manifest(self.aws.client("s3"), self.resources.artifacts_bucket, manifest)
        state_input = {
            "dataset": dataset,
            "run_id": run_id,
            "manifest": manifest_uri,
            "total_bytes": manifest.total_bytes,
            "file_count": len(objects),
            "attempt": 0,
            "retry_wait_seconds": self.retry_wait_seconds,
        }
        sfn = self.aws.client("stepfunctions")
        try:
            arn = str(
                sfn.start_execution(
                    stateMachineArn=self.resources.state_machine_arn(),
                    name=run_id,
                    input=json.dumps(state_input, sort_keys=True),
                )["executionArn"]
            )
            new = True
        except ClientError as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise translate(exc, f"starting run {run_id} of {dataset}") from exc
            arn, new = self._execution_arn(run_id), False
            status = self._execution_status(run_id)
            if status in TERMINAL_EXECUTION_STATES:
                self._mark_unstartable(dataset, run_id, objects, status or "", report)
                return
        report.started.append(StartedRun(dataset, run_id, arn, len(objects), manifest.total_bytes, new))
        if new:
            log.info("started run %s of %s: %d file(s), %d bytes", run_id, dataset, len(objects), manifest.total_bytes)
        else:
            log.info("run %s of %s is already running (a re-delivered event)", run_id, dataset)

    def _mark_unstartable(
        self, dataset: str, run_id: str, objects: List[SourceObject], status: str, report: DispatchReport
    ) -> None:
        reason = (
            f"the execution {run_id} already ended {status} and cannot start again;"
            f" replay with 'lakeport ingest {dataset} <uri>'"
        )
        for obj in objects:
            if self._held_by(obj, run_id):
                self.files.finish(obj, run_id, FAILED, 0, 0, 0, 0, reason=reason)
            report.skipped.append(f"{obj.uri}: {reason}")
        log.warning("%d object(s) of %s: %s", len(objects), dataset, reason)

    # -- reporting ---------------------------------------------------------------------------

    def _publish(self, report: DispatchReport) -> None:
        if not self.publish_metrics:
            return
        counts = [
            (UNMATCHED_METRIC, len(report.unmatched)),
            (INCOMPLETE_METRIC, len(report.incomplete)),
            (MALFORMED_METRIC, len(report.malformed)),
            (STARTED_METRIC, sum(1 for s in report.started if s.new)),
        ]
        data = [{"MetricName": name, "Value": float(count), "Unit": "Count"} for name, count in counts if count]
        if not data:
            return
        try:
            self.aws.client("cloudwatch").put_metric_data(Namespace=self.resources.metrics_namespace, MetricData=data)
        except Exception as exc:  # a metric is not worth failing the batch for
            log.warning("could not publish the dispatcher's metrics: %s", translate(exc, "PutMetricData").one_line())


_cached: Optional[Dispatcher] = None


def handler(event: Mapping[str, Any], context: Any) -> Dict[str, Any]:
    """The Lambda entry point (``lakeport.orchestration.dispatcher.handler``)."""
    global _cached
    if _cached is None:
        logging.getLogger("lakeport").setLevel(os.environ.get("LAKEPORT_LOG_LEVEL", "INFO"))
        aws = AwsContext.create(endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        _cached = Dispatcher(aws, resources_from_environment(), retry_wait_seconds=retry_wait_seconds())
    return _cached.handle(event, context)


__all__ = ["DispatchReport", "Dispatcher", "StartedRun", "dispatch_run_id", "handler"]
