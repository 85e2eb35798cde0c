"""The contract registry: every applied version of every dataset contract, in the ``datasets`` table.

Layout (hash key ``dataset`` S, range key ``version`` N):

* the **head** item, ``version = 0``, describes the latest contract. Three attributes are read
  directly by the state machine's ``LoadContract`` step and stay top-level: ``latest_version`` (N),
  ``engine`` (S) and ``spark_threshold_bytes`` (N). Beside them: ``document`` (the latest contract as
  canonical JSON text), ``digest`` (its sha256), ``updated_at`` and ``updated_by``. The dataset lock
  (:mod:`lakeport.ledger.locks`) keeps its own attributes on the same item and is never touched here.
* one immutable **version** item per applied version ``n >= 1``: ``document``, ``digest``,
  ``applied_at``, ``applied_by``. Old versions stay readable, so a replay can pin one.

Applying writes the version item and moves the head in one transaction whose condition is the
version the applier read (an optimistic lock): of two people applying at once, one wins and the
other is told to diff and apply again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from botocore.exceptions import ClientError

from .aws import error_code, translate
from .clock import iso
from .contract import Contract, load_contract_data
from .contract.compat import Change, breaking_changes, compare
from .dynamo import attr, cancellation_codes, from_item, names_for, paginate
from .errors import AwsTransientError, ContractConflictError, DatasetNotFoundError

HEAD_VERSION = 0
APPLY_HINT = "lakeport contract apply <file>"


@dataclass(frozen=True)
class ApplyResult:
    """What :meth:`ContractRegistry.apply` did: the version now in force and the changes it made."""

    dataset: str
    version: int
    changed: bool
    changes: List[Change] = field(default_factory=list)

    @property
    def breaking(self) -> List[Change]:
        """Breaking changes applied anyway (only with ``allow_breaking``)."""
        return breaking_changes(self.changes)


@dataclass(frozen=True)
class DatasetSummary:
    dataset: str
    latest_version: int
    owner: str
    source_prefix: str
    format: str
    write_mode: str
    updated_at: str


@dataclass(frozen=True)
class ContractVersion:
    version: int
    applied_at: str
    applied_by: str
    digest: str


def canonical_json(contract: Contract) -> str:
    """The contract's document as JSON with sorted keys and no spaces: equal contracts, equal text."""
    return json.dumps(contract.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def contract_digest(contract: Contract) -> str:
    return hashlib.sha256(canonical_json(contract).encode("utf-8")).hexdigest()


class ContractRegistry:
    """Apply, read, list and compare dataset contracts stored in the ``datasets`` table."""

    def __init__(self, dynamodb_client: Any, table_name: str) -> None:
        self._ddb = dynamodb_client
        self.table_name = table_name
        self._cache: Optional[Tuple[float, List[Contract]]] = None

    # -- writing ------------------------------------------------------------------------------

    def apply(
        self,
        contract: Contract,
        applied_by: str,
        allow_breaking: bool = False,
        *,
        expected_version: Optional[int] = None,
    ) -> ApplyResult:
        """Store ``contract`` as the dataset's next version, unless it is identical to the latest.

        ``expected_version`` is the latest version the caller based its change on (default: the one
        read now). Raises :class:`ContractConflictError` for breaking changes (unless
        ``allow_breaking``) and when another apply got in first.
        """
        dataset = contract.dataset
        head = self._head(dataset)
        latest = int(head.get("latest_version", 0)) if head else 0
        document = canonical_json(contract)
        digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
        if head and head.get("digest") == digest:
            return ApplyResult(dataset, latest, False, [])

        expected = latest if expected_version is None else expected_version
        # the change is judged against the version the applier based it on; if that is no longer
        # the latest, the conditional write below fails and says so
        if expected == latest:
            base = self._parse(head, dataset, latest) if head else None
        else:
            base = self.get(dataset, expected) if expected > HEAD_VERSION else None
        changes = compare(base, contract)
        breaking = breaking_changes(changes)
        if breaking and not allow_breaking:
            raise _breaking_error(contract, expected, breaking)

        version = expected + 1
        now = iso()
        try:
            self._ddb.transact_write_items(
                TransactItems=[
                    {"Put": self._version_put(dataset, version, document, digest, now, applied_by, breaking)},
                    {"Update": self._head_update(contract, version, expected, document, digest, now, applied_by)},
                ]
            )
        except ClientError as exc:
            raise self._apply_error(exc, dataset, expected) from exc
        self._cache = None
        return ApplyResult(dataset, version, True, changes)

    def _version_put(
        self,
        dataset: str,
        version: int,
        document: str,
        digest: str,
        now: str,
        applied_by: str,
        breaking: List[Change],
    ) -> Dict[str, Any]:
        item = {
            "dataset": attr(dataset),
            "version": attr(version),
            "document": attr(document),
            "digest": attr(digest),
            "applied_at": attr(now),
            "applied_by": attr(applied_by),
        }
        if breaking:
            item["breaking_changes"] = attr([c.describe() for c in breaking])
        return {
            "TableName": self.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(#dataset)",
            "ExpressionAttributeNames": {"#dataset": "dataset"},
        }

    def _head_update(
        self,
        contract: Contract,
        version: int,
        expected: int,
        document: str,
        digest: str,
        now: str,
        applied_by: str,
    ) -> Dict[str, Any]:
        values = {
            ":version": attr(version),
            ":engine": attr(contract.engine),
            ":threshold": attr(contract.spark_threshold_bytes),
            ":doc": attr(document),
            ":digest": attr(digest),
            ":at": attr(now),
            ":by": attr(applied_by),
        }
        if expected == HEAD_VERSION:
            condition = "attribute_not_exists(#dataset)"
        else:
            condition = "#latest_version = :expected"
            values[":expected"] = attr(expected)
        expression = (
            "SET #latest_version = :version, #engine = :engine, #spark_threshold_bytes = :threshold,"
            " #document = :doc, #digest = :digest, #updated_at = :at, #updated_by = :by"
        )
        return {
            "TableName": self.table_name,
            "Key": self._key(contract.dataset, HEAD_VERSION),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names_for(expression, condition),
            "ExpressionAttributeValues": values,
        }

    def _apply_error(self, exc: ClientError, dataset: str, expected: int) -> Exception:
        code = error_code(exc)
        if code == "TransactionCanceledException":
            reasons = cancellation_codes(exc)
            if "ConditionalCheckFailed" in reasons:
                head = self._head(dataset)
                now_latest = int(head.get("latest_version", 0)) if head else 0
                return ContractConflictError(
                    f"dataset {dataset}: someone applied version {now_latest} meanwhile"
                    f" (this apply was based on version {expected})",
                    hint=f"run 'lakeport contract diff <file>' to see what changed, then '{APPLY_HINT}' again",
                )
            if "TransactionConflict" in reasons:
                return AwsTransientError(
                    f"dataset {dataset}: another write to the contract was in progress", hint="apply again"
                )
        return translate(exc, f"applying the contract of dataset {dataset}")

    # -- reading ------------------------------------------------------------------------------

    def get(self, dataset: str, version: Optional[int] = None) -> Contract:
        """The latest contract of ``dataset`` (or the given version), with ``version`` set."""
        if version is None:
            head = self._head(dataset)
            if not head:
                raise _not_found(dataset)
            latest = int(head["latest_version"])
            return self._parse(head, dataset, latest)
        if version <= HEAD_VERSION:
            raise ValueError(f"contract versions start at 1 (got {version})")
        item = self._get_item(dataset, version)
        if not item:
            head = self._head(dataset)
            if not head:
                raise _not_found(dataset)
            raise DatasetNotFoundError(
                f"dataset {dataset} has no contract version {version} (the latest is {head['latest_version']})",
                hint=f"'lakeport contract history {dataset}' lists the versions",
            )
        return self._parse(item, dataset, version)

    def latest_version(self, dataset: str) -> Optional[int]:
        """The latest applied version, or ``None`` when the dataset has no contract."""
        head = self._head(dataset)
        return int(head["latest_version"]) if head else None

    def list(self) -> List[DatasetSummary]:
        """One summary per dataset, sorted by name."""
        summaries = []
        for head in self._heads():
            contract = self._parse(head, head["dataset"], int(head["latest_version"]))
            summaries.append(
                DatasetSummary(
                    dataset=contract.dataset,
                    latest_version=int(head["latest_version"]),
                    owner=contract.owner,
                    source_prefix=contract.source.prefix,
                    format=contract.source.format,
                    write_mode=contract.write_mode,
                    updated_at=str(head.get("updated_at", "")),
                )
            )
        return sorted(summaries, key=lambda s: s.dataset)

    def history(self, dataset: str) -> List[ContractVersion]:
        """Every applied version of ``dataset``, newest first."""
        try:
            items = list(
                paginate(
                    self._ddb,
                    "query",
                    "Items",
                    TableName=self.table_name,
                    KeyConditionExpression="#ds = :ds AND #v > :head",
                    ExpressionAttributeNames={"#ds": "dataset", "#v": "version"},
                    ExpressionAttributeValues={":ds": attr(dataset), ":head": attr(HEAD_VERSION)},
                    ProjectionExpression="#v, applied_at, applied_by, digest",
                    ScanIndexForward=False,
                    ConsistentRead=True,
                )
            )
        except ClientError as exc:
            raise translate(exc, f"reading the contract history of dataset {dataset}") from exc
        if not items:
            raise _not_found(dataset)
        return [
            ContractVersion(int(i["version"]), str(i["applied_at"]), str(i["applied_by"]), str(i["digest"]))
            for i in items
        ]

    def diff(self, contract: Contract) -> List[Change]:
        """What applying ``contract`` would change (empty when it is what is applied)."""
        head = self._head(contract.dataset)
        if not head:
            return compare(None, contract)
        if head.get("digest") == contract_digest(contract):
            return []
        return compare(self._parse(head, contract.dataset, int(head["latest_version"])), contract)

    def match_key(self, key: str, max_age_seconds: float = 30.0) -> Optional[Contract]:
        """The contract whose ``source.prefix`` is the longest prefix of the raw object ``key``.

        The latest contracts are cached for ``max_age_seconds``; a key that matches nothing in the
        cache reloads it once, so a dataset applied a moment ago is found at once. A cached contract
        may be up to ``max_age_seconds`` older than the latest: use it to route, and :meth:`get` for
        the version a run works with.
        """
        contracts, fresh = self._cached_contracts(max_age_seconds)
        found = _longest_prefix(contracts, key)
        if found is None and not fresh:
            contracts, _ = self._cached_contracts(0.0)
            found = _longest_prefix(contracts, key)
        return found

    # -- internals ----------------------------------------------------------------------------

    def _cached_contracts(self, max_age_seconds: float) -> Tuple[List[Contract], bool]:
        now = time.monotonic()
        if self._cache is not None and max_age_seconds > 0 and now - self._cache[0] <= max_age_seconds:
            return self._cache[1], False
        contracts = [self._parse(h, h["dataset"], int(h["latest_version"])) for h in self._heads()]
        self._cache = (now, contracts)
        return contracts, True

    def _heads(self) -> List[Dict[str, Any]]:
        try:
            return list(
                paginate(
                    self._ddb,
                    "scan",
                    "Items",
                    TableName=self.table_name,
                    FilterExpression="#v = :head",
                    ExpressionAttributeNames={"#v": "version"},
                    ExpressionAttributeValues={":head": attr(HEAD_VERSION)},
                    ConsistentRead=True,
                )
            )
        except ClientError as exc:
            raise translate(exc, f"listing the datasets in table {self.table_name}") from exc

    def _head(self, dataset: str) -> Dict[str, Any]:
        return self._get_item(dataset, HEAD_VERSION)

    def _get_item(self, dataset: str, version: int) -> Dict[str, Any]:
        try:
            response = self._ddb.get_item(
                TableName=self.table_name, Key=self._key(dataset, version), ConsistentRead=True
            )
        except ClientError as exc:
            raise translate(exc, f"reading the contract of dataset {dataset}") from exc
        return from_item(response.get("Item"))

    @staticmethod
    def _key(dataset: str, version: int) -> Dict[str, Any]:
        return {"dataset": attr(dataset), "version": attr(version)}

    @staticmethod
    def _parse(item: Dict[str, Any], dataset: str, version: int) -> Contract:
        document = json.loads(str(item["document"]))
        contract = load_contract_data(document, source=f"datasets table: {dataset} version {version}")
        return contract.model_copy(update={"version": version})


def _longest_prefix(contracts: List[Contract], key: str) -> Optional[Contract]:
    best: Optional[Contract] = None
    for contract in contracts:
        prefix = contract.source.prefix
        if key.startswith(prefix) and (best is None or len(prefix) > len(best.source.prefix)):
            best = contract
    return best


def _not_found(dataset: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"dataset {dataset} has no contract in the registry",
        hint=f"apply one first: {APPLY_HINT}; 'lakeport contract list' shows what is applied",
    )


def _breaking_error(contract: Contract, latest: int, breaking: List[Change]) -> ContractConflictError:
    lines = [
        f"dataset {contract.dataset}: the contract would break the table applied as version {latest}"
        f" (schema_evolution: {contract.schema_evolution}); {len(breaking)} breaking change(s):"
    ]
    lines += [f"  - {change.describe()}" for change in breaking]
    return ContractConflictError(
        "\n".join(lines),
        hint="undo these changes; or create the new structure as a new dataset and backfill it; or, if you"
        " will rewrite the existing data yourself, apply with --allow-breaking",
    )
