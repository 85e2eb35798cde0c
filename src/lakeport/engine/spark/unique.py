"""``unique`` rules with window functions, reproducing the python engine's sequential key tracking.

The python engine reads the objects one after the other and remembers, per rule, the key of every
*eligible* row (a row with no other problem) the first time it sees it. A later eligible row with a
remembered key is a duplicate "in this run"; with ``write_mode: append`` and a rule on exactly the
primary key, a key already in the table is a duplicate "in the table". When an object is rejected
as a whole, the keys it contributed are forgotten, so later objects are not judged against them.

Here, for an eligible row of object ``k`` with key ``K``: it is a duplicate in the run when an
earlier eligible row of ``k`` has ``K``, or when an *accepted* object before ``k`` has an eligible
row with ``K``. The accepted set is an input: the engine starts with every object and runs again
without an object that turned out to be rejected (see :class:`~lakeport.engine.spark.engine.SparkEngine`).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...contract import Contract, Rule
from .. import reasons
from .types import spark_type

TABLE_MARK = "__table"
KEYS_PER_BATCH = 100_000


def unique_rules(contract: Contract) -> List[Rule]:
    return [r for r in contract.quality.rules if r.kind == "unique"]


def checks_table(contract: Contract, rule: Rule) -> bool:
    """Whether ``rule`` is also checked against the keys already in the table."""
    return contract.write_mode == "append" and list(rule.columns) == list(contract.primary_key)


def table_keys_frame(
    spark: SparkSession, contract: Contract, names: Dict[str, str], keys: Iterable[Any]
) -> Optional[DataFrame]:
    """The table's primary keys as rows with the typed key columns (``names``: column -> field)."""
    columns = list(contract.primary_key)
    schema = T.StructType([T.StructField(names[c], spark_type(contract.column(c).column_type)) for c in columns])
    frames: List[DataFrame] = []
    batch: List[Sequence[Any]] = []
    for key in keys:
        batch.append(key if isinstance(key, tuple) else (key,))
        if len(batch) >= KEYS_PER_BATCH:
            frames.append(spark.createDataFrame(batch, schema))
            batch = []
    if batch or not frames:
        frames.append(spark.createDataFrame(batch, schema))
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionAll(frame)
    return out.distinct()


def with_duplicates(
    frame: DataFrame,
    contract: Contract,
    names: Dict[str, str],
    accepted: Sequence[int],
    table: Dict[int, DataFrame],
) -> DataFrame:
    """Add ``__unique``: the duplicate reasons of eligible rows (``__eligible``), rule by rule."""
    found: List[SparkColumn] = []
    for index, rule in enumerate(unique_rules(contract)):
        name = f"__dup{index}"
        frame = _one_rule(frame, contract, rule, [names[c] for c in rule.columns], accepted, table.get(index), name)
        found.append(F.col(name))
    joined = F.nullif(F.concat_ws(reasons.SEPARATOR, *found), F.lit(""))
    return frame.withColumn("__unique", joined).drop(*[f"__dup{i}" for i in range(len(found))])


def _one_rule(
    frame: DataFrame,
    contract: Contract,
    rule: Rule,
    keys: List[str],
    accepted: Sequence[int],
    table: Optional[DataFrame],
    name: str,
) -> DataFrame:
    valid = F.col("__eligible")
    for column, key in zip(rule.columns, keys):
        valid = valid & F.col(key).isNotNull()
        if contract.column(column).column_type.kind in ("float", "double"):
            valid = valid & ~F.isnan(F.col(key))  # NaN never equals NaN in the python engine's sets
    frame = frame.withColumn("__valid", valid)
    if table is not None:
        frame = frame.withColumn(TABLE_MARK, F.lit(False)).unionByName(
            table.withColumn(TABLE_MARK, F.lit(True)), allowMissingColumns=True
        )
    in_file = Window.partitionBy(*keys, "__src")
    in_key = Window.partitionBy(*keys)
    first_row = F.min(F.when(F.col("__valid"), F.col("__row"))).over(in_file)
    earliest_accepted = F.min(F.when(F.col("__valid") & F.col("__src").isin(list(accepted)), F.col("__src"))).over(
        in_key
    )
    frame = frame.withColumn("__first_row", first_row).withColumn("__earliest", earliest_accepted)
    if table is not None:
        frame = frame.withColumn("__in_table", F.max(F.col(TABLE_MARK).cast("int")).over(in_key) == 1)
        frame = frame.filter(~F.col(TABLE_MARK)).drop(TABLE_MARK)
    else:
        frame = frame.withColumn("__in_table", F.lit(False))
    duplicate = (F.col("__row") != F.col("__first_row")) | (F.col("__earliest") < F.col("__src"))
    reason = F.when(
        F.col("__valid"),
        F.when(F.col("__in_table"), F.lit(reasons.duplicate_in_table(rule))).when(
            duplicate, F.lit(reasons.duplicate_in_run(rule))
        ),
    )
    return frame.withColumn(name, reason).drop("__valid", "__first_row", "__earliest", "__in_table")
