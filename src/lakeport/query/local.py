"""Athena SQL answered locally: translated to DuckDB and run over the data files Athena would read.

Each table the query names is looked up in the Glue Data Catalog. A curated (Iceberg) table becomes
a pyarrow dataset over the data files pyiceberg plans for its current snapshot, or for the snapshot
``FOR VERSION AS OF <id>`` / ``FOR TIMESTAMP AS OF <time>`` names (or the engine's ``as_of``), with
the table's schema at that snapshot; a quarantine table (Hive-style) over its partitions'
locations. DuckDB scans them with filters pushed down, so a local answer reflects exactly what
Athena would see: one committed snapshot, never a half-written run.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa
import pyarrow.dataset as ds

from ..catalog import Catalog
from ..engine.layout import list_parquet, split_uri
from ..errors import ConfigurationError
from .athena import QueryError
from .translate import TableRef, pseudo_columns, table_references, to_duckdb


def arrow_type_for_glue(glue_type: str) -> pa.DataType:
    """The Arrow type DuckDB should see for a catalog column type."""
    from ..contract.types import parse_type
    from ..engine.python.convert import arrow_type

    return arrow_type(parse_type(glue_type))


def _partition_value(text: str, type_: pa.DataType) -> Any:
    if pa.types.is_date(type_):
        return date.fromisoformat(text)
    if pa.types.is_integer(type_):
        return int(text)
    if pa.types.is_decimal(type_):
        return Decimal(text)
    if pa.types.is_boolean(type_):
        return text == "true"
    if pa.types.is_floating(type_):
        return float(text)
    return text


class LocalQueryEngine:
    """Runs Athena SQL with DuckDB over catalogued Parquet (any pyarrow filesystem)."""

    def __init__(self, glue_client: Any, filesystem: Any, iceberg_catalog: Any = None, as_of: Any = None) -> None:
        self.catalog = Catalog(glue_client)
        self.filesystem = filesystem
        self.iceberg_catalog = iceberg_catalog
        self.as_of = as_of

    def dataset(self, database: str, table: str, as_of: Any = None) -> ds.Dataset:
        described = self.catalog.get_table(database, table)
        if described is None:
            raise QueryError(
                f"table {database}.{table} does not exist in the Glue Data Catalog",
                hint="list datasets with 'lakeport contract list'; a table appears after its first run",
            )
        if str(described.get("Parameters", {}).get("table_type", "")).upper() == "ICEBERG":
            return self._iceberg_dataset(database, table, as_of)
        if as_of is not None:
            raise QueryError(f"{database}.{table} is not an Iceberg table: it has no earlier versions to read")
        columns = described["StorageDescriptor"].get("Columns", [])
        keys = described.get("PartitionKeys", [])
        fields = [pa.field(c["Name"], arrow_type_for_glue(c["Type"])) for c in columns]
        key_fields = [pa.field(k["Name"], arrow_type_for_glue(k["Type"])) for k in keys]
        schema = pa.schema(fields + key_fields)
        parquet = ds.ParquetFileFormat()
        if not keys:
            location = described["StorageDescriptor"].get("Location", "")
            files = [split_uri(u)[1] for u in list_parquet(self.filesystem, location)] if location else []
            return ds.FileSystemDataset.from_paths(files, schema=schema, format=parquet, filesystem=self.filesystem)
        paths: List[str] = []
        expressions: List[ds.Expression] = []
        for values, location in sorted(self.catalog.get_partitions(database, table).items()):
            expression = None
            for key_field, text in zip(key_fields, values):
                term = ds.field(key_field.name) == pa.scalar(_partition_value(text, key_field.type), key_field.type)
                expression = term if expression is None else expression & term
            for uri in list_parquet(self.filesystem, location):
                paths.append(split_uri(uri)[1])
                expressions.append(expression)
        return ds.FileSystemDataset.from_paths(
            paths, schema=schema, format=parquet, filesystem=self.filesystem, partitions=expressions
        )

    @classmethod
    def for_context(cls, aws: Any, as_of: Any = None) -> LocalQueryEngine:
        """An engine reading through one AWS context (the embedded emulator, or AWS itself)."""
        from ..iceberg.tables import open_catalog

        return cls(aws.client("glue"), aws.s3_filesystem(), open_catalog(aws), as_of=as_of)

    def _iceberg_dataset(self, database: str, table: str, as_of: Any) -> ds.Dataset:
        from ..iceberg.reading import resolve_snapshot, snapshot_dataset

        if self.iceberg_catalog is None:
            raise ConfigurationError("reading Iceberg tables needs an Iceberg catalog (lakeport.iceberg.open_catalog)")
        loaded = self.iceberg_catalog.load_table((database, table))
        snapshot_id = resolve_snapshot(loaded, as_of if as_of is not None else self.as_of)
        return snapshot_dataset(loaded, self.filesystem, snapshot_id)

    def with_pseudo_columns(self, dataset: ds.Dataset, names: List[str]) -> pa.Table:
        """The dataset's rows with Athena's ``"$path"`` (the data file's s3:// URI) and
        ``"$file_modified_time"`` (its last modification, UTC) for the ``names`` asked for."""
        parts = []
        fragments = list(dataset.get_fragments())
        modified: Dict[str, Any] = {}
        if "$file_modified_time" in names and fragments:
            infos = self.filesystem.get_file_info([f.path for f in fragments])
            modified = {info.path: info.mtime for info in infos}
        for fragment in fragments:
            rows = fragment.to_table(schema=dataset.schema)
            if "$path" in names:
                rows = rows.append_column("$path", pa.array([f"s3://{fragment.path}"] * rows.num_rows, pa.string()))
            if "$file_modified_time" in names:
                stamp = pa.scalar(modified.get(fragment.path), pa.timestamp("us", tz="UTC"))
                rows = rows.append_column("$file_modified_time", pa.array([stamp] * rows.num_rows, stamp.type))
            parts.append(rows)
        if parts:
            return pa.concat_tables(parts)
        extra = [pa.field("$path", pa.string()), pa.field("$file_modified_time", pa.timestamp("us", tz="UTC"))]
        return pa.schema([*dataset.schema, *(f for f in extra if f.name in names)]).empty_table()

    def execute(self, sql: str, database: Optional[str] = None) -> pa.Table:
        """The answer to ``sql``; tables written without a database are looked up in ``database``
        (Athena's ``QueryExecutionContext``), if given."""
        import duckdb

        references: List[TableRef] = table_references(sql)
        pseudo = pseudo_columns(sql)
        translated = to_duckdb(sql, {ref.key: ref.alias for ref in references if ref.as_of is not None})
        connection = duckdb.connect(database=":memory:")
        # Athena divides an integer by an integer into an integer (truncated toward zero); DuckDB's
        # "/" gives a fraction unless told otherwise
        connection.execute("SET integer_division = true")
        try:
            registered: Dict[Tuple[str, str, Optional[str]], str] = {}
            for ref in references:
                if ref.key in registered:
                    continue
                table_database, table = ref.database or database, ref.table
                if not table_database:
                    raise QueryError(
                        f"table '{table}' has no database; write it as <database>.{table} (e.g. sales.{table})"
                    )
                alias = f"__lakeport_{ref.alias}"
                dataset = self.dataset(table_database, table, ref.as_of)
                connection.register(alias, self.with_pseudo_columns(dataset, pseudo) if pseudo else dataset)
                if ref.as_of is None:
                    connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{table_database}"')
                    connection.execute(
                        f'CREATE OR REPLACE VIEW "{table_database}"."{table}" AS SELECT * FROM "{alias}"'
                    )
                else:
                    connection.execute(f'CREATE OR REPLACE VIEW "{ref.alias}" AS SELECT * FROM "{alias}"')
                registered[ref.key] = alias
            if database:
                connection.execute(f"SET search_path = '{database},main'")
            try:
                relation = connection.sql(translated)
                if relation is None:  # a statement without a result
                    return pa.table({})
                # DuckDB 2 renamed Relation.arrow() to to_arrow_table()
                fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
                result = fetch()
                return result if isinstance(result, pa.Table) else result.read_all()
            except duckdb.Error as exc:
                raise QueryError(
                    f"the query failed: {str(exc).splitlines()[0]}", hint=f"ran as DuckDB SQL: {translated}"
                ) from None
        finally:
            connection.close()
