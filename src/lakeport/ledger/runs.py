"""The run ledger: one item per ingest run in the ``runs`` table (hash ``dataset``, range ``run_id``).

Run ids start with a UTC time stamp (``20261126T160102Z-3f9a1c2e``), so a dataset's runs sort by
start time under their key, and the newest come first in a reverse query. A run is started
(``RUNNING``), then finished or failed (``FAILED``, with the error). A finished run is ``SUCCEEDED``
when each of its files was ingested (some rows may be quarantined), ``PARTIAL`` when some of its files
and ``REJECTED`` when all of them were rejected as a whole (nothing of theirs is in the table: see
``rejection`` and the quarantine zone); both of those are alerted like a failure. A retried run
starts the same record again, which bumps ``attempts``. The state machine adds ``execution_arn`` and
``job_run_id`` to the same item when the job ends.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from botocore.exceptions import ClientError

from lakeport.aws import translate
from lakeport.clock import as_utc, iso, parse_iso
from lakeport.dynamo import attr, from_item, is_condition_failure, names_for, paginate, values_for
from lakeport.errors import DatasetNotFoundError

RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
PARTIAL = "PARTIAL"
REJECTED = "REJECTED"
RUN_STATES = (RUNNING, SUCCEEDED, PARTIAL, REJECTED, FAILED)
FINISHED_STATES = (SUCCEEDED, PARTIAL, REJECTED)
"""A run in one of these committed what it could and is not retried."""


def finished_state(files: int, rejected: int) -> str:
    """The state of a finished run of ``files`` files of which ``rejected`` were rejected as a whole."""
    if rejected and rejected >= files:
        return REJECTED
    return PARTIAL if rejected else SUCCEEDED


MAX_FILE_URIS = 100
MAX_PARTITIONS = 500
MAX_ERROR_CHARS = 4000


def new_run_id(now: Optional[datetime] = None) -> str:
    """A unique, time-sortable run id: ``<UTC yyyymmddThhmmssZ>-<8 hex>``; valid as an execution name."""
    return f"{as_utc(now).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def run_second(run_id: str) -> str:
    """The UTC second a run id starts with (``20261126T160102Z``): the part of the id that orders runs."""
    return run_id.split("-", 1)[0]


def start_order(run_id: str, started_at: Optional[str]) -> Tuple[str, str, str]:
    """Sort key, oldest first: the id's second, then the start time within it (the id's suffix is random)."""
    return (run_second(run_id), started_at or "", run_id)


@dataclass
class RunRecord:
    """One run, as the ledger stores it. ``files``/``partitions`` count everything; the lists are capped."""

    dataset: str
    run_id: str
    state: str = RUNNING
    engine: Optional[str] = None
    engine_reason: Optional[str] = None
    contract_version: Optional[int] = None
    files: int = 0
    file_uris: List[str] = field(default_factory=list)
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    bytes_read: int = 0
    files_rejected: int = 0
    """Files rejected as a whole (their rows, where they could be counted, are in rows_quarantined)."""
    bytes_rejected: int = 0
    """The size of those files as delivered: what was refused even when its rows could not be counted."""
    rejection: Optional[str] = None
    """The first rejected file and why."""
    partitions: List[str] = field(default_factory=list)
    partition_count: int = 0
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    duration_seconds: Optional[float] = None
    estimated_cost_usd: Optional[float] = None
    execution_arn: Optional[str] = None
    job_run_id: Optional[str] = None
    error: Optional[str] = None
    attempts: int = 0
    snapshot_id: Optional[int] = None
    """The Iceberg snapshot the run committed (none when it wrote no rows)."""

    @property
    def balanced(self) -> bool:
        """Rows read = written + quarantined + duplicates dropped."""
        return self.rows_read == self.rows_written + self.rows_quarantined + self.rows_duplicate

    def to_values(self) -> Dict[str, Any]:
        values = asdict(self)
        values["file_uris"] = list(self.file_uris)[:MAX_FILE_URIS]
        values["files"] = max(self.files, len(self.file_uris))
        values["partitions"] = list(self.partitions)[:MAX_PARTITIONS]
        values["partition_count"] = max(self.partition_count, len(self.partitions))
        return values

    @classmethod
    def from_values(cls, values: Dict[str, Any]) -> RunRecord:
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in values.items() if k in known}
        for name in ("duration_seconds", "estimated_cost_usd"):
            if data.get(name) is not None:
                data[name] = float(data[name])
        for name in ("file_uris", "partitions"):
            data[name] = list(data.get(name) or [])
        if data.get("snapshot_id") is not None:
            data["snapshot_id"] = int(data["snapshot_id"])
        return cls(**data)


_FIELDS = tuple(f.name for f in fields(RunRecord))
_KEYS = ("dataset", "run_id")
_END_FIELDS = ("finished_at", "duration_seconds", "error")


class RunLedger:
    """Start, finish, fail and list runs."""

    new_run_id = staticmethod(new_run_id)

    def __init__(self, dynamodb_client: Any, table_name: str) -> None:
        self._ddb = dynamodb_client
        self.table_name = table_name

    def start(self, record: RunRecord, now: Optional[datetime] = None) -> RunRecord:
        """Record a run as RUNNING. Starting the same run again (a retry) resets it to RUNNING,
        keeps the first ``started_at`` and bumps ``attempts``."""
        values = record.to_values()
        values["state"] = RUNNING
        started_at = values.pop("started_at") or iso(now)
        values.pop("attempts")
        # a restart clears the outcome of the previous attempt and keeps what others recorded
        # (e.g. the state machine's execution_arn) unless the record carries a new value
        removes = ["#finished_at", "#duration_seconds", "#error"]
        sets, plain = [], {":started": started_at, ":zero": 0, ":one": 1}
        for name, value in values.items():
            if name in _KEYS or name in _END_FIELDS or value is None:
                continue
            sets.append(f"#{name} = :{name}")
            plain[f":{name}"] = value
        sets += [
            "#started_at = if_not_exists(#started_at, :started)",
            "#attempts = if_not_exists(#attempts, :zero) + :one",
        ]
        expression = f"SET {', '.join(sets)} REMOVE {', '.join(removes)}"
        return self._update(record.dataset, record.run_id, expression, plain, None, "starting")

    def finish(self, dataset: str, run_id: str, now: Optional[datetime] = None, **fields_: Any) -> RunRecord:
        """Record the end of a started run: ``state`` (default SUCCEEDED) and any :class:`RunRecord` fields.

        ``finished_at`` defaults to now and ``duration_seconds`` to the time since ``started_at``.
        """
        unknown = (set(fields_) - set(_FIELDS)) | (set(fields_) & set(_KEYS))
        if unknown:
            raise TypeError(f"RunLedger.finish: unknown or key field(s) {', '.join(sorted(unknown))}")
        state = fields_.setdefault("state", SUCCEEDED)
        if state not in RUN_STATES:
            raise ValueError(f"a run state is one of {', '.join(RUN_STATES)}, not {state!r}")
        current = self.get(dataset, run_id)
        if current is None:
            raise DatasetNotFoundError(
                f"dataset {dataset}: run {run_id} was never started",
                hint="start the run (RunLedger.start) before finishing it",
            )
        finished = as_utc(now)
        fields_.setdefault("finished_at", iso(finished))
        if fields_.get("duration_seconds") is None and current.started_at:
            elapsed = (finished - parse_iso(current.started_at)).total_seconds()
            fields_["duration_seconds"] = round(max(elapsed, 0.0), 3)
        if "file_uris" in fields_:
            uris = list(fields_["file_uris"])
            fields_["file_uris"] = uris[:MAX_FILE_URIS]
            fields_["files"] = max(int(fields_.get("files", 0)), len(uris))
        if "partitions" in fields_:
            parts = list(fields_["partitions"])
            fields_["partitions"] = parts[:MAX_PARTITIONS]
            fields_["partition_count"] = max(int(fields_.get("partition_count", 0)), len(parts))
        if fields_.get("error") is not None:
            fields_["error"] = str(fields_["error"])[:MAX_ERROR_CHARS]
        sets, removes, plain = [], [], {}
        for name, value in fields_.items():
            if value is None:
                removes.append(f"#{name}")
            else:
                sets.append(f"#{name} = :{name}")
                plain[f":{name}"] = value
        expression = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
        return self._update(dataset, run_id, expression, plain, "attribute_exists(#run_id)", "finishing")

    def fail(self, dataset: str, run_id: str, error: str, now: Optional[datetime] = None) -> RunRecord:
        """Mark a run FAILED with ``error``; records the run even if it never started."""
        if self.get(dataset, run_id) is None:
            self.start(RunRecord(dataset=dataset, run_id=run_id), now=now)
        return self.finish(dataset, run_id, now=now, state=FAILED, error=error)

    def abandon(self, dataset: str, run_id: str, error: str, now: Optional[datetime] = None) -> bool:
        """Mark a run that is still RUNNING as FAILED with ``error`` (its process is gone); ``False``
        when it is not RUNNING (it finished, or its failure was recorded already)."""
        expression = "SET #state = :failed, #error = :error, #finished_at = :now"
        condition = "attribute_exists(#run_id) AND #state = :running"
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key={"dataset": attr(dataset), "run_id": attr(run_id)},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for(
                    {
                        ":failed": FAILED,
                        ":error": error[:MAX_ERROR_CHARS],
                        ":now": iso(as_utc(now)),
                        ":running": RUNNING,
                    }
                ),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise translate(exc, f"marking run {run_id} of dataset {dataset} abandoned") from exc
        return True

    def get(self, dataset: str, run_id: str) -> Optional[RunRecord]:
        try:
            response = self._ddb.get_item(
                TableName=self.table_name,
                Key={"dataset": attr(dataset), "run_id": attr(run_id)},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise translate(exc, f"reading run {run_id} of dataset {dataset}") from exc
        values = from_item(response.get("Item"))
        return RunRecord.from_values(values) if values else None

    def list(self, dataset: Optional[str] = None, limit: int = 50) -> List[RunRecord]:
        """The newest ``limit`` runs of ``dataset``, or of every dataset.

        For one dataset this is a reverse key query. Across datasets it is a full Scan sorted here by
        run id (time-sortable): fine for the thousands of runs a year this table holds; add a
        time-keyed index if that ever grows to millions.
        """
        try:
            if dataset is not None:
                response = self._ddb.query(
                    TableName=self.table_name,
                    KeyConditionExpression="#dataset = :dataset",
                    ExpressionAttributeNames={"#dataset": "dataset"},
                    ExpressionAttributeValues={":dataset": attr(dataset)},
                    ScanIndexForward=False,
                    Limit=limit,
                )
                items = [from_item(i) for i in response.get("Items", [])]
                if response.get("LastEvaluatedKey") and items:
                    # The cut fell inside a second whose runs the key orders by their random suffix:
                    # take every run of that second, so the newest-started ones are not left out.
                    second = run_second(str(items[-1]["run_id"]))
                    edge = self._ddb.query(
                        TableName=self.table_name,
                        KeyConditionExpression="#dataset = :dataset AND begins_with(#run_id, :second)",
                        ExpressionAttributeNames={"#dataset": "dataset", "#run_id": "run_id"},
                        ExpressionAttributeValues={":dataset": attr(dataset), ":second": attr(second)},
                    )
                    seen = {i["run_id"] for i in items}
                    items += [v for v in map(from_item, edge.get("Items", [])) if v["run_id"] not in seen]
            else:
                items = list(paginate(self._ddb, "scan", "Items", TableName=self.table_name))
        except ClientError as exc:
            raise translate(exc, f"listing the runs of {dataset or 'every dataset'}") from exc
        records = [RunRecord.from_values(i) for i in items]
        # run ids sort by their second; within one second, by when the run started
        records.sort(key=lambda r: (*start_order(r.run_id, r.started_at), r.dataset), reverse=True)
        return records[:limit]

    def _update(
        self,
        dataset: str,
        run_id: str,
        expression: str,
        values: Dict[str, Any],
        condition: Optional[str],
        action: str,
    ) -> RunRecord:
        kwargs: Dict[str, Any] = {}
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key={"dataset": attr(dataset), "run_id": attr(run_id)},
                UpdateExpression=expression,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for(values),
                ReturnValues="ALL_NEW",
                **kwargs,
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                raise DatasetNotFoundError(
                    f"dataset {dataset}: run {run_id} was never started",
                    hint="start the run (RunLedger.start) before finishing it",
                ) from None
            raise translate(exc, f"{action} run {run_id} of dataset {dataset}") from exc
        return RunRecord.from_values(from_item(response.get("Attributes")))
