"""Derived columns in the python engine: the expression's Athena meaning, row by row, on either DuckDB path.

The Spark engine's results are compared with these in tests/parity (test_derived_columns); the
ingest through the ledgers and the query of a derived, partitioned table in tests/functional.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, Iterator, List

import pyarrow as pa
import pytest

from lakeport.contract import load_contract_data
from lakeport.engine.python import derived

pytestmark = pytest.mark.py39


def _contract(*columns: Dict[str, Any]) -> Any:
    return load_contract_data(
        {
            "dataset": "t.derived",
            "owner": "tests@example.com",
            "source": {"prefix": "t/", "format": "csv"},
            "schema": [
                {"name": "n", "type": "int"},
                {"name": "x", "type": "double"},
                {"name": "s", "type": "string"},
                *columns,
            ],
        }
    )


ROWS = {
    "n": pa.array([517, -517, None, 2359], pa.int32()),
    "x": pa.array([1.0, 0.0, 2.718281828459045, None], pa.float64()),
    "s": pa.array(["2013-01-31 05:17", "2013-02-30 00:00", None, "not a time"], pa.string()),
}


@pytest.fixture(params=[True, False], ids=["with TRY", "without TRY (DuckDB < 1.3)"])
def try_path(request: Any) -> Iterator[None]:
    kept = derived.HAS_TRY
    derived.HAS_TRY = request.param
    yield
    derived.HAS_TRY = kept


def _derive(*columns: Dict[str, Any]) -> Dict[str, List[Any]]:
    contract = _contract(*columns)
    return {k: v.to_pylist() for k, v in derived.derive(contract, dict(ROWS), 4).items()}


@pytest.mark.usefixtures("try_path")
def test_integer_division_and_modulo_are_athenas_not_floating_point() -> None:
    out = _derive({"name": "minutes", "type": "int", "expression": "n / 100 * 60 + n % 100"})
    # Athena: 517 / 100 = 5 (truncated toward zero), -517 / 100 = -5, -517 % 100 = -17
    assert out["minutes"] == [317, -317, None, 1439]


@pytest.mark.usefixtures("try_path")
def test_athena_format_and_date_parse_mean_what_they_mean_in_athena() -> None:
    out = _derive(
        {"name": "clock", "type": "string", "expression": "format('%02d:%02d', n / 100, n % 100)"},
        {"name": "at", "type": "timestamp", "expression": "date_parse(s, '%Y-%m-%d %H:%i')"},
    )
    assert out["clock"] == ["05:17", "-5:-17", None, "23:59"]
    # a string that is no such moment gives no value for its row, not an error for the batch
    assert out["at"] == [datetime(2013, 1, 31, 5, 17), None, None, None]


@pytest.mark.usefixtures("try_path")
def test_a_failing_value_is_null_for_its_row_only() -> None:
    out = _derive(
        {"name": "day", "type": "date", "expression": "date(substr(s, 1, 10))"},
        # no code point -517: the function raises (in Athena too), the other rows keep their values
        {"name": "letter", "type": "string", "expression": "chr(n)"},
    )
    assert out["day"] == [date(2013, 1, 31), None, None, None]
    assert out["letter"] == [chr(517), None, None, chr(2359)]


def test_the_result_is_cast_to_the_declared_type() -> None:
    out = _derive(
        {"name": "code", "type": "varchar(4)", "expression": "upper(substr(s, 1, 4))"},
        {"name": "ratio", "type": "decimal(6,2)", "expression": "x * 100"},
        {"name": "late", "type": "boolean", "expression": "n >= 2100"},
    )
    assert out["code"] == ["2013", "2013", None, "NOT "]
    assert [str(v) if v is not None else None for v in out["ratio"]] == ["100.00", "0.00", "271.83", None]
    assert out["late"] == [False, False, None, True]
