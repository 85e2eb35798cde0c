"""The text of every row-level rejection reason, shared by both engines.

A quarantined row carries one reason per problem, joined with ``"; "``. Each engine builds the same
text from these templates (the python engine with Arrow string kernels, the Spark engine with
``concat``), so a parity test can compare reasons exactly. A row that fails type conversion is
reported with its conversion problems only: rules are checked on rows whose values all converted.
"""

from __future__ import annotations

from typing import Optional, Tuple

from ..contract import Column, Rule
from ..contract.types import INTEGER_RANGES, ColumnType

SEPARATOR = "; "


def expectation(column: Column) -> str:
    """What a value of the column must look like, in words."""
    ctype: ColumnType = column.column_type
    if ctype.is_integer:
        low, high = INTEGER_RANGES[ctype.kind]
        return f"a whole number from {low} to {high}"
    if ctype.kind == "decimal":
        assert ctype.precision is not None and ctype.scale is not None
        return (
            f"a number with at most {ctype.precision - ctype.scale} digits before the point and {ctype.scale} after it"
        )
    if ctype.kind in ("float", "double"):
        return "a number"
    if ctype.kind == "boolean":
        return "true/false, yes/no, y/n, t/f or 1/0"
    if ctype.kind == "date":
        return f"a date like {column.format}" if column.format else "a date like 2024-01-31"
    if ctype.kind == "timestamp":
        return (
            f"a timestamp like {column.format}"
            if column.format
            else "a timestamp like 2024-01-31 23:59:59[.ffffff][+hh:mm]"
        )
    return "text"


def conversion(column: Column) -> Tuple[str, str]:
    """(prefix, suffix) around the raw value: ``amount: '12.345' is not a decimal(12,2) (…)``."""
    article = "an" if column.type[0] in "aeiou" else "a"
    return f"{column.name}: '", f"' is not {article} {column.type} ({expectation(column)})"


def too_long(column: Column) -> Tuple[str, str]:
    """(prefix, suffix) around the value's length in characters."""
    ctype = column.column_type
    return f"{column.name}: ", f" characters, more than the {ctype.length} of {column.type}"


def derived_without_value(column: Column) -> str:
    return f"{column.name}: the expression gave no value for this row ({column.expression})"


def null_in_required(column: Column) -> str:
    return f"{column.name}: is empty but the column is not nullable"


def missing_in_record(column: Column) -> str:
    return f"{column.name}: is missing from the record"


def rule_prefix(rule: Rule) -> str:
    return f"{rule.describe()}: "


def rule_violation(rule: Rule) -> Tuple[str, str]:
    """(prefix, suffix) around the offending value (as text) for value rules."""
    column = rule.columns[0]
    if rule.kind == "not_null":
        return f"not_null({', '.join(rule.columns)}): ", "is null"
    if rule.kind == "range":
        return f"{rule.describe()}: {column} = ", " is out of range"
    if rule.kind == "allowed_values":
        shown = ", ".join(str(v) for v in (rule.values or ()))
        return f"{rule.describe()}: '", f"' is not one of {shown}"
    if rule.kind == "regex":
        return f"{rule.describe()}: '", "' does not match"
    if rule.kind == "max_length":
        return f"{rule.describe()}: ", f" characters, more than {rule.max_length}"
    raise ValueError(rule.kind)


def duplicate_in_run(rule: Rule) -> str:
    return f"unique({', '.join(rule.columns)}): the same key appears earlier in this run"


def duplicate_in_table(rule: Rule) -> str:
    return f"unique({', '.join(rule.columns)}): the key is already in the table"


def partition_null(partition_name: str, source: str) -> str:
    return f"partition {partition_name}: {source} is null, so the row has no partition"


def unparseable_row(detail: str) -> str:
    return f"row cannot be parsed: {detail}"


def row_too_long(length: int, limit: int) -> str:
    return (
        f"row cannot be parsed: it is {length} bytes long, more than source.max_row_bytes ({limit});"
        " raise the limit if such rows are genuine"
    )


def file_rejected(reason: str) -> str:
    return f"file rejected: {reason}"


def join(*reasons: Optional[str]) -> Optional[str]:
    parts = [r for r in reasons if r]
    return SEPARATOR.join(parts) if parts else None
