"""Athena (Trino) SQL -> DuckDB SQL, with sqlglot."""

from __future__ import annotations

from typing import List, Tuple

from ..errors import TerminalError


class SqlError(TerminalError):
    """The SQL does not parse as Athena SQL."""


def _parse(sql: str):  # type: ignore[no-untyped-def]
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        return sqlglot.parse_one(sql, read="athena")
    except ParseError as exc:
        raise SqlError(f"not valid Athena SQL: {str(exc).splitlines()[0]}") from None


def to_duckdb(sql: str) -> str:
    """Translate one Athena statement; ``TIMESTAMP(p)`` casts lose the precision DuckDB does not take."""
    from sqlglot import exp

    tree = _parse(sql)
    for cast in tree.find_all(exp.DataType):
        if cast.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ) and cast.expressions:
            cast.set("expressions", [])
    return str(tree.sql(dialect="duckdb"))


def referenced_tables(sql: str) -> List[Tuple[str, str]]:
    """(database, table) of every table the statement reads, CTE names excluded."""
    from sqlglot import exp

    tree = _parse(sql)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    found: List[Tuple[str, str]] = []
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        key = (table.db, table.name)
        if key not in found:
            found.append(key)
    return found
