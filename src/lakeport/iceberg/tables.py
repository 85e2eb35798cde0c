"""Each dataset's curated table as an Apache Iceberg table in the Glue Data Catalog, made from its contract.

The table's columns are the files' columns, in their order: the contract's columns that are not
identity partition keys, the lineage columns, then the partition columns (identity keys with their
column's type, derived keys with their transform's type: ``year`` int, ``month`` string
``YYYY-MM``, ``day`` date). Keeping the derived keys as real columns means queries written for the
contract's names (``WHERE order_date = DATE '2024-01-02'``) keep working and prune by file
statistics. The partition spec uses Iceberg's own transforms on the source column (``day(order_ts)``),
so a filter on the source column prunes whole partitions too.

Schema evolution is Iceberg schema evolution: new contract columns are added (optional), types widen
where Iceberg can promote them (int to bigint, float to double, a decimal's precision); anything else
is refused, as the registry refuses such contracts first. pyiceberg does the work; this module says
what the contract wants and explains a refusal.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Dict, List

import pyarrow as pa

from ..contract import Contract
from ..errors import ConfigurationError, ContractConflictError

log = logging.getLogger(__name__)

FORMAT_VERSION = "2"
TABLE_PROPERTIES: Dict[str, str] = {
    "format-version": FORMAT_VERSION,
    "write.format.default": "parquet",
    "write.parquet.compression-codec": "snappy",
    "write.target-file-size-bytes": str(512 << 20),
    # readers that write (Athena OPTIMIZE, Spark) retry a refused commit this many times
    "commit.retry.num-retries": "8",
}
DATASET_PROPERTY = "lakeport.dataset"
CONTRACT_VERSION_PROPERTY = "lakeport.contract-version"


class _QuietDictionaryWarning(logging.Filter):
    """pyiceberg warns once per file read that dictionary columns read back as plain strings: that is
    what lakeport's lineage columns are meant to be (dictionary-encoded on disk, text to readers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "does not have a dictionary type" not in record.getMessage()


logging.getLogger("pyiceberg.io.pyarrow").addFilter(_QuietDictionaryWarning())


def file_schema(contract: Contract) -> pa.Schema:
    """The Arrow schema of a curated data file: rows' columns, lineage, partition columns."""
    from ..engine.layout import PartitionColumns
    from ..engine.python.engine import curated_schema

    rows = curated_schema(contract)
    return pa.schema([*rows, *PartitionColumns(contract).fields])


def iceberg_schema(contract: Contract) -> Any:
    """The contract's table schema with fresh Iceberg field ids (1..n in column order)."""
    from pyiceberg.catalog import Catalog as IcebergCatalog
    from pyiceberg.schema import assign_fresh_schema_ids

    plain = pa.schema([pa.field(f.name, _plain(f.type)) for f in file_schema(contract)])
    return assign_fresh_schema_ids(IcebergCatalog._convert_schema_if_needed(plain))


def _plain(type_: pa.DataType) -> pa.DataType:
    return type_.value_type if pa.types.is_dictionary(type_) else type_


def partition_spec(contract: Contract, schema: Any) -> Any:
    """Iceberg transforms of the contract's partition keys, on their source columns."""
    from pyiceberg.partitioning import PartitionField, PartitionSpec
    from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, YearTransform

    transforms = {"identity": IdentityTransform, "year": YearTransform, "month": MonthTransform, "day": DayTransform}
    fields = []
    for index, field in enumerate(contract.partition_by):
        if field.transform == "identity":
            source, name = field.name, field.name
        else:
            source, name = field.source_column, f"{field.source_column}_{field.transform}"
        fields.append(
            PartitionField(
                source_id=schema.find_field(source).field_id,
                field_id=1000 + index,
                transform=transforms[field.transform](),
                name=name,
            )
        )
    return PartitionSpec(*fields)


def open_catalog(aws: Any, name: str = "lakeport") -> Any:
    """pyiceberg's Glue catalog over this context's Glue client, its S3 files through pyarrow with the
    same credentials and endpoint (the embedded emulator locally, AWS itself otherwise)."""
    from pyiceberg.catalog.glue import GlueCatalog

    properties: Dict[str, str] = {"py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO", "s3.region": aws.region}
    credentials = aws.session.get_credentials()
    if credentials is not None:
        frozen = credentials.get_frozen_credentials()
        properties.update({"s3.access-key-id": frozen.access_key, "s3.secret-access-key": frozen.secret_key})
        if frozen.token:
            properties["s3.session-token"] = frozen.token
    if aws.endpoint_url:
        properties["s3.endpoint"] = aws.endpoint_url
    return GlueCatalog(name, client=aws.client("glue"), **properties)


class CuratedTables:
    """Create, evolve and load the curated Iceberg tables of one deployment."""

    def __init__(self, catalog: Any, glue_client: Any) -> None:
        self.catalog = catalog
        self.glue = glue_client

    def load(self, contract: Contract) -> Any:
        from pyiceberg.exceptions import NoSuchPropertyException, NoSuchTableError

        try:
            return self.catalog.load_table((contract.database, contract.table))
        except (NoSuchTableError, NoSuchPropertyException):  # the latter: a Glue table without table_type
            self._refuse_hive_table(contract)
            raise

    def exists(self, contract: Contract) -> bool:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            self.load(contract)
            return True
        except NoSuchTableError:
            return False

    def ensure(self, contract: Contract, location: str) -> Any:
        """The dataset's table, created from the contract or evolved to it (additively)."""
        from pyiceberg.exceptions import NamespaceAlreadyExistsError, NoSuchTableError, TableAlreadyExistsError

        try:
            table = self.load(contract)
        except NoSuchTableError:
            schema = iceberg_schema(contract)
            with contextlib.suppress(NamespaceAlreadyExistsError):
                self.catalog.create_namespace(contract.database)
            try:
                return self.catalog.create_table(
                    (contract.database, contract.table),
                    schema=schema,
                    partition_spec=partition_spec(contract, schema),
                    location=location.rstrip("/"),
                    properties={**TABLE_PROPERTIES, **self._properties(contract)},
                )
            except TableAlreadyExistsError:  # another run created it in the meantime
                table = self.load(contract)
        return self._evolve(contract, table)

    @staticmethod
    def _properties(contract: Contract) -> Dict[str, str]:
        return {
            DATASET_PROPERTY: contract.dataset,
            CONTRACT_VERSION_PROPERTY: "" if contract.version is None else str(contract.version),
        }

    def _evolve(self, contract: Contract, table: Any) -> Any:
        from pyiceberg.exceptions import ValidationError

        where = f"Iceberg table {contract.database}.{contract.table}"
        recorded = table.properties.get(CONTRACT_VERSION_PROPERTY, "")
        wanted = iceberg_schema(contract)
        current = table.schema()
        problems = _spec_problems(contract, table, wanted)
        older = contract.version is not None and recorded.isdigit() and contract.version < int(recorded)
        wanted_names = {f.name for f in wanted.fields}
        if not older:
            problems += [
                f"column {f.name} ({f.field_type}) is in the table but not in the contract"
                for f in current.fields
                if f.name not in wanted_names
            ]
        for field in wanted.fields:
            have = current.find_field(field.name, case_sensitive=False) if field.name in _names(current) else None
            if have is None:
                if older:
                    problems.append(f"column {field.name} is not in the table")
            elif (
                have.field_type != field.field_type
                and not _promotes(have.field_type, field.field_type)
                and not (older and _promotes(field.field_type, have.field_type))
            ):
                problems.append(
                    f"column {field.name} is {have.field_type} in the table and {field.field_type} in the contract"
                )
        if problems:
            version = f"contract version {contract.version}" if contract.version is not None else "the contract"
            raise ContractConflictError(
                f"dataset {contract.dataset}: {version} does not fit {where}: " + "; ".join(problems),
                hint="replay with the latest contract version"
                if older
                else "apply a contract that only appends nullable columns or widens types; a table whose"
                " structure really changed needs a new dataset (or the old table dropped and its data rewritten)",
            )
        if older:
            return table  # a replay pinned to an older contract writes into the table as it is now
        changed = any(
            f.name not in _names(current) or current.find_field(f.name).field_type != f.field_type
            for f in wanted.fields
        )
        properties = self._properties(contract)
        stale = {k: v for k, v in properties.items() if table.properties.get(k) != v}
        if not changed and not stale:
            return table
        try:
            with table.transaction() as tx:
                if changed:
                    with tx.update_schema() as update:
                        update.union_by_name(wanted)
                if stale:
                    tx.set_properties(**stale)
        except ValidationError as exc:
            raise ContractConflictError(
                f"dataset {contract.dataset}: {where} cannot take the contract's schema: {exc}",
                hint="apply a contract that only appends nullable columns or widens types",
            ) from exc
        log.info("%s: %s evolved to contract version %s", contract.dataset, where, contract.version)
        return self.load(contract)

    def _refuse_hive_table(self, contract: Contract) -> None:
        """A Glue table of the same name that is not Iceberg was made by lakeport's first version."""
        try:
            described = self.glue.get_table(DatabaseName=contract.database, Name=contract.table)["Table"]
        except Exception:
            return
        if str(described.get("Parameters", {}).get("table_type", "")).upper() == "ICEBERG":
            return
        raise ConfigurationError(
            f"dataset {contract.dataset}: Glue table {contract.database}.{contract.table} is a Hive-style"
            " table (made by lakeport 0.1), not an Iceberg table",
            hint="curated tables are Iceberg tables now; rebuild this one from its raw files: drop the Hive"
            f" table (aws glue delete-table --database-name {contract.database} --name {contract.table}; its"
            f" files stay), then 'lakeport ingest {contract.dataset} --force' ingests every raw object under"
            " the contract's prefix again (restore objects already in Glacier first); once the new table is"
            " checked, 'lakeport maintain' deletes the old files as orphans",
        )


def _names(schema: Any) -> List[str]:
    return [f.name for f in schema.fields]


def _promotes(old: Any, new: Any) -> bool:
    """Whether Iceberg can widen ``old`` to ``new`` in place."""
    from pyiceberg.types import DecimalType, DoubleType, FloatType, IntegerType, LongType

    if isinstance(old, IntegerType) and isinstance(new, LongType):
        return True
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    return (
        isinstance(old, DecimalType)
        and isinstance(new, DecimalType)
        and old.scale == new.scale
        and new.precision >= old.precision
    )


def _spec_problems(contract: Contract, table: Any, wanted: Any) -> List[str]:
    current = [(f.name, str(f.transform)) for f in table.spec().fields]
    desired = [(f.name, str(f.transform)) for f in partition_spec(contract, wanted).fields]
    if current == desired:
        return []

    def text(fields: List[Any]) -> str:
        return ", ".join(f"{t}({n})" for n, t in fields) or "none"

    return [f"the table is partitioned by {text(current)} but the contract says {text(desired)}"]


def table_name(contract: Contract) -> str:
    return f"{contract.database}.{contract.table}"


def snapshot_retention_days(contract: Contract) -> int:
    return int(contract.snapshot_retention_days)
