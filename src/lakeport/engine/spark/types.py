"""Contract types as Spark SQL types (the same physical types as the python engine's Arrow types)."""

from __future__ import annotations

from pyspark.sql import types as T

from ...contract.types import ColumnType

_SIMPLE = {
    "boolean": T.BooleanType(),
    "tinyint": T.ByteType(),
    "smallint": T.ShortType(),
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "float": T.FloatType(),
    "double": T.DoubleType(),
    "date": T.DateType(),
    # no time zone, like the contract's (Athena's) timestamp: the session time zone never applies
    "timestamp": T.TimestampNTZType(),
}


def spark_type(ctype: ColumnType) -> T.DataType:
    """The Spark type of a contract type."""
    if ctype.is_text:
        return T.StringType()
    if ctype.kind in _SIMPLE:
        return _SIMPLE[ctype.kind]
    if ctype.kind == "decimal":
        assert ctype.precision is not None and ctype.scale is not None
        return T.DecimalType(ctype.precision, ctype.scale)
    raise ValueError(f"no Spark type for {ctype}")
