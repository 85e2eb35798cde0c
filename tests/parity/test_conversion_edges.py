"""Corner cases where a library would silently get the value wrong, and the contract decides.

Arrow's decimal parser wraps around past 38 digits and rounds small exponents away; the C library's
strptime accepts 30 February and second 60 and Arrow rolls them forward. Each case states what the
contract says; both engines must say it. (These were the python engine's known differences until it
was fixed; the cases stay as a guard.)
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from lakeport.contract import Column

from .test_conversion_parity import _from_spark, _python, _spark_frame

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark")]

CASES = [
    pytest.param(
        "decimal(38,0)",
        None,
        "9" * 39,
        (None, "rejected"),
        id="decimal-overflow-wraps",
    ),
    pytest.param(
        "decimal(5,2)",
        None,
        "1.5" + "0" * 40,
        ("1.50", None),
        id="decimal-trailing-zeros-wrap",
    ),
    pytest.param(
        "timestamp",
        "%Y-%m-%d %H:%M:%S",
        "2024-01-31 10:11:60",
        (None, "rejected"),
        id="format-second-60",
    ),
    pytest.param(
        "timestamp",
        "%d.%m.%Y %H:%M",
        "30.02.2024  10:11",
        (None, "rejected"),
        id="format-day-roll-with-extra-blank",
    ),
    pytest.param(
        "date",
        "%F",
        "2024-02-30",
        (None, "rejected"),
        id="format-day-roll-with-F",
    ),
    pytest.param(
        "timestamp",
        "%Y-%m-%dT%H:%M:%S%z",
        "2024-01-31T23:30:00-0100",
        ("1706747400000000", None),
        id="format-zone-crossing-midnight",
    ),
    pytest.param("decimal(5,2)", None, "1.5e-40", (None, "rejected"), id="decimal-tiny-exponent-rounds"),
    pytest.param("decimal(5,2)", None, "+-1", (None, "rejected"), id="decimal-two-signs"),
    pytest.param("int", None, "+-1", (None, "rejected"), id="int-two-signs"),
    pytest.param("date", "%d-%b", "29-Feb", (None, "rejected"), id="format-no-year-is-1900"),
    pytest.param("timestamp", "%Y-%m-%dT%H:%M%z", "2024-01-31T10:11+0260", (None, "rejected"), id="zone-minute-60"),
]


@pytest.mark.parametrize(("type_", "fmt", "text", "contract_says"), CASES)
def test_both_engines_follow_the_contract(
    spark: Any, type_: str, fmt: Optional[str], text: str, contract_says: Any
) -> None:
    column = Column(name="c", type=type_, format=fmt)
    (spark_row,) = _spark_frame(spark, 0, [text], column).collect()
    spark_value, spark_reason = _from_spark(spark_row, column)
    expected_value, expected_reason = contract_says
    # the Spark engine does what the contract says …
    assert spark_value == expected_value
    assert (spark_reason is None) == (expected_reason is None)
    # … and the python engine does the same
    assert _python([text], column) == [(spark_value, spark_reason)]
