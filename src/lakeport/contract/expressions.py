"""Derived columns: a column computed from the row's other columns by an Athena (Trino) SQL expression.

``{name: flight_date, type: date, expression: "date(format('%04d-%02d-%02d', year, month, day))"}``

The expression is parsed once, when the contract is loaded, by sqlglot in the Trino dialect (Athena
engine 3 is Trino), with the types of the columns it reads, so that it is judged as Athena would
judge it: an unknown column or function, an aggregate, a window or a subquery is a contract error
that names the column. Each engine then runs it with its own expression support, from the same
typed tree: the python engine as DuckDB SQL, the Spark engine as Spark SQL. Typing the tree is what
keeps Trino's meaning across dialects (``dep_time / 100`` of an integer is an integer division in
Athena; sqlglot writes it so for DuckDB and Spark).

An expression reads the columns that come from the file (after their conversion to the contract's
types), not other derived columns. A row for which it fails or gives no value gets a null; a derived
column with ``nullable: false`` quarantines such a row.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Dict, Mapping, Tuple

from .types import ColumnType, parse_type

ROW_TABLE = "lakeport_row"
"""The name the expressions' rows go by in the SQL the engines run."""

# the Trino spelling of each contract type (the contract uses the Glue/Hive spelling)
_TRINO_NAMES = {"string": "varchar", "int": "integer", "float": "real"}


class ExpressionError(ValueError):
    """The expression is not one lakeport can run per row; the message says why."""


def trino_type(ctype: ColumnType) -> str:
    return _TRINO_NAMES.get(ctype.kind, ctype.glue_name)


def duckdb_type(ctype: ColumnType) -> str:
    """The DuckDB type a derived value is cast to."""
    if ctype.is_text:
        return "VARCHAR"
    names = {"tinyint": "TINYINT", "smallint": "SMALLINT", "int": "INTEGER", "bigint": "BIGINT", "float": "REAL"}
    return names.get(ctype.kind, ctype.glue_name.upper())


def _parse(expression: str, inputs: Tuple[Tuple[str, str], ...]) -> object:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import OptimizeError, ParseError
    from sqlglot.optimizer.annotate_types import annotate_types
    from sqlglot.optimizer.qualify import qualify

    schema: Dict[str, object] = {ROW_TABLE: dict(inputs)}
    try:
        tree = sqlglot.parse_one(f"SELECT {expression} AS lakeport_value FROM {ROW_TABLE}", read="trino")
    except ParseError as exc:
        message = str(exc).splitlines()[0]
        raise ExpressionError(f"is not an Athena SQL expression ({message})") from None
    if not isinstance(tree, exp.Select) or len(tree.selects) != 1 or tree.args.get("where") or tree.args.get("group"):
        raise ExpressionError("must be one expression over the row's columns (no commas, clauses or subqueries)")
    value = tree.selects[0]
    for node, kind in (
        (exp.AggFunc, "an aggregate"),
        (exp.Window, "a window function"),
        (exp.Subquery, "a subquery"),
        (exp.Select, "a subquery"),
        (exp.Star, "*"),
    ):
        found = value.find(node)
        if found is not None:
            raise ExpressionError(f"uses {kind} ({found.sql('trino')}): an expression is computed per row")
    unknown = sorted({f.name for f in value.find_all(exp.Anonymous)})
    if unknown:
        raise ExpressionError(
            f"uses {', '.join(unknown)}, which is not an Athena function lakeport can translate"
            " (Athena's own functions, e.g. date(), format(), date_parse(), concat(), lpad(), round(), are)"
        )
    try:
        tree = qualify(tree, schema=schema, dialect="trino", validate_qualify_columns=True)
    except OptimizeError as exc:
        known = ", ".join(name for name, _ in inputs)
        # sqlglot places the problem in the SELECT it was given, not in the expression: leave that out
        message = re.sub(r"\.? ?Line: \d+, Col: \d+\.?", "", str(exc).splitlines()[0]).strip()
        raise ExpressionError(f"{message} (it can read: {known})") from None
    return annotate_types(tree, schema=schema, dialect="trino")


@lru_cache(maxsize=256)
def _compiled(
    expression: str, inputs: Tuple[Tuple[str, str], ...], dialect: str, names: Tuple[Tuple[str, str], ...]
) -> str:
    from sqlglot import exp

    tree = _parse(expression, inputs)
    assert isinstance(tree, exp.Select)
    renamed = dict(names)

    def rename(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column):
            plain = exp.column(renamed.get(node.name, node.name), quoted=True)
            plain.type = node.type  # the generators read the operand types (integer division)
            return plain
        if dialect != "duckdb":
            return node
        if isinstance(node, exp.Format):
            # Trino's format() takes printf-style patterns; DuckDB's format() takes {} ones and its
            # printf() the printf-style: sqlglot writes FORMAT for both (a gap in its DuckDB dialect)
            return exp.Anonymous(this="printf", expressions=[node.this, *node.expressions])
        # a value that does not convert is a null for that row, not an error for the batch (on
        # DuckDB before 1.3, which has no TRY, this is what keeps most failures vectorised)
        if isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast):
            return exp.TryCast(this=node.this, to=node.args["to"])
        if isinstance(node, exp.Date) and not node.expressions and not node.args.get("zone"):
            return exp.TryCast(this=node.this, to=exp.DataType.build("date"))
        if isinstance(node, exp.StrToTime):
            node.set("safe", True)
        return node

    def rewrite(node: exp.Expression) -> None:
        # children first, so that a node replaced here keeps its rewritten children
        for child in list(node.iter_expressions()):
            rewrite(child)
        replacement = rename(node)
        if replacement is not node:
            node.replace(replacement)

    aliased = tree.selects[0].copy()
    rewrite(aliased.this)
    return str(aliased.this.sql(dialect))


def check_expression(expression: str, inputs: Mapping[str, str]) -> None:
    """Raise :class:`ExpressionError` unless ``expression`` runs per row over ``inputs`` (name -> type)."""
    _parse(expression, _inputs(inputs))


def compile_expression(expression: str, inputs: Mapping[str, str], dialect: str, names: Mapping[str, str] = {}) -> str:
    """The expression in ``dialect`` (``duckdb``, ``spark``), its columns renamed by ``names``."""
    return _compiled(expression, _inputs(inputs), dialect, tuple(sorted(names.items())))


def columns_read(expression: str, inputs: Mapping[str, str]) -> Tuple[str, ...]:
    """The input columns an expression reads, in the order they appear."""
    from sqlglot import exp

    tree = _parse(expression, _inputs(inputs))
    assert isinstance(tree, exp.Select)
    seen: Dict[str, None] = {}
    for column in tree.selects[0].find_all(exp.Column):
        seen.setdefault(column.name, None)
    return tuple(seen)


def _inputs(inputs: Mapping[str, str]) -> Tuple[Tuple[str, str], ...]:
    return tuple((name, trino_type(parse_type(type_))) for name, type_ in inputs.items())
