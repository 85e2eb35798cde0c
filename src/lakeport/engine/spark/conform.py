"""The conform stage: text to typed values, reasons and partition values, as Spark SQL.

Two projections: the first converts every column (:mod:`.convert`) and checks nullability; the
second, over the typed columns by name, checks the value rules and partition sources on rows whose
values all converted (:mod:`.rules`) and builds the partition values. Reasons are joined in the
python engine's order: per column, conversion then nullability; then rules; then partitions; a row
that could not be parsed carries its read error alone.
"""

from __future__ import annotations

from typing import Dict, List

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ...contract import Contract
from ...contract.expressions import compile_expression
from .. import reasons
from ..numbers import NumberSpelling
from .columns import INFO, curated_name, partition_name, text_name, typed_input_columns, typed_input_name
from .convert import convert
from .rules import join, partition_reasons, partition_value, rule_reasons
from .types import spark_type


def conform(frame: DataFrame, contract: Contract) -> DataFrame:
    """Typed columns ``c<i>``, partition values ``p<j>``, and ``__reason`` (null: the row is valid)."""
    typed_inputs = set(typed_input_columns(contract))
    # stage 1: conversions (one projection; later stages refer to its columns by name)
    converted: List[SparkColumn] = []
    conversion_reasons: List[SparkColumn] = []
    numbers = NumberSpelling.of(contract)
    for i, column in enumerate(contract.columns):
        if column.derived:
            continue  # computed from the converted columns below
        text = F.col(text_name(i))
        if column.null_values:  # the column's own "no value" markers, as the python engine reads them
            text = F.when(text.isin(*column.null_values), F.lit(None).cast("string")).otherwise(text)
        result = convert(text, column, numbers)
        value, reason = result.value, result.reason
        if i in typed_inputs:
            given = F.col(typed_input_name(i))
            value = F.when(given.isNotNull(), given).otherwise(value)
            reason = F.when(given.isNull(), reason) if reason is not None else None
        converted.append(value.cast(spark_type(column.column_type)).alias(curated_name(i)))
        if reason is not None:
            conversion_reasons.append(reason)
        if not column.nullable:
            conversion_reasons.append(F.when(text.isNull(), F.lit(reasons.null_in_required(column))))
    problems = F.coalesce(F.col("__err"), join(conversion_reasons)).alias("__problems")
    frame = frame.select(
        "__src", "__slice", "__kind", "__seq", "__row", "__err", "__raw", *text_columns(contract), *converted, problems
    )
    if contract.derived_columns:
        frame = _derive(frame, contract)

    # stage 2: rules and partitions on rows whose values all converted
    typed = {c.name: F.col(curated_name(i)) for i, c in enumerate(contract.columns)}
    texts = {c.name: F.col(text_name(i)) for i, c in enumerate(contract.columns)}
    later = join(rule_reasons(contract, typed, texts) + partition_reasons(contract, typed))
    reason = F.when(F.col("__problems").isNotNull(), F.col("__problems")).otherwise(later)
    partitions = [
        partition_value(p, typed[p.source_column], contract.column(p.source_column)).alias(partition_name(j))
        for j, p in enumerate(contract.partition_by)
    ]
    frame = frame.select("*", reason.alias("__reason"), *partitions).drop("__problems")
    eligible = F.col("__reason").isNull() & (F.col("__kind") != INFO)
    return frame.withColumn("__eligible", eligible)


def text_columns(contract: Contract) -> List[str]:
    return [text_name(i) for i in range(len(contract.columns))]


def typed_names(contract: Contract) -> Dict[str, str]:
    return {c.name: curated_name(i) for i, c in enumerate(contract.columns)}


def write_columns(contract: Contract) -> List[SparkColumn]:
    """Only what the writer needs: text for rejected rows, typed values for valid ones."""
    bad = F.col("__reason").isNotNull()
    data = {c.name for c in contract.data_columns}
    columns = [F.col(n) for n in ("__src", "__slice", "__kind", "__seq", "__row", "__reason", "__raw")]
    columns.append(F.when(F.col("__kind") == INFO, F.col("__err")).alias("__err"))
    columns += [F.when(bad, F.col(text_name(i))).alias(text_name(i)) for i in range(len(contract.columns))]
    columns += [
        F.when(~bad, F.col(curated_name(i))).alias(curated_name(i))
        for i, c in enumerate(contract.columns)
        if c.name in data
    ]
    columns += [F.col(partition_name(j)) for j in range(len(contract.partition_by))]
    return columns


def _derive(frame: DataFrame, contract: Contract) -> DataFrame:
    """The derived columns ``c<i>`` by their expressions in Spark SQL, over the converted columns;
    their reasons join ``__problems`` on rows whose read columns all converted (as the python
    engine judges them)."""
    inputs = {c.name: c.type for c in contract.read_columns}
    names = {c.name: curated_name(i) for i, c in enumerate(contract.columns) if not c.derived}
    values: List[SparkColumn] = []
    derived_reasons: List[SparkColumn] = []
    clean = F.col("__problems").isNull()
    for i, column in enumerate(contract.columns):
        if column.expression is None:
            continue
        sql = compile_expression(column.expression, inputs, "spark", names)
        value = F.expr(sql).cast(spark_type(column.column_type))
        if column.column_type.length is not None:
            checked = convert(value, column)
            value = checked.value
            if checked.reason is not None:
                derived_reasons.append(F.when(clean, checked.reason))
        if not column.nullable:
            derived_reasons.append(F.when(clean & value.isNull(), F.lit(reasons.derived_without_value(column))))
        values.append(value.alias(curated_name(i)))
    frame = frame.select("*", *values)
    if derived_reasons:
        frame = frame.withColumn("__problems", F.coalesce(F.col("__problems"), join(derived_reasons)))
    return frame
