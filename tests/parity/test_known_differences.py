"""Where the engines still differ: the python engine's own corner cases, kept as failing expectations.

Each case states what the contract says and what the Spark engine does. They are marked
``xfail(strict=True)``: when the python engine is fixed the case passes, pytest reports it, and the
mark comes off. None of them is hidden from the report.
"""

from __future__ import annotations

from typing import Any, Optional

import pytest

from lakeport.contract import Column

from .test_conversion_parity import _from_spark, _python, _spark_frame

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark")]

PYTHON_ENGINE = "python engine: "

CASES = [
    pytest.param(
        "decimal(38,0)",
        None,
        "9" * 39,
        (None, "rejected"),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "Arrow's decimal parser wraps around past 38 digits:"
            " 39 nines become -20847100762815390390123822295304634369, accepted",
        ),
        id="decimal-overflow-wraps",
    ),
    pytest.param(
        "decimal(5,2)",
        None,
        "1.5" + "0" * 40,
        ("1.50", None),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "Arrow's decimal parser wraps around past 38 digits:"
            " '1.5' and 40 zeros becomes 0.00, accepted",
        ),
        id="decimal-trailing-zeros-wrap",
    ),
    pytest.param(
        "timestamp",
        "%Y-%m-%d %H:%M:%S",
        "2024-01-31 10:11:60",
        (None, "rejected"),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "strptime accepts second 60 and 61 and Arrow"
            " rolls them into the next minute (the ISO path rejects them)",
        ),
        id="format-second-60",
    ),
    pytest.param(
        "timestamp",
        "%d.%m.%Y %H:%M",
        "30.02.2024  10:11",
        (None, "rejected"),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "the impossible-day guard only applies when the"
            " text matches the format character for character; two blanks slip through and"
            " 30 February becomes 1 March",
        ),
        id="format-day-roll-with-extra-blank",
    ),
    pytest.param(
        "date",
        "%F",
        "2024-02-30",
        (None, "rejected"),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "formats with %F, %D or %e have no"
            " impossible-day guard: 2024-02-30 becomes 2024-03-01",
        ),
        id="format-day-roll-with-F",
    ),
    pytest.param(
        "timestamp",
        "%Y-%m-%dT%H:%M:%S%z",
        "2024-01-31T23:30:00-0100",
        ("1706747400000000", None),
        marks=pytest.mark.xfail(
            strict=True,
            reason=PYTHON_ENGINE + "the impossible-day guard compares the text's"
            " day with the UTC day, so a valid time whose UTC date differs is rejected",
        ),
        id="format-zone-crossing-midnight",
    ),
]


@pytest.mark.parametrize(("type_", "fmt", "text", "contract_says"), CASES)
def test_python_engine_follows_the_contract(
    spark: Any, type_: str, fmt: Optional[str], text: str, contract_says: Any
) -> None:
    column = Column(name="c", type=type_, format=fmt)
    (spark_row,) = _spark_frame(spark, 0, [text], column).collect()
    spark_value, spark_reason = _from_spark(spark_row, column)
    expected_value, expected_reason = contract_says
    # the Spark engine does what the contract says …
    assert spark_value == expected_value
    assert (spark_reason is None) == (expected_reason is None)
    # … and the python engine does the same (fails until it is fixed)
    assert _python([text], column) == [(spark_value, spark_reason)]
