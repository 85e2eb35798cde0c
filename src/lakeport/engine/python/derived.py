"""Derived columns in the python engine: the contract's expressions, run by DuckDB over a batch.

Each conversion worker keeps one single-threaded DuckDB connection (the workers are the engine's
parallelism) and hands it the batch's typed input columns as an Arrow table, zero-copy; one
``SELECT`` computes every derived column of the batch. A row for which an expression fails (a date
that does not exist, a cast that does not fit) gets a null, and the caller quarantines nulls in a
``nullable: false`` column. Casts and ``date_parse`` are written as their ``TRY_`` forms, so they
fail per row inside the vectorised query; anything else that can fail is wrapped in ``TRY`` where
DuckDB has it (1.3 on). The Glue Python shell's hosts take DuckDB 1.2 at most: there a batch whose
query raises is split in halves until the failing rows are found (one query per failing row, so
keep throwing functions other than casts to rare values there).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Tuple

import pyarrow as pa

from ...contract import Contract
from ...contract.expressions import ROW_TABLE, columns_read, compile_expression, duckdb_type
from .convert import arrow_type

_local = threading.local()
HAS_TRY = True
"""Use DuckDB's TRY where it has it (tests set this False to run the other path)."""


def _connection() -> Tuple[Any, bool]:
    """This thread's DuckDB connection, and whether it has ``TRY``."""
    connection = getattr(_local, "connection", None)
    if connection is None:
        import duckdb

        connection = duckdb.connect(database=":memory:", config={"threads": 1})
        try:
            connection.execute("SELECT TRY(1)").fetchall()
            _local.has_try = True
        except duckdb.Error:
            _local.has_try = False
        _local.connection = connection
    return connection, bool(_local.has_try) and HAS_TRY


def derive(contract: Contract, typed: Dict[str, pa.Array], rows: int) -> Dict[str, pa.Array]:
    """The values of every derived column of ``contract`` for a batch of ``rows`` typed rows."""
    inputs = {c.name: c.type for c in contract.read_columns}
    selects: List[Tuple[str, str, str]] = []
    needed: Dict[str, None] = {}
    for column in contract.derived_columns:
        assert column.expression is not None
        sql = compile_expression(column.expression, inputs, "duckdb")
        needed.update(dict.fromkeys(columns_read(column.expression, inputs)))
        selects.append((column.name, sql, duckdb_type(column.column_type)))
    if needed:
        table = pa.table({name: typed[name] for name in needed})
    else:  # constant expressions: still one value per row
        table = pa.table({"lakeport_rows": pa.nulls(rows, pa.int8())})
    connection, has_try = _connection()
    wrapped = [f'TRY_CAST({f"TRY({sql})" if has_try else sql} AS {type_}) AS "{name}"' for name, sql, type_ in selects]
    query = f"SELECT {', '.join(wrapped)} FROM {ROW_TABLE}"
    result = _run(connection, query, table) if has_try else _located(connection, query, table)
    out: Dict[str, pa.Array] = {}
    for column in contract.derived_columns:
        values = result.column(column.name)
        values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
        target = arrow_type(column.column_type)
        out[column.name] = values if values.type == target else values.cast(target)
    return out


def _run(connection: Any, query: str, table: pa.Table) -> pa.Table:
    connection.register(ROW_TABLE, table)
    try:
        relation = connection.sql(query)
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow  # DuckDB 2 renamed it
        result = fetch()
        return result if isinstance(result, pa.Table) else result.read_all()
    finally:
        connection.unregister(ROW_TABLE)


def _located(connection: Any, query: str, table: pa.Table) -> pa.Table:
    """``query`` over ``table``; where it raises, over each half in turn, down to single rows, whose
    values are then nulls (for DuckDB without ``TRY``)."""
    import duckdb

    try:
        return _run(connection, query, table)
    except duckdb.Error:
        if table.num_rows <= 1:
            schema = _run(connection, query, table.slice(0, 0)).schema
            return pa.table({f.name: pa.nulls(table.num_rows, f.type) for f in schema}, schema=schema)
    half = table.num_rows // 2
    return pa.concat_tables(
        [_located(connection, query, table.slice(0, half)), _located(connection, query, table.slice(half))]
    )
