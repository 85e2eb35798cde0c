"""The file ledger: each version of each raw object is ingested at most once.

The ``files`` table is keyed by the object (``object_key`` = ``bucket/key``) and its version
(``object_version`` = the S3 version id, or ``etag:<etag>`` in an unversioned bucket), with two
indexes projecting every attribute: ``by_dataset`` (``dataset``, ``updated_at``) and ``by_run``
(``run_id``, ``object_key``).

States::

    CLAIMED ──▶ SUCCEEDED | QUARANTINED | FAILED

A run *claims* an object with one conditional write. The claim holds a lease (``lease_expires_at``,
epoch seconds); a run that crashes leaves a claim whose lease runs out, and the next run takes the
object over. FAILED objects can be claimed again; SUCCEEDED and QUARANTINED ones only when forced
(a replay). A run records the outcome with :meth:`FileLedger.finish`, which only succeeds while the
claim is still its own.

Just before a run makes its output visible it marks each of its claims with ``commit_run``
(:meth:`FileLedger.mark_committing`). A marked claim is never taken over by another run, whatever its
lease or state says: the rows of that object may already be visible, and only a retry of the same run
knows how far it got. The mark goes when the object's outcome is recorded as SUCCEEDED/QUARANTINED.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple, Union

from botocore.exceptions import ClientError

from lakeport.aws import translate
from lakeport.clock import epoch, from_epoch, iso, iso_bound
from lakeport.dynamo import (
    attr,
    from_item,
    is_condition_failure,
    names_for,
    old_item,
    paginate,
    to_item,
    values_for,
)
from lakeport.errors import AccountingError, ClaimLostError

CLAIMED = "CLAIMED"
SUCCEEDED = "SUCCEEDED"
QUARANTINED = "QUARANTINED"
FAILED = "FAILED"
FINAL_STATES = (SUCCEEDED, QUARANTINED, FAILED)
DONE_STATES = (SUCCEEDED, QUARANTINED)

# claim outcomes
OUTCOME_CLAIMED = "CLAIMED"
OUTCOME_DONE = "DONE"
OUTCOME_HELD = "HELD"

DEFAULT_CLAIM_LEASE = 2 * 3600
"""Seconds a claim holds an object before another run may take it over (a crashed run's lease)."""

BY_DATASET_INDEX = "by_dataset"
BY_RUN_INDEX = "by_run"
_COUNTS = ("rows_read", "rows_written", "rows_quarantined", "rows_duplicate")


@dataclass(frozen=True)
class SourceObject:
    """One version of one raw object, as listed or announced by S3."""

    bucket: str
    key: str
    version_id: Optional[str]
    etag: str
    size: int
    last_modified: Optional[str] = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def ledger_key(self) -> Tuple[str, str]:
        """(``object_key``, ``object_version``) of the ledger item."""
        version = self.version_id if self.version_id and self.version_id != "null" else f"etag:{self.etag}"
        return f"{self.bucket}/{self.key}", version


@dataclass(frozen=True)
class Claim:
    """The answer to :meth:`FileLedger.claim`.

    * ``CLAIMED`` — this run owns the object now (``run_id`` is this run, ``lease_expires_at`` set);
    * ``DONE`` — already ingested: ``state`` (SUCCEEDED/QUARANTINED), the ``run_id`` that did it, ``when``;
    * ``HELD`` — another run's live claim: its ``run_id`` and ``lease_expires_at``.
    """

    outcome: str
    obj: SourceObject
    dataset: str
    run_id: str
    state: str
    when: Optional[str] = None
    lease_expires_at: Optional[int] = None
    attempts: int = 0
    committing: bool = False
    """For ``HELD``: the holder began making the object's rows visible (only it may go on)."""

    @property
    def claimed(self) -> bool:
        return self.outcome == OUTCOME_CLAIMED

    @property
    def lease_expires(self) -> Optional[str]:
        """The lease expiry as an ISO-8601 UTC stamp."""
        return None if self.lease_expires_at is None else iso(from_epoch(self.lease_expires_at))

    def describe(self) -> str:
        if self.outcome == OUTCOME_DONE:
            return f"{self.obj.uri}: already {self.state} by run {self.run_id} at {self.when}"
        if self.outcome == OUTCOME_HELD and self.committing:
            return (
                f"{self.obj.uri}: held by run {self.run_id}, which began making it visible and must finish"
                " (a retry of that run does)"
            )
        if self.outcome == OUTCOME_HELD:
            return f"{self.obj.uri}: claimed by run {self.run_id} until {self.lease_expires}"
        return f"{self.obj.uri}: claimed by run {self.run_id} until {self.lease_expires}"


@dataclass(frozen=True)
class FileRecord:
    """A ledger item, as stored."""

    object_key: str
    object_version: str
    dataset: str
    run_id: str
    state: str
    bucket: str
    key: str
    version_id: Optional[str]
    etag: str
    size: int
    last_modified: Optional[str]
    claimed_at: Optional[str]
    updated_at: Optional[str]
    finished_at: Optional[str]
    lease_expires_at: Optional[int]
    attempts: int
    rows_read: Optional[int]
    rows_written: Optional[int]
    rows_quarantined: Optional[int]
    rows_duplicate: Optional[int]
    reason: Optional[str]
    quarantine_uri: Optional[str]
    commit_run: Optional[str] = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def source(self) -> SourceObject:
        return SourceObject(self.bucket, self.key, self.version_id, self.etag, self.size, self.last_modified)

    @classmethod
    def from_values(cls, values: Dict[str, Any]) -> FileRecord:
        def opt_int(name: str) -> Optional[int]:
            value = values.get(name)
            return None if value is None else int(value)

        return cls(
            object_key=str(values["object_key"]),
            object_version=str(values["object_version"]),
            dataset=str(values.get("dataset", "")),
            run_id=str(values.get("run_id", "")),
            state=str(values.get("state", "")),
            bucket=str(values.get("bucket", "")),
            key=str(values.get("key", "")),
            version_id=values.get("version_id"),
            etag=str(values.get("etag", "")),
            size=int(values.get("size", 0)),
            last_modified=values.get("last_modified"),
            claimed_at=values.get("claimed_at"),
            updated_at=values.get("updated_at"),
            finished_at=values.get("finished_at"),
            lease_expires_at=opt_int("lease_expires_at"),
            attempts=int(values.get("attempts", 0)),
            rows_read=opt_int("rows_read"),
            rows_written=opt_int("rows_written"),
            rows_quarantined=opt_int("rows_quarantined"),
            rows_duplicate=opt_int("rows_duplicate"),
            reason=values.get("reason"),
            quarantine_uri=values.get("quarantine_uri"),
            commit_run=values.get("commit_run"),
        )


class FileLedger:
    """Claims, leases and outcomes of raw objects in the ``files`` table."""

    def __init__(self, dynamodb_client: Any, table_name: str) -> None:
        self._ddb = dynamodb_client
        self.table_name = table_name

    def claim(
        self,
        obj: SourceObject,
        dataset: str,
        run_id: str,
        lease_seconds: int = 3600,
        force: bool = False,
        now: Optional[datetime] = None,
        resume: bool = False,
    ) -> Claim:
        """Claim ``obj`` for ``run_id`` with one conditional write.

        Claims when the object is new, already claimed by this run, claimed under an expired lease,
        FAILED, or (with ``force``) SUCCEEDED/QUARANTINED. Otherwise reports ``DONE`` or ``HELD``.
        A live claim of another run is never taken over, even with ``force``, and neither is a claim
        marked ``commit_run`` by another run. ``resume`` lets a run that is finishing an interrupted
        commit claim again the objects it had already recorded as done.
        """
        stamp, now_epoch = iso(now), epoch(now)
        expires = now_epoch + int(lease_seconds)
        condition = (
            "attribute_not_exists(#object_key)"
            " OR (#state = :claimed AND (#run_id = :run"
            " OR (#lease_expires_at < :now AND attribute_not_exists(#commit_run))))"
            " OR (#state = :failed AND (attribute_not_exists(#commit_run) OR #commit_run = :run))"
        )
        values: Dict[str, Any] = {
            ":claimed": CLAIMED,
            ":failed": FAILED,
            ":run": run_id,
            ":now": now_epoch,
            ":dataset": dataset,
            ":stamp": stamp,
            ":expires": expires,
            ":bucket": obj.bucket,
            ":key": obj.key,
            ":etag": obj.etag,
            ":size": int(obj.size),
            ":zero": 0,
            ":one": 1,
        }
        if force:
            condition += " OR #state IN (:succeeded, :quarantined)"
            values.update({":succeeded": SUCCEEDED, ":quarantined": QUARANTINED})
        elif resume:
            condition += " OR (#run_id = :run AND #state IN (:succeeded, :quarantined))"
            values.update({":succeeded": SUCCEEDED, ":quarantined": QUARANTINED})
        sets = [
            "#dataset = :dataset",
            "#run_id = :run",
            "#state = :claimed",
            "#claimed_at = :stamp",
            "#updated_at = :stamp",
            "#lease_expires_at = :expires",
            "#bucket = :bucket",
            "#key = :key",
            "#etag = :etag",
            "#size = :size",
            "#attempts = if_not_exists(#attempts, :zero) + :one",
        ]
        removes = [f"#{name}" for name in (*_COUNTS, "reason", "quarantine_uri", "finished_at")]
        for name, value in (("version_id", obj.version_id), ("last_modified", obj.last_modified)):
            if value is not None:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = value
            else:
                removes.append(f"#{name}")
        expression = f"SET {', '.join(sets)} REMOVE {', '.join(removes)}"
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key=_key(obj),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise translate(exc, f"claiming {obj.uri} for run {run_id}") from exc
            current = old_item(exc) or self._read(obj)
            return _refused(obj, dataset, current)
        stored = from_item(response.get("Attributes"))
        return Claim(
            outcome=OUTCOME_CLAIMED,
            obj=obj,
            dataset=dataset,
            run_id=run_id,
            state=CLAIMED,
            when=stamp,
            lease_expires_at=expires,
            attempts=int(stored.get("attempts", 1)),
        )

    def finish(
        self,
        obj: SourceObject,
        run_id: str,
        state: str,
        rows_read: int,
        rows_written: int,
        rows_quarantined: int,
        rows_duplicate: int,
        reason: Optional[str] = None,
        quarantine_uri: Optional[str] = None,
        now: Optional[datetime] = None,
    ) -> FileRecord:
        """Record the outcome of ``obj`` for the run that claimed it.

        A SUCCEEDED object must balance: rows read = written + quarantined + duplicates dropped
        (:class:`AccountingError` otherwise). Raises :class:`ClaimLostError` when the claim is no
        longer this run's.
        """
        if state not in FINAL_STATES:
            raise ValueError(f"a finished object is one of {', '.join(FINAL_STATES)}, not {state!r}")
        counts = (rows_read, rows_written, rows_quarantined, rows_duplicate)
        if state == SUCCEEDED and rows_read != rows_written + rows_quarantined + rows_duplicate:
            raise AccountingError(
                f"run {run_id}: {obj.uri}: rows read {rows_read} != written {rows_written} + quarantined"
                f" {rows_quarantined} + duplicates {rows_duplicate}",
                hint="this is a bug in the engine; the object stays claimed and the run must not commit",
            )
        stamp = iso(now)
        sets = ["#state = :state", "#updated_at = :stamp", "#finished_at = :stamp"]
        values: Dict[str, Any] = {":state": state, ":stamp": stamp, ":run": run_id}
        for name, count in zip(_COUNTS, counts):
            sets.append(f"#{name} = :{name}")
            values[f":{name}"] = int(count)
        removes = ["#commit_run"] if state in DONE_STATES else []
        for name, text in (("reason", reason), ("quarantine_uri", quarantine_uri)):
            if text is not None:
                sets.append(f"#{name} = :{name}")
                values[f":{name}"] = text
            else:
                removes.append(f"#{name}")
        expression = f"SET {', '.join(sets)}" + (f" REMOVE {', '.join(removes)}" if removes else "")
        stored = self._conditional_update(
            obj,
            run_id,
            expression,
            values,
            condition="attribute_exists(#object_key) AND #run_id = :run",
            action=f"recording {state} for",
        )
        return FileRecord.from_values(stored)

    def mark_committing(self, obj: SourceObject, run_id: str, now: Optional[datetime] = None) -> None:
        """Mark this run's live claim on ``obj``: its rows are about to become visible."""
        self._conditional_update(
            obj,
            run_id,
            "SET #commit_run = :run, #updated_at = :stamp",
            {":stamp": iso(now), ":run": run_id, ":claimed": CLAIMED},
            condition="attribute_exists(#object_key) AND #run_id = :run AND #state = :claimed",
            action="marking the commit of",
        )

    def renew(self, obj: SourceObject, run_id: str, lease_seconds: int, now: Optional[datetime] = None) -> int:
        """Extend this run's claim on ``obj``; returns the new expiry (epoch seconds)."""
        expires = epoch(now) + int(lease_seconds)
        self._conditional_update(
            obj,
            run_id,
            "SET #lease_expires_at = :expires, #updated_at = :stamp",
            {":expires": expires, ":stamp": iso(now), ":run": run_id, ":claimed": CLAIMED},
            condition="attribute_exists(#object_key) AND #run_id = :run AND #state = :claimed",
            action="renewing the lease on",
        )
        return expires

    def get(self, obj: SourceObject) -> Optional[FileRecord]:
        values = self._read(obj)
        return FileRecord.from_values(values) if values else None

    def same_content(self, obj: SourceObject) -> Optional[FileRecord]:
        """An earlier version of ``obj``'s key, already ingested, with the same ETag and size: the
        same bytes delivered again (a re-upload of an unchanged file). None if there is none."""
        object_key, version = obj.ledger_key
        items = self._query(
            f"listing the versions of {obj.uri}",
            KeyConditionExpression="#object_key = :key",
            ExpressionAttributeNames={"#object_key": "object_key"},
            ExpressionAttributeValues={":key": attr(object_key)},
            ConsistentRead=True,
        )
        for record in (FileRecord.from_values(i) for i in items):
            if (
                record.object_version != version
                and record.state in DONE_STATES
                and record.etag == obj.etag
                and record.size == obj.size
            ):
                return record
        return None

    def for_run(self, run_id: str) -> List[FileRecord]:
        """Every object a run claimed, by object key (the ``by_run`` index is eventually consistent)."""
        items = self._query(
            f"listing the objects of run {run_id}",
            IndexName=BY_RUN_INDEX,
            KeyConditionExpression="#run_id = :run",
            ExpressionAttributeNames={"#run_id": "run_id"},
            ExpressionAttributeValues={":run": attr(run_id)},
        )
        return [FileRecord.from_values(i) for i in items]

    def for_dataset(
        self,
        dataset: str,
        since: Optional[Union[datetime, str]] = None,
        until: Optional[Union[datetime, str]] = None,
        state: Optional[str] = None,
    ) -> List[FileRecord]:
        """Objects of ``dataset`` last updated in [since, until], newest first, optionally of one state."""
        condition = "#dataset = :dataset"
        values: Dict[str, Any] = {":dataset": dataset}
        if since is not None and until is not None:
            condition += " AND #updated_at BETWEEN :since AND :until"
            values.update({":since": iso_bound(since), ":until": iso_bound(until)})
        elif since is not None:
            condition += " AND #updated_at >= :since"
            values[":since"] = iso_bound(since)
        elif until is not None:
            condition += " AND #updated_at <= :until"
            values[":until"] = iso_bound(until)
        kwargs: Dict[str, Any] = {}
        if state is not None:
            kwargs["FilterExpression"] = "#state = :state"
            values[":state"] = state
        items = self._query(
            f"listing the objects of dataset {dataset}",
            IndexName=BY_DATASET_INDEX,
            KeyConditionExpression=condition,
            ExpressionAttributeNames=names_for(condition, kwargs.get("FilterExpression")),
            ExpressionAttributeValues=values_for(values),
            ScanIndexForward=False,
            **kwargs,
        )
        return [FileRecord.from_values(i) for i in items]

    # -- internals ----------------------------------------------------------------------------

    def _conditional_update(
        self,
        obj: SourceObject,
        run_id: str,
        expression: str,
        values: Dict[str, Any],
        condition: str,
        action: str,
    ) -> Dict[str, Any]:
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key=_key(obj),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise translate(exc, f"{action} {obj.uri} (run {run_id})") from exc
            current = old_item(exc) or self._read(obj)
            raise _claim_lost(obj, run_id, current, action) from None
        return from_item(response.get("Attributes"))

    def _read(self, obj: SourceObject) -> Dict[str, Any]:
        try:
            response = self._ddb.get_item(TableName=self.table_name, Key=_key(obj), ConsistentRead=True)
        except ClientError as exc:
            raise translate(exc, f"reading the ledger entry of {obj.uri}") from exc
        return from_item(response.get("Item"))

    def _query(self, action: str, **kwargs: Any) -> List[Dict[str, Any]]:
        try:
            return list(paginate(self._ddb, "query", "Items", TableName=self.table_name, **kwargs))
        except ClientError as exc:
            raise translate(exc, action) from exc


def _key(obj: SourceObject) -> Dict[str, Any]:
    object_key, object_version = obj.ledger_key
    return to_item({"object_key": object_key, "object_version": object_version})


def _refused(obj: SourceObject, dataset: str, current: Dict[str, Any]) -> Claim:
    state = str(current.get("state", ""))
    expires = current.get("lease_expires_at")
    done = state in DONE_STATES
    return Claim(
        outcome=OUTCOME_DONE if done else OUTCOME_HELD,
        obj=obj,
        dataset=str(current.get("dataset", dataset)),
        run_id=str(current.get("run_id", "")),
        state=state,
        when=(current.get("finished_at") or current.get("updated_at")) if done else current.get("claimed_at"),
        lease_expires_at=None if expires is None else int(expires),
        attempts=int(current.get("attempts", 0)),
        committing=not done and current.get("commit_run") is not None,
    )


def _claim_lost(obj: SourceObject, run_id: str, current: Dict[str, Any], action: str) -> ClaimLostError:
    if not current:
        return ClaimLostError(
            f"run {run_id}: {action} {obj.uri}: the object was never claimed",
            hint="claim an object before recording its outcome",
        )
    holder = current.get("run_id")
    if holder == run_id:
        return ClaimLostError(
            f"run {run_id}: {action} {obj.uri}: the claim is already {current.get('state')}",
            hint="claim the object again before processing it",
        )
    return ClaimLostError(
        f"run {run_id}: {action} {obj.uri}: the object now belongs to run {holder}"
        f" ({current.get('state')}, since {current.get('claimed_at')}); this run's lease expired",
        hint="this run's results for the object must not be committed; renew leases more often than"
        " they expire, or raise lease_seconds",
    )
