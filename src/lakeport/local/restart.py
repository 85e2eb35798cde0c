"""Taking up, at the start of a local stack that kept its state, what its last stop interrupted.

A stop (SIGTERM, ``kill -9``, a crash) ends every execution, job run and queued message: none of them
is kept (:mod:`lakeport.local.state`). What the ledgers say about them is kept, and is enough:

* **A run that held claims** (it was running, or it had failed transiently and waited for the state
  machine's retry) is started again under its own run id with its own objects: a new execution of
  the same name. The ingest takes the lock and the claims back as the same run; a run stopped before
  its commit does its work again (the files it wrote were never visible, and the same names are
  written again), a run stopped part-way through its commit finds its snapshot by run id and
  finishes the ledgers (see :mod:`lakeport.ingest`). So the run *finishes*, with the counts it would
  have had, rather than leaving objects for a hand-run replay.
* **A run shown RUNNING with no claims** (it had not claimed yet, or recorded them all) is recorded
  FAILED, saying the stack stopped during it.
* **A dataset lock** held by any other run is released: nothing that held it survived the stop.
* **Objects that landed but were never dispatched** (their event was still queued) are announced
  again: every raw object under a contract's prefix that the files ledger does not know gets an
  ``Object Created`` event on the ingest queue, as S3 would have sent; a file of a delivery folder
  brings its folder's completeness marker instead. The dispatcher then treats them as it treats any
  event.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Set, Tuple

from lakeport.clock import iso
from lakeport.delivery import delivery_folder, is_marker_key, marker_key
from lakeport.dynamo import paginate
from lakeport.ledger.files import CLAIMED, FileLedger, FileRecord, SourceObject
from lakeport.ledger.locks import HEAD_VERSION, DatasetLock
from lakeport.ledger.runs import RUNNING, RunLedger
from lakeport.orchestration.dispatcher import Dispatcher
from lakeport.registry import ContractRegistry
from lakeport.s3objects import head_object, is_data_key

log = logging.getLogger(__name__)


@dataclass
class TakenUp:
    """What :func:`take_up` did, one line each, for ``lakeport local up`` to print."""

    restarted: List[str] = field(default_factory=list)
    abandoned: List[str] = field(default_factory=list)
    released: List[str] = field(default_factory=list)
    announced: List[str] = field(default_factory=list)

    def lines(self) -> List[str]:
        lines = [f"run {text}" for text in self.restarted + self.abandoned]
        lines += [f"lock of {dataset} released (its run did not survive the stop)" for dataset in self.released]
        if self.announced:
            shown = ", ".join(self.announced[:3]) + (" ..." if len(self.announced) > 3 else "")
            lines.append(
                f"{len(self.announced)} object(s) that landed but were never dispatched, announced again: {shown}"
            )
        return lines


def take_up(stack: Any, dispatcher: Dispatcher) -> TakenUp:
    """Restart interrupted runs, fail the ones that cannot restart, free locks, re-announce objects."""
    aws, resources = stack.aws, stack.resources
    ddb = aws.client("dynamodb")
    files = FileLedger(ddb, resources.files_table)
    runs = RunLedger(ddb, resources.runs_table)
    lock = DatasetLock(ddb, resources.datasets_table)
    done = TakenUp()

    heads = list(paginate(ddb, "scan", "Items", TableName=resources.datasets_table))
    heads = [h for h in heads if int(h.get("version", -1)) == HEAD_VERSION]
    committing = {str(h["dataset"]): str(h["commit_run"]) for h in heads if h.get("commit_run")}

    claimed: Dict[Tuple[str, str], List[FileRecord]] = {}
    for item in paginate(ddb, "scan", "Items", TableName=resources.files_table):
        record = FileRecord.from_values(item)
        if record.state == CLAIMED and record.run_id:
            claimed.setdefault((record.dataset, record.run_id), []).append(record)
    for dataset, run_id in committing.items():
        claimed.setdefault((dataset, run_id), [])

    restarted: Set[Tuple[str, str]] = set()
    for (dataset, run_id), records in sorted(claimed.items()):
        if committing.get(dataset) == run_id:
            # finishing a commit: the run's objects are all it claimed, recorded or not
            records = [r for r in files.for_run(run_id) if r.dataset == dataset]
        objects = [r.source for r in records]
        if not objects:
            continue
        dispatcher.relaunch(dataset, run_id, objects)
        restarted.add((dataset, run_id))
        how = "finishes its commit" if committing.get(dataset) == run_id else "starts again"
        done.restarted.append(
            f"{run_id} of {dataset} was interrupted by the stop: it {how} with its {len(objects)} file(s)"
        )

    for run in runs.list(limit=100_000):
        if run.state != RUNNING or (run.dataset, run.run_id) in restarted:
            continue
        error = (
            f"the local stack stopped during run {run.run_id} of {run.dataset}, before it had claimed"
            " or after it had recorded its files; nothing of it is left to finish"
        )
        if runs.abandon(run.dataset, run.run_id, error):
            done.abandoned.append(f"{run.run_id} of {run.dataset} was running at the stop: recorded FAILED")

    for head in heads:
        owner, dataset = head.get("lock_owner"), str(head["dataset"])
        stale = owner and (dataset, owner) not in restarted and committing.get(dataset) != owner
        if stale and lock.release(dataset, str(owner)):
            done.released.append(dataset)

    done.announced = _announce_missed(stack, files, ContractRegistry(ddb, resources.datasets_table))
    for line in done.lines():
        log.debug("%s", line)
    return done


def _announce_missed(stack: Any, files: FileLedger, registry: ContractRegistry) -> List[str]:
    s3, bucket = stack.aws.client("s3"), stack.resources.raw_bucket
    listed: Set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        listed.update(item["Key"] for item in page.get("Contents", []))
    missed: List[SourceObject] = []
    markers: Set[str] = set()
    for key in sorted(listed):
        if is_marker_key(key):
            continue
        contract = registry.match_key(key)
        if contract is None or not is_data_key(key, contract):
            continue
        obj = head_object(s3, bucket, key)
        if files.get(obj) is not None:
            continue
        folder = delivery_folder(key, contract.source.prefix)
        if folder is None:
            missed.append(obj)
        elif marker_key(folder) in listed and marker_key(folder) not in markers:
            markers.add(marker_key(folder))
            missed.append(head_object(s3, bucket, marker_key(folder)))
    queue = stack.feed.queue_url
    sqs = stack.aws.client("sqs")
    for start in range(0, len(missed), 10):
        entries = [
            {"Id": str(n), "MessageBody": json.dumps(object_created(obj))}
            for n, obj in enumerate(missed[start : start + 10])
        ]
        sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    return [obj.uri for obj in missed]


def object_created(obj: SourceObject, when: Optional[datetime] = None) -> Dict[str, Any]:
    """The EventBridge ``Object Created`` event S3 sends for ``obj`` (the key form-encoded, as S3 does)."""
    from urllib.parse import quote_plus

    detail_object: Dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size, "etag": obj.etag}
    if obj.version_id and obj.version_id != "null":
        detail_object["version-id"] = obj.version_id
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": iso(when or datetime.now(timezone.utc)),
        "detail": {"bucket": {"name": obj.bucket}, "object": detail_object, "reason": "PutObject"},
    }


__all__ = ["TakenUp", "object_created", "take_up"]
