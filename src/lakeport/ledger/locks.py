"""One run at a time per dataset: a leased lock on the dataset's head item in the ``datasets`` table.

The lock lives in two attributes of the registry's head item (``version = 0``): ``lock_owner`` (the
run id holding it) and ``lock_expires_at`` (epoch seconds). The registry's optimistic lock uses other
attributes (``latest_version``), so applying a contract and holding the dataset lock never interfere.
A lock whose lease ran out is free: a crashed run does not block the dataset for longer than its
lease. The lease is short (minutes) because a live run renews it (:class:`Heartbeat`), so a killed
run (kill -9, a lost host) frees its dataset minutes later, not hours. The lock never creates the
head item; a dataset without a contract has nothing to lock.

A run that starts making its output visible (the catalog switch) first records ``commit_run`` (its
run id) on the same item. Until :meth:`DatasetLock.end_commit` clears it, no *other* run can take the
lock, even after the lease ran out: a run stopped part-way through its switch is finished by a retry
of the same run id, and no other run may write on top of a half-switched table in the meantime.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from lakeport.aws import translate
from lakeport.clock import epoch, from_epoch, iso
from lakeport.dynamo import attr, from_item, is_condition_failure, names_for, old_item, values_for
from lakeport.errors import ClaimLostError, DatasetBusyError, DatasetNotFoundError

HEAD_VERSION = 0


@dataclass(frozen=True)
class LockLease:
    dataset: str
    owner: str
    expires_at: int
    resuming: bool = False
    """True when ``owner`` had begun its commit in an earlier attempt and must finish it now."""
    taken_from: Optional[str] = None
    """The run whose lease had expired when ``owner`` took the lock: it stopped renewing it (killed,
    or its process lost) without releasing it."""
    taken_from_expired_at: Optional[int] = None

    @property
    def expires(self) -> str:
        return iso(from_epoch(self.expires_at))


class DatasetLock:
    """Acquire, renew and release the per-dataset lock."""

    def __init__(self, dynamodb_client: Any, datasets_table: str) -> None:
        self._ddb = dynamodb_client
        self.table_name = datasets_table

    def acquire(self, dataset: str, owner: str, lease_seconds: int, now: Optional[datetime] = None) -> LockLease:
        """Take the lock for ``owner`` (free, expired, or already ``owner``'s).

        Raises :class:`DatasetBusyError` (transient) naming the holder and its expiry otherwise, and
        :class:`DatasetNotFoundError` when the dataset has no contract.
        """
        now_epoch = epoch(now)
        expires = now_epoch + int(lease_seconds)
        before = self._update(
            dataset,
            owner,
            "SET #lock_owner = :owner, #lock_expires_at = :expires, #lock_acquired_at = :stamp",
            "attribute_exists(#dataset) AND (attribute_not_exists(#commit_run) OR #commit_run = :owner)"
            " AND (attribute_not_exists(#lock_owner) OR #lock_expires_at < :now OR #lock_owner = :owner)",
            {":owner": owner, ":expires": expires, ":stamp": iso(now), ":now": now_epoch},
            action="acquiring the lock of",
            returns="ALL_OLD",
        )
        previous = before.get("lock_owner")
        dead = previous if previous and previous != owner else None
        return LockLease(
            dataset,
            owner,
            expires,
            resuming=before.get("commit_run") == owner,
            taken_from=dead,
            taken_from_expired_at=int(before["lock_expires_at"]) if dead and "lock_expires_at" in before else None,
        )

    def begin_commit(self, dataset: str, owner: str, now: Optional[datetime] = None) -> None:
        """Record that ``owner`` (holding the lock) starts making its output visible."""
        self._update(
            dataset,
            owner,
            "SET #commit_run = :owner, #commit_started_at = :stamp",
            "attribute_exists(#dataset) AND #lock_owner = :owner",
            {":owner": owner, ":stamp": iso(now)},
            action="beginning the commit of",
        )

    def end_commit(self, dataset: str, owner: str) -> bool:
        """Clear ``owner``'s commit record once its output and ledgers are complete; ``False`` if none."""
        expression = "REMOVE #commit_run, #commit_started_at"
        condition = "attribute_exists(#dataset) AND #commit_run = :owner"
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key=_head_key(dataset),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for({":owner": owner}),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise translate(exc, f"ending the commit of run {owner} on dataset {dataset}") from exc
        return True

    def incomplete_commit(self, dataset: str) -> Optional[str]:
        """The run whose commit on ``dataset`` began and has not finished, if any."""
        return self._read(dataset).get("commit_run")

    def renew(self, dataset: str, owner: str, lease_seconds: int, now: Optional[datetime] = None) -> LockLease:
        """Extend ``owner``'s lock. Raises :class:`DatasetBusyError` if another run holds it now."""
        expires = epoch(now) + int(lease_seconds)
        self._update(
            dataset,
            owner,
            "SET #lock_expires_at = :expires",
            "attribute_exists(#dataset) AND #lock_owner = :owner",
            {":owner": owner, ":expires": expires},
            action="renewing the lock of",
        )
        return LockLease(dataset, owner, expires)

    def release(self, dataset: str, owner: str) -> bool:
        """Release ``owner``'s lock; ``False`` (and nothing changed) when ``owner`` does not hold it."""
        expression = "REMOVE #lock_owner, #lock_expires_at, #lock_acquired_at"
        condition = "attribute_exists(#dataset) AND #lock_owner = :owner"
        try:
            self._ddb.update_item(
                TableName=self.table_name,
                Key=_head_key(dataset),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for({":owner": owner}),
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise translate(exc, f"releasing the lock of dataset {dataset} (run {owner})") from exc
        return True

    def holder(self, dataset: str, now: Optional[datetime] = None) -> Optional[LockLease]:
        """The live lock of ``dataset``, if any (an expired lock counts as free)."""
        try:
            response = self._ddb.get_item(
                TableName=self.table_name,
                Key=_head_key(dataset),
                ProjectionExpression="#lock_owner, #lock_expires_at",
                ExpressionAttributeNames=names_for("#lock_owner, #lock_expires_at"),
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise translate(exc, f"reading the lock of dataset {dataset}") from exc
        item = response.get("Item") or {}
        if "lock_owner" not in item or int(item["lock_expires_at"]["N"]) < epoch(now):
            return None
        return LockLease(dataset, item["lock_owner"]["S"], int(item["lock_expires_at"]["N"]))

    def _update(
        self,
        dataset: str,
        owner: str,
        expression: str,
        condition: str,
        values: Dict[str, Any],
        action: str,
        returns: str = "ALL_NEW",
    ) -> Dict[str, Any]:
        try:
            response = self._ddb.update_item(
                TableName=self.table_name,
                Key=_head_key(dataset),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names_for(expression, condition),
                ExpressionAttributeValues=values_for(values),
                ReturnValues=returns,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise translate(exc, f"{action} dataset {dataset} (run {owner})") from exc
            current = old_item(exc) or self._read(dataset)
            raise _refusal(dataset, owner, current, action) from None
        return from_item(response.get("Attributes"))

    def _read(self, dataset: str) -> Dict[str, Any]:
        try:
            response = self._ddb.get_item(TableName=self.table_name, Key=_head_key(dataset), ConsistentRead=True)
        except ClientError as exc:
            raise translate(exc, f"reading the lock of dataset {dataset}") from exc
        return from_item(response.get("Item"))


def _head_key(dataset: str) -> Dict[str, Any]:
    return {"dataset": attr(dataset), "version": attr(HEAD_VERSION)}


def _refusal(dataset: str, owner: str, current: Dict[str, Any], action: str) -> Exception:
    if not current:
        return DatasetNotFoundError(
            f"dataset {dataset} has no contract in the registry, so run {owner} cannot lock it",
            hint="apply one first: lakeport contract apply <file>",
        )
    committing = current.get("commit_run")
    if committing is not None and committing != owner:
        return DatasetBusyError(
            f"dataset {dataset}: run {committing} made part of its output visible and has not finished;"
            f" no other run (here {owner}) may write until it does",
            hint=f"it is retried automatically; if its retries are exhausted, finish it with"
            f" 'lakeport replay {dataset} --run {committing}'",
        )
    holder = current.get("lock_owner")
    if holder is None:
        return DatasetBusyError(
            f"dataset {dataset}: run {owner} no longer holds the lock (it was released or taken over)",
            hint="acquire the lock again before going on",
        )
    expires = current.get("lock_expires_at")
    until = iso(from_epoch(int(expires))) if expires is not None else "unknown"
    return DatasetBusyError(
        f"dataset {dataset} is locked by run {holder} until {until}; run {owner} must wait",
        hint=f"a live run renews its lease every minute, so a killed one frees the dataset by {until} and"
        f" the next ingest takes over; to finish run {holder} now: 'lakeport replay {dataset} --run {holder}'"
        " ('lakeport runs' shows what is running)",
    )


class Heartbeat:
    """Renews a run's dataset lock and its object claims from a background thread while the run
    lives, so both leases can be short: if the process dies, renewals stop and the leases run out.

    A renewal the lock refuses (another run took it after a stall longer than the lease) stops the
    heartbeat and is kept in :attr:`lost`; the run's commit then fails its own lock check, so two
    runs never write at once.
    """

    def __init__(
        self,
        lock: DatasetLock,
        files: Any,
        dataset: str,
        owner: str,
        lease_seconds: int,
        claim_lease_seconds: int,
        every_seconds: float,
    ) -> None:
        import threading

        self.lock, self.files, self.dataset, self.owner = lock, files, dataset, owner
        self.lease_seconds, self.claim_lease_seconds, self.every_seconds = (
            lease_seconds,
            claim_lease_seconds,
            every_seconds,
        )
        self.claims: List[Any] = []
        self.lost: Optional[Exception] = None
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{owner}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=max(5.0, self.every_seconds))

    def watch(self, claims: List[Any]) -> None:
        """Renew these object claims too from now on."""
        self.claims = list(claims)

    def _run(self) -> None:
        import logging

        log = logging.getLogger("lakeport.ingest")
        while not self._stop.wait(self.every_seconds):
            try:
                self.lock.renew(self.dataset, self.owner, self.lease_seconds)
                for obj in list(self.claims):
                    try:
                        self.files.renew(obj, self.owner, self.claim_lease_seconds)
                    except ClaimLostError:  # finished (its outcome recorded) or taken back: not ours to renew
                        self.claims.remove(obj)
                self.beats += 1
            except DatasetBusyError as exc:
                self.lost = exc
                log.warning("run %s lost the lock of %s: %s", self.owner, self.dataset, exc)
                return
            except Exception as exc:  # a missed beat is retried at the next one; the lease allows several
                log.warning("run %s could not renew its leases on %s: %s", self.owner, self.dataset, exc)
