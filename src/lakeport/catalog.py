"""Plain (Hive-style) Glue tables, registered by lakeport itself (no crawler): the quarantine tables.

The curated tables are Iceberg tables (:mod:`lakeport.iceberg`); what is here serves the tables that
need no snapshots. A table is built from its contract: Parquet SerDe, the contract's columns (with their
comments) followed by the lineage columns, and the contract's partition keys. An existing table only
ever evolves additively — new columns are appended and types may widen; anything else is refused
(the registry refuses such contracts first; this is the second line).

Partitions are written with the batch APIs, 100 per call; a retried run registers the same
partitions again, which changes nothing.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from botocore.exceptions import ClientError

from .aws import TRANSIENT_CODES, error_code, translate
from .contract import LINEAGE_COLUMNS, Contract
from .contract.types import TypeParseError, is_widening, parse_type
from .errors import AwsTransientError, ConfigurationError, ContractConflictError

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
QUARANTINE_PARTITION_KEY = ("lakeport_run_id", "string")
DATA_TABLE = "data"
QUARANTINE_TABLE = "quarantine"

CREATE_BATCH = 100  # BatchCreatePartition / BatchUpdatePartition limit per call
GET_BATCH = 1000  # BatchGetPartition limit per call
DELETE_BATCH = 25  # BatchDeletePartition limit per call
_RETRYABLE = TRANSIENT_CODES | {"OperationTimeoutException", "ConcurrentModificationException"}
# TableInput accepts only these keys of what GetTable returns
_TABLE_INPUT_KEYS = (
    "Name",
    "Description",
    "Owner",
    "LastAccessTime",
    "LastAnalyzedTime",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
)

PartitionValues = Tuple[str, ...]


@dataclass(frozen=True)
class ColumnSpec:
    """A catalog column: name, Glue type and optional comment."""

    name: str
    type: str
    comment: Optional[str] = None

    def as_glue(self) -> Dict[str, str]:
        column = {"Name": self.name, "Type": self.type}
        if self.comment:
            column["Comment"] = self.comment
        return column

    @classmethod
    def from_glue(cls, column: Mapping[str, Any]) -> ColumnSpec:
        return cls(str(column["Name"]), str(column["Type"]), column.get("Comment"))


ColumnLike = Union[str, ColumnSpec, Tuple[str, str], Tuple[str, str, Optional[str]]]


@dataclass(frozen=True)
class TableState:
    """A table after :meth:`Catalog.ensure_table`: what it holds and what this call changed."""

    database: str
    table: str
    location: str
    columns: List[ColumnSpec]
    partition_keys: List[ColumnSpec]
    created: bool = False
    updated: bool = False
    added_columns: List[str] = field(default_factory=list)
    widened_columns: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class PartitionChanges:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class Catalog:
    """Databases, tables and partitions of the Glue Data Catalog, through one Glue client."""

    def __init__(self, glue_client: Any, *, max_attempts: int = 5, backoff_seconds: float = 0.5) -> None:
        self._glue = glue_client
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds

    # -- databases and tables -------------------------------------------------------------------

    def ensure_database(self, name: str, description: Optional[str] = None) -> bool:
        """Create the database unless it exists; returns whether it was created."""
        database: Dict[str, Any] = {"Name": name}
        if description:
            database["Description"] = description
        try:
            self._glue.create_database(DatabaseInput=database)
        except ClientError as exc:
            if error_code(exc) == "AlreadyExistsException":
                return False
            raise translate(exc, f"creating Glue database {name}") from exc
        return True

    def get_table(self, database: str, table: str) -> Optional[Dict[str, Any]]:
        """The Glue table description, or ``None`` when the table (or its database) does not exist."""
        try:
            return dict(self._glue.get_table(DatabaseName=database, Name=table)["Table"])
        except ClientError as exc:
            if error_code(exc) == "EntityNotFoundException":
                return None
            raise translate(exc, f"reading Glue table {database}.{table}") from exc

    def table_exists(self, database: str, table: str) -> bool:
        return self.get_table(database, table) is not None

    def ensure_table(
        self,
        contract: Contract,
        location: str,
        table_name: Optional[str] = None,
        columns: Optional[Sequence[ColumnLike]] = None,
        partition_keys: Optional[Sequence[ColumnLike]] = None,
        table_type: str = DATA_TABLE,
    ) -> TableState:
        """Create the dataset's table, or evolve an existing one additively.

        ``table_type="data"`` (default) builds the columns from the contract (data columns, then the
        lineage columns) unless ``columns`` are given. ``table_type="quarantine"`` makes
        ``<table>_quarantine`` with the given ``columns`` (plain names are string columns),
        partitioned by ``lakeport_run_id``. ``location`` is used when the table is created; an
        existing table keeps its location.
        """
        database = contract.database
        if table_type == DATA_TABLE:
            name = table_name or contract.table
            wanted = [_spec(c) for c in columns] if columns is not None else _contract_columns(contract)
            keys = (
                [_spec(k) for k in partition_keys]
                if partition_keys is not None
                else [ColumnSpec(n, t) for n, t in contract.partition_key_types()]
            )
        elif table_type == QUARANTINE_TABLE:
            if not columns:
                raise ValueError("a quarantine table needs its columns (the raw text columns and the reason)")
            name = table_name or contract.quarantine_table
            wanted = [_spec(c) for c in columns]
            keys = (
                [_spec(k) for k in partition_keys]
                if partition_keys is not None
                else [ColumnSpec(*QUARANTINE_PARTITION_KEY)]
            )
        else:
            raise ValueError(f"table_type is '{DATA_TABLE}' or '{QUARANTINE_TABLE}', not {table_type!r}")
        parameters = {
            "classification": "parquet",
            "EXTERNAL": "TRUE",
            "parquet.compression": "SNAPPY",
            "lakeport.dataset": contract.dataset,
            "lakeport.contract_version": "" if contract.version is None else str(contract.version),
            "lakeport.table_type": table_type,
        }
        description = contract.description or f"lakeport dataset {contract.dataset}"
        if table_type == QUARANTINE_TABLE:
            description = f"Rows of {contract.dataset} rejected by lakeport, with the reason"

        _check_names(f"{database}.{name}", wanted, keys)
        existing = self.get_table(database, name)
        if existing is None:
            table_input = _table_input(name, description, contract.owner, location, wanted, keys, parameters)
            self._create_table(database, table_input)
            return TableState(database, name, location, wanted, keys, created=True, added_columns=[])

        current_columns = [ColumnSpec.from_glue(c) for c in existing["StorageDescriptor"].get("Columns", [])]
        current_keys = [ColumnSpec.from_glue(c) for c in existing.get("PartitionKeys", [])]
        if _older_than_table(contract, existing):
            # a replay pinned to an older contract writes into the table as it is now
            _check_fits(f"{database}.{name}", contract, current_columns, wanted, current_keys, keys)
            return TableState(database, name, _location(existing), current_columns, current_keys)
        merged, added, widened = _evolve(f"{database}.{name}", contract, current_columns, wanted, current_keys, keys)
        new_parameters = {**existing.get("Parameters", {}), **parameters}
        if (
            merged == current_columns
            and new_parameters == existing.get("Parameters", {})
            and existing.get("Description") == description
            and existing.get("Owner") == contract.owner
        ):
            return TableState(database, name, _location(existing), current_columns, current_keys)
        table_input = _copy_table_input(existing)
        table_input["StorageDescriptor"]["Columns"] = [c.as_glue() for c in merged]
        table_input.update(Parameters=new_parameters, Description=description, Owner=contract.owner)
        self._call(
            "update_table",
            f"updating Glue table {database}.{name}",
            DatabaseName=database,
            TableInput=table_input,
        )
        return TableState(
            database,
            name,
            _location(existing),
            merged,
            current_keys,
            updated=True,
            added_columns=added,
            widened_columns=widened,
        )

    def _create_table(self, database: str, table_input: Dict[str, Any]) -> None:
        action = f"creating Glue table {database}.{table_input['Name']}"
        try:
            self._glue.create_table(DatabaseName=database, TableInput=table_input)
        except ClientError as exc:
            if error_code(exc) != "EntityNotFoundException":
                raise translate(exc, action) from exc
            self.ensure_database(database)
            self._call("create_table", action, DatabaseName=database, TableInput=table_input)

    def table_location(self, database: str, table: str) -> str:
        return _location(self._require_table(database, table))

    # -- partitions ---------------------------------------------------------------------------

    def get_partitions(self, database: str, table: str, expression: Optional[str] = None) -> Dict[PartitionValues, str]:
        """Every partition (or those matching a Glue ``expression``): values -> location."""
        kwargs: Dict[str, Any] = {"DatabaseName": database, "TableName": table}
        if expression:
            kwargs["Expression"] = expression
        found: Dict[PartitionValues, str] = {}
        try:
            for page in self._glue.get_paginator("get_partitions").paginate(**kwargs):
                for partition in page.get("Partitions", []):
                    found[tuple(partition["Values"])] = _location(partition)
        except ClientError as exc:
            raise translate(exc, f"listing the partitions of Glue table {database}.{table}") from exc
        return found

    def set_partitions(
        self,
        database: str,
        table: str,
        partitions: Mapping[Sequence[str], str],
        columns_sd_from_table: bool = True,
    ) -> PartitionChanges:
        """Make each partition (values -> location) exist and point at its location.

        Missing partitions are created (``BatchCreatePartition``), existing ones whose location
        differs are switched (``BatchUpdatePartition``), 100 per call. Entries reported as failed are
        retried with backoff; a partition created or deleted meanwhile moves to the other call.
        """
        described = self._require_table(database, table)
        wanted = {tuple(str(v) for v in values): location for values, location in partitions.items()}
        if not wanted:
            return PartitionChanges()
        key_count = len(described.get("PartitionKeys", []))
        for values in wanted:
            if len(values) != key_count:
                raise ValueError(
                    f"Glue table {database}.{table} has {key_count} partition key(s); got values {list(values)}"
                )
        current = self._existing_partitions(database, table, list(wanted))
        to_create = {v: loc for v, loc in wanted.items() if v not in current}
        to_update = {v: loc for v, loc in wanted.items() if v in current and current[v] != loc}
        unchanged = len(wanted) - len(to_create) - len(to_update)
        template = _partition_sd(described, columns_sd_from_table)

        created = updated = 0
        for attempt in range(self.max_attempts):
            if not to_create and not to_update:
                break
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            done, to_update_more, retry_create = self._create_partitions(database, table, to_create, template)
            created += done
            done, to_create_more, retry_update = self._update_partitions(database, table, to_update, template)
            updated += done
            to_create = {**retry_create, **to_create_more}
            to_update = {**retry_update, **to_update_more}
        left = list(to_create) + list(to_update)
        if left:
            raise AwsTransientError(
                f"Glue table {database}.{table}: {len(left)} partition(s) still failing after"
                f" {self.max_attempts} attempts, e.g. {list(left[0])}",
                hint="retry the run; the partitions already switched point at complete data",
            )
        return PartitionChanges(created=created, updated=updated, unchanged=unchanged)

    # -- internals ------------------------------------------------------------------------------

    def _existing_partitions(
        self, database: str, table: str, values: List[PartitionValues]
    ) -> Dict[PartitionValues, str]:
        found: Dict[PartitionValues, str] = {}
        for chunk in _chunks(values, GET_BATCH):
            pending = [{"Values": list(v)} for v in chunk]
            for attempt in range(self.max_attempts):
                if not pending:
                    break
                if attempt:
                    time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
                response = self._call(
                    "batch_get_partition",
                    f"reading partitions of Glue table {database}.{table}",
                    DatabaseName=database,
                    TableName=table,
                    PartitionsToGet=pending,
                )
                for partition in response.get("Partitions", []):
                    found[tuple(partition["Values"])] = _location(partition)
                pending = list(response.get("UnprocessedKeys") or [])
            if pending:
                raise AwsTransientError(
                    f"Glue table {database}.{table}: could not read {len(pending)} partition(s)",
                    hint="retry later",
                )
        return found

    def _create_partitions(
        self, database: str, table: str, wanted: Dict[PartitionValues, str], template: Dict[str, Any]
    ) -> Tuple[int, Dict[PartitionValues, str], Dict[PartitionValues, str]]:
        """Returns (created, exist already -> update instead, retry)."""
        created, exists, retry = 0, {}, {}
        for chunk in _chunks(list(wanted.items()), CREATE_BATCH):
            response = self._call(
                "batch_create_partition",
                f"creating partitions of Glue table {database}.{table}",
                DatabaseName=database,
                TableName=table,
                PartitionInputList=[_partition_input(v, loc, template) for v, loc in chunk],
            )
            failed = {tuple(e["PartitionValues"]): e["ErrorDetail"] for e in response.get("Errors", [])}
            for values, location in chunk:
                code = failed.get(values, {}).get("ErrorCode")
                if code is None:
                    created += 1
                elif code == "AlreadyExistsException":
                    exists[values] = location
                elif code in _RETRYABLE:
                    retry[values] = location
                else:
                    raise _partition_error(database, table, values, failed[values], "create")
        return created, exists, retry

    def _update_partitions(
        self, database: str, table: str, wanted: Dict[PartitionValues, str], template: Dict[str, Any]
    ) -> Tuple[int, Dict[PartitionValues, str], Dict[PartitionValues, str]]:
        """Returns (switched, gone meanwhile -> create instead, retry)."""
        updated, gone, retry = 0, {}, {}
        for chunk in _chunks(list(wanted.items()), CREATE_BATCH):
            response = self._call(
                "batch_update_partition",
                f"switching partitions of Glue table {database}.{table}",
                DatabaseName=database,
                TableName=table,
                Entries=[
                    {"PartitionValueList": list(v), "PartitionInput": _partition_input(v, loc, template)}
                    for v, loc in chunk
                ],
            )
            failed = {tuple(e["PartitionValueList"]): e["ErrorDetail"] for e in response.get("Errors", [])}
            for values, location in chunk:
                code = failed.get(values, {}).get("ErrorCode")
                if code is None:
                    updated += 1
                elif code == "EntityNotFoundException":
                    gone[values] = location
                elif code in _RETRYABLE:
                    retry[values] = location
                else:
                    raise _partition_error(database, table, values, failed[values], "switch")
        return updated, gone, retry

    def _require_table(self, database: str, table: str) -> Dict[str, Any]:
        described = self.get_table(database, table)
        if described is None:
            raise ConfigurationError(
                f"Glue table {database}.{table} does not exist",
                hint="the first run of the dataset creates it; check the dataset name",
            )
        return described

    def _call(self, operation: str, action: str, **kwargs: Any) -> Dict[str, Any]:
        try:
            return dict(getattr(self._glue, operation)(**kwargs))
        except ClientError as exc:
            raise translate(exc, action) from exc


# -- building table and partition inputs -----------------------------------------------------------


def _contract_columns(contract: Contract) -> List[ColumnSpec]:
    columns = [ColumnSpec(c.name, c.type, c.comment) for c in contract.data_columns]
    columns += [ColumnSpec(name, glue_type, "lakeport lineage") for name, glue_type in LINEAGE_COLUMNS]
    return columns


def _spec(column: ColumnLike) -> ColumnSpec:
    if isinstance(column, ColumnSpec):
        return column
    if isinstance(column, str):
        return ColumnSpec(column, "string")
    if len(column) == 2:
        return ColumnSpec(column[0], column[1])
    return ColumnSpec(column[0], column[1], column[2])


def _storage_descriptor(location: str, columns: Sequence[ColumnSpec]) -> Dict[str, Any]:
    return {
        "Columns": [c.as_glue() for c in columns],
        "Location": location,
        "InputFormat": PARQUET_INPUT_FORMAT,
        "OutputFormat": PARQUET_OUTPUT_FORMAT,
        "Compressed": False,
        "StoredAsSubDirectories": False,
        "SerdeInfo": {"SerializationLibrary": PARQUET_SERDE, "Parameters": {"serialization.format": "1"}},
    }


def _table_input(
    name: str,
    description: str,
    owner: str,
    location: str,
    columns: Sequence[ColumnSpec],
    keys: Sequence[ColumnSpec],
    parameters: Dict[str, str],
) -> Dict[str, Any]:
    return {
        "Name": name,
        "Description": description,
        "Owner": owner,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "StorageDescriptor": _storage_descriptor(location, columns),
        "PartitionKeys": [k.as_glue() for k in keys],
    }


def _copy_table_input(described: Mapping[str, Any]) -> Dict[str, Any]:
    table_input = {k: copy.deepcopy(described[k]) for k in _TABLE_INPUT_KEYS if k in described}
    table_input.setdefault("StorageDescriptor", {})
    return table_input


def _partition_sd(described: Mapping[str, Any], with_columns: bool) -> Dict[str, Any]:
    sd = copy.deepcopy(described.get("StorageDescriptor", {}))
    if not with_columns:
        sd.pop("Columns", None)
    return sd


def _partition_input(values: PartitionValues, location: str, template: Mapping[str, Any]) -> Dict[str, Any]:
    sd = copy.deepcopy(dict(template))
    sd["Location"] = location
    return {"Values": list(values), "StorageDescriptor": sd}


def _location(described: Mapping[str, Any]) -> str:
    return str(described.get("StorageDescriptor", {}).get("Location", ""))


def _chunks(items: Sequence[Any], size: int) -> Iterable[List[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _partition_error(
    database: str, table: str, values: PartitionValues, detail: Mapping[str, Any], verb: str
) -> ConfigurationError:
    return ConfigurationError(
        f"Glue table {database}.{table}: cannot {verb} partition {list(values)}:"
        f" {detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
    )


# -- additive evolution ------------------------------------------------------------------------------


def _same_type(old: str, new: str) -> bool:
    try:
        return parse_type(old) == parse_type(new)
    except TypeParseError:
        return old.replace(" ", "").lower() == new.replace(" ", "").lower()


def _widens(old: str, new: str) -> bool:
    try:
        return is_widening(parse_type(old), parse_type(new))
    except TypeParseError:
        return False


def _check_names(table: str, columns: Sequence[ColumnSpec], keys: Sequence[ColumnSpec]) -> None:
    names = [c.name for c in columns] + [k.name for k in keys]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"Glue table {table}: {', '.join(repeated)} named twice among the columns and partition keys")


def _older_than_table(contract: Contract, described: Mapping[str, Any]) -> bool:
    recorded = str(described.get("Parameters", {}).get("lakeport.contract_version", ""))
    return contract.version is not None and recorded.isdigit() and contract.version < int(recorded)


def _check_fits(
    table: str,
    contract: Contract,
    current: List[ColumnSpec],
    wanted: List[ColumnSpec],
    current_keys: List[ColumnSpec],
    wanted_keys: List[ColumnSpec],
) -> None:
    """An older contract may write into a table that has since grown: each of its columns must be in
    the table with the same or a wider type, and the partition keys must be the same."""
    problems = _key_problems(current_keys, wanted_keys)
    in_table = {c.name: c for c in current}
    for column in wanted:
        have = in_table.get(column.name)
        if have is None:
            problems.append(f"column {column.name} is not in the catalog")
        elif not (_same_type(column.type, have.type) or _widens(column.type, have.type)):
            problems.append(f"column {column.name} is {have.type} in the catalog, which cannot hold {column.type}")
    if problems:
        raise ContractConflictError(
            f"dataset {contract.dataset}: contract version {contract.version} no longer fits"
            f" Glue table {table}: " + "; ".join(problems),
            hint="replay with the latest contract version",
        )


def _key_problems(current_keys: List[ColumnSpec], wanted_keys: List[ColumnSpec]) -> List[str]:
    keys_match = len(current_keys) == len(wanted_keys) and all(
        a.name == b.name and _same_type(a.type, b.type) for a, b in zip(current_keys, wanted_keys)
    )
    if keys_match:
        return []
    return [
        "partition keys are "
        + (", ".join(f"{k.name} {k.type}" for k in current_keys) or "none")
        + " in the catalog but "
        + (", ".join(f"{k.name} {k.type}" for k in wanted_keys) or "none")
        + " in the contract"
    ]


def _evolve(
    table: str,
    contract: Contract,
    current: List[ColumnSpec],
    wanted: List[ColumnSpec],
    current_keys: List[ColumnSpec],
    wanted_keys: List[ColumnSpec],
) -> Tuple[List[ColumnSpec], List[str], List[str]]:
    """The table's columns after an additive change: existing ones in place (types widened, comments
    refreshed), new ones appended. Raises :class:`ContractConflictError` for anything else."""
    problems = _key_problems(current_keys, wanted_keys)
    by_name = {c.name: c for c in wanted}
    merged: List[ColumnSpec] = []
    widened: List[str] = []
    for column in current:
        new = by_name.get(column.name)
        if new is None:
            problems.append(f"column {column.name} ({column.type}) is in the catalog but not in the contract")
            merged.append(column)
            continue
        if _same_type(column.type, new.type):
            merged.append(ColumnSpec(column.name, column.type, new.comment))
        elif _widens(column.type, new.type):
            merged.append(ColumnSpec(column.name, new.type, new.comment))
            widened.append(f"{column.name}: {column.type} -> {new.type}")
        else:
            problems.append(f"column {column.name} is {column.type} in the catalog and {new.type} in the contract")
            merged.append(column)
    known = {c.name for c in current}
    added = [c for c in wanted if c.name not in known]
    merged.extend(added)
    if problems:
        raise ContractConflictError(
            f"dataset {contract.dataset}: Glue table {table} can only change additively, but: " + "; ".join(problems),
            hint="apply a contract that only appends nullable columns or widens types; a table whose"
            " structure really changed needs a new dataset (or the old table dropped and its data rewritten)",
        )
    return merged, [c.name for c in added], widened
