"""Athena (Trino) SQL -> DuckDB SQL, with sqlglot."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from ..errors import TerminalError


class SqlError(TerminalError):
    """The SQL does not parse as Athena SQL."""


@functools.lru_cache(maxsize=32)
def _parsed(sql: str):  # type: ignore[no-untyped-def]
    import sqlglot
    from sqlglot.errors import ParseError

    try:
        return sqlglot.parse_one(sql, read="athena")
    except ParseError as exc:
        raise SqlError(f"not valid Athena SQL: {str(exc).splitlines()[0]}") from None


def _parse(sql: str):  # type: ignore[no-untyped-def]
    """The statement's tree, parsed once for the several looks a query takes at it (a copy: the
    translation changes it)."""
    return _parsed(sql).copy()


@dataclass(frozen=True)
class TableRef:
    """A table a statement reads; ``as_of`` is the snapshot id or time of ``FOR VERSION/TIMESTAMP AS OF``."""

    database: str
    table: str
    as_of: Optional[str] = None

    @property
    def key(self) -> Tuple[str, str, Optional[str]]:
        return (self.database, self.table, self.as_of)

    @property
    def alias(self) -> str:
        """The name the table is read under (a time-travel read gets a name of its own)."""
        base = f"{self.database}_{self.table}"
        if self.as_of is None:
            return base
        return f"{base}_asof_{hashlib.sha256(self.as_of.encode()).hexdigest()[:10]}"


def _as_of(table) -> Optional[str]:  # type: ignore[no-untyped-def]
    """The text of a table's ``FOR VERSION AS OF`` / ``FOR TIMESTAMP AS OF`` clause, if any."""
    from sqlglot import exp

    version = table.args.get("version")
    if version is None:
        return None
    value = version.expression
    if isinstance(value, exp.Cast):
        value = value.this
    if isinstance(value, exp.Literal):
        return str(value.this)
    raise SqlError(
        f"{table.sql(dialect='athena')}: the AS OF value must be a snapshot id or a timestamp literal"
        " (FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 12:00:00 UTC')"
    )


def to_duckdb(sql: str, as_of_aliases: Optional[Dict[Tuple[str, str, Optional[str]], str]] = None) -> str:
    """Translate one Athena statement; ``TIMESTAMP(p)`` casts lose the precision DuckDB does not take.
    A table read ``FOR ... AS OF`` is replaced by its alias from ``as_of_aliases``."""
    from sqlglot import exp

    tree = _parse(sql)
    for table in list(tree.find_all(exp.Table)):
        as_of = _as_of(table)
        if as_of is None:
            continue
        alias = (as_of_aliases or {}).get((table.db, table.name, as_of))
        if alias is None:
            raise SqlError(f"{table.db}.{table.name}: time travel is only for tables the statement reads")
        replacement = exp.to_table(f'"{alias}"')
        if table.alias:
            replacement.set("alias", table.args["alias"])
        else:
            replacement.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
        table.replace(replacement)
    for cast in tree.find_all(exp.DataType):
        if cast.this in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ) and cast.expressions:
            cast.set("expressions", [])
    return str(tree.sql(dialect="duckdb"))


def table_references(sql: str) -> List[TableRef]:
    """Every table the statement reads (CTE names excluded), with its time-travel clause."""
    from sqlglot import exp

    tree = _parse(sql)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    found: List[TableRef] = []
    for table in tree.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        ref = TableRef(table.db, table.name, _as_of(table))
        if ref not in found:
            found.append(ref)
    return found


# Athena's hidden columns: each row's data file and that file's last modification time. A table
# gets them only in a statement that names one (reading them costs a pass over every file).
PSEUDO_COLUMNS = ("$path", "$file_modified_time")


def pseudo_columns(sql: str) -> List[str]:
    """The Athena pseudo-columns (``"$path"``, ``"$file_modified_time"``) the statement names."""
    from sqlglot import exp

    named = {column.name for column in _parse(sql).find_all(exp.Column)}
    return [name for name in PSEUDO_COLUMNS if name in named]


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
