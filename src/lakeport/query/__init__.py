"""``lakeport query``: Athena SQL, answered by Athena on AWS or by DuckDB over the catalogued Parquet locally."""

from .local import AthenaQueryEngine, LocalQueryEngine, QueryError
from .translate import SqlError, referenced_tables, to_duckdb

__all__ = [
    "AthenaQueryEngine",
    "LocalQueryEngine",
    "QueryError",
    "SqlError",
    "referenced_tables",
    "to_duckdb",
]
