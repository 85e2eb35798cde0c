"""Value rules and partition values as Spark SQL expressions over the typed columns.

The same reasons as the python engine's ``rules.py`` and ``partitions.py``, in the same order:
rule by rule as the contract lists them (``not_null`` column by column), then one reason per
partition whose source value is null. ``unique`` is in :mod:`.unique`.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Dict, List, Optional

import pyarrow as pa
from pyspark.sql import Column as SparkColumn
from pyspark.sql import functions as F

from ...contract import Column, Contract, PartitionField, Rule
from .. import reasons
from .convert import with_point, with_sign


def literal(value: Any, column: Column) -> SparkColumn:
    """A bound or an allowed value, typed like the python engine types it for the comparison."""
    ctype = column.column_type
    if ctype.kind == "decimal":
        return F.lit(Decimal(str(value)))
    if ctype.kind == "date":
        return F.lit(value if isinstance(value, date) else date.fromisoformat(str(value)))
    if ctype.kind == "timestamp":
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        return F.lit(moment.isoformat(sep=" ")).cast("timestamp_ntz")
    if ctype.is_integer:
        return F.lit(value) if isinstance(value, int) else F.lit(float(value))
    if ctype.kind in ("float", "double"):
        return F.lit(float(value))
    if ctype.kind == "boolean":
        return F.lit(bool(value))
    return F.lit(str(value))


def _allowed(rule: Rule, column: Column) -> List[SparkColumn]:
    """The allowed values converted like data (text as is, booleans by truth, others parsed)."""
    values = list(rule.values or ())
    ctype = column.column_type
    if ctype.is_text:
        return [F.lit(str(v)) for v in values]
    if ctype.kind == "boolean":
        return [F.lit(bool(v)) for v in values]
    from ..python.convert import convert_text

    typed = convert_text(pa.array([str(v) for v in values], pa.string()), column).values.drop_null()
    return [literal(v, column) for v in typed.to_pylist()]


def _shown(text: SparkColumn) -> SparkColumn:
    return F.coalesce(text, F.lit("null"))


def rule_reasons(contract: Contract, typed: Dict[str, SparkColumn], text: Dict[str, SparkColumn]) -> List[SparkColumn]:
    """One nullable reason column per check, in the python engine's order."""
    out: List[SparkColumn] = []
    for rule in contract.quality.rules:
        if rule.kind == "unique":
            continue
        if rule.kind == "not_null":
            for name in rule.columns:
                out.append(F.when(typed[name].isNull(), F.lit(f"not_null({name}): is null")))
            continue
        name = rule.columns[0]
        column = contract.column(name)
        value = typed[name]
        prefix, suffix = reasons.rule_violation(rule)
        shown = _shown(text[name])
        bad: Optional[SparkColumn] = None
        if rule.kind == "range":
            parts = []
            if rule.min is not None:
                parts.append(value < literal(rule.min, column))
            if rule.max is not None:
                parts.append(value > literal(rule.max, column))
            bad = parts[0] if len(parts) == 1 else parts[0] | parts[1]
            if column.column_type.kind in ("float", "double"):
                bad = ~F.isnan(value) & bad  # Arrow: NaN is neither below nor above a bound
        elif rule.kind == "allowed_values":
            # a null passes, as with every value rule: nulls are not_null's business
            bad = F.coalesce(~value.isin(*_allowed(rule, column)), F.lit(False))
        elif rule.kind == "regex":
            bad = ~value.rlike(f"^(?:{rule.pattern})\\z")
        elif rule.kind == "max_length":
            assert rule.max_length is not None
            bad = F.length(value) > rule.max_length
            shown = F.length(value).cast("string")
        assert bad is not None
        out.append(F.when(F.coalesce(bad, F.lit(False)), F.concat(F.lit(prefix), shown, F.lit(suffix))))
    return out


def partition_value(field: PartitionField, value: SparkColumn, column: Column) -> SparkColumn:
    """The text of the partition value, as the python engine writes it in paths and the catalog."""
    if field.transform == "identity":
        kind = column.column_type.kind
        if kind == "decimal":
            return _plain_decimal(value, column.column_type.scale or 0)
        return value.cast("string")
    day = value.cast("date")
    year = F.lpad(F.year(day).cast("string"), 4, "0")
    if field.transform == "year":
        return year
    month = F.concat(year, F.lit("-"), F.lpad(F.month(day).cast("string"), 2, "0"))
    if field.transform == "month":
        return month
    return F.concat(month, F.lit("-"), F.lpad(F.dayofmonth(day).cast("string"), 2, "0"))


def _plain_decimal(value: SparkColumn, scale: int) -> SparkColumn:
    """A decimal as plain digits with all its scale (``0.0000000000``, never Spark's ``0E-10``)."""
    text = value.cast("string")
    digits = F.regexp_replace(F.regexp_extract(text, r"^-?([0-9.]+)E", 1), r"\.", "")
    return F.when(text.contains("E"), with_sign(with_point(digits, scale), text.startswith("-"))).otherwise(text)


def partition_reasons(contract: Contract, typed: Dict[str, SparkColumn]) -> List[SparkColumn]:
    return [
        F.when(typed[p.source_column].isNull(), F.lit(reasons.partition_null(p.name, p.source_column)))
        for p in contract.partition_by
    ]


def join(parts: List[SparkColumn]) -> SparkColumn:
    """Reasons joined with ``"; "``, skipping nulls; null when there are none."""
    if not parts:
        return F.lit(None).cast("string")
    return F.nullif(F.concat_ws(reasons.SEPARATOR, *parts), F.lit(""))
