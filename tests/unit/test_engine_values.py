"""The python engine's reading of single values and rows, where a library left alone would be wrong.

Each case is a value a data team could send: the engine must keep it exactly, or refuse it with a
reason; never round it, wrap it around or roll it into another day. (The Spark engine is held to the
same cases in ``tests/parity``.)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, List, Optional, Tuple

import pyarrow as pa
import pytest
from pydantic import ValidationError

from lakeport.contract import Column, Contract, load_contract_text
from lakeport.engine.numbers import NumberSpelling
from lakeport.engine.python.convert import convert_text
from lakeport.engine.python.engine import _prepare
from lakeport.engine.python.reader import TextBatch

pytestmark = pytest.mark.py39


def read(type_: str, texts: List[Optional[str]], fmt: Optional[str] = None) -> List[Tuple[Any, Optional[str]]]:
    out = convert_text(pa.array(texts, pa.string()), Column(name="c", type=type_, format=fmt))
    reasons = out.reason.to_pylist() if out.reason is not None else [None] * len(texts)
    return list(zip(out.values.to_pylist(), reasons))


@pytest.mark.parametrize(
    ("type_", "text", "value"),
    [
        ("decimal(38,0)", "9" * 38, Decimal("9" * 38)),
        ("decimal(38,0)", "9" * 39, None),  # Arrow alone: -20847100762815390390123822295304634369
        ("decimal(5,2)", "1.5" + "0" * 40, Decimal("1.50")),  # Arrow alone: 0.00
        ("decimal(5,2)", "0" * 40 + "1.5", Decimal("1.50")),
        ("decimal(5,2)", "1.5e-40", None),  # Arrow alone: 0.00
        ("decimal(5,2)", "1.5e2", Decimal("150.00")),
        ("decimal(5,2)", "1e3", None),
        ("decimal(5,2)", " +12.50 ", Decimal("12.50")),
        ("decimal(5,2)", "12.345", None),
        ("decimal(5,2)", "12.3450", None),
        ("decimal(5,2)", "+-1", None),
        ("decimal(5,2)", "\u0661.\u0665", None),  # Arabic-Indic digits are not digits here
        ("decimal(5,2)", ".", None),
        ("int", "+-1", None),
        ("int", " +7 ", 7),
    ],
)
def test_numbers_are_exact_or_refused(type_: str, text: str, value: Any) -> None:
    ((got, reason),) = read(type_, [text])
    assert got == value
    if value is None:
        assert reason is not None and repr(text)[1:-1] in reason and type_ in reason
    else:
        assert reason is None


GERMAN = NumberSpelling(",", ".")
FRENCH = NumberSpelling(",", "\u202f")
ENGLISH = NumberSpelling(".", ",")
SAP = NumberSpelling(",", ".", "trailing")
ACCOUNTS = NumberSpelling(".", ",", "parentheses")


@pytest.mark.parametrize(
    ("numbers", "type_", "text", "value"),
    [
        (GERMAN, "decimal(12,2)", "1.234.567,89", Decimal("1234567.89")),
        (GERMAN, "decimal(12,2)", "-0,5", Decimal("-0.50")),
        (GERMAN, "decimal(12,2)", "1234,5", Decimal("1234.50")),  # grouping is optional
        (GERMAN, "decimal(12,2)", "1,234", None),  # three decimals into a scale of two: never rounded
        (GERMAN, "decimal(12,2)", "1.5", None),  # a point is not this file's decimal point
        (GERMAN, "decimal(12,2)", "12.34,5", None),  # not grouped by three
        (GERMAN, "int", "1.234", 1234),
        (GERMAN, "int", "1,0", None),
        (GERMAN, "double", "1,5e3", 1500.0),
        (FRENCH, "double", "1\u202f234,5", 1234.5),
        (FRENCH, "double", "1 234,5", None),  # a plain space is another separator
        (ENGLISH, "bigint", "1,234,567", 1234567),
        (ENGLISH, "decimal(12,2)", "1,234.5", Decimal("1234.50")),
        (ENGLISH, "decimal(12,2)", "1,5", None),
        (NumberSpelling(",", None), "double", "1.234,5", None),  # no thousands separator declared
        (SAP, "decimal(12,2)", "1.234,56-", Decimal("-1234.56")),
        (SAP, "decimal(12,2)", "-1.234,56", Decimal("-1234.56")),  # a leading minus is still read
        (SAP, "int", "7-", -7),
        (SAP, "int", "-7-", None),
        (SAP, "tinyint", "128-", -128),
        (SAP, "tinyint", "129-", None),  # the range is checked on the negative value
        (ACCOUNTS, "decimal(12,2)", "(1,234.56)", Decimal("-1234.56")),
        (ACCOUNTS, "double", "(-5)", None),
        (ACCOUNTS, "double", "(5", None),
        (GERMAN, "int", "7-", None),  # only where the contract says negatives are written so
    ],
)
def test_numbers_in_a_locale_spelling_are_read_exactly_or_refused(
    numbers: NumberSpelling, type_: str, text: str, value: Any
) -> None:
    out = convert_text(pa.array([text]), Column(name="c", type=type_), numbers)
    reason = out.reason[0].as_py() if out.reason is not None else None
    assert out.values.to_pylist() == [value]
    if value is None:
        assert reason is not None and repr(text)[1:-1] in reason  # the value as the file has it
    else:
        assert reason is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2024-01-31 10:11:12.1234567", "2024-01-31 10:11:12.123456"),  # SQL Server datetime2(7)
        ("2024-01-31 10:11:12.123456789", "2024-01-31 10:11:12.123456"),  # Oracle TIMESTAMP(9)
        ("2024-01-31T23:59:59.9999999Z", "2024-01-31 23:59:59.999999"),  # cut: not rounded into February
        ("2024-01-31T10:11:12.1234567+02:00", "2024-01-31 08:11:12.123456"),
        (" 2024-01-31 10:11:12.0000000 ", "2024-01-31 10:11:12"),
        ("2024-01-31 10:11:12.1234567890", None),  # ten digits: no system writes that
        ("2024-01-31 10:11.1234567", None),
    ],
)
def test_timestamps_finer_than_microseconds_are_cut_to_them(text: str, value: Optional[str]) -> None:
    # amid plain values, as in a column of an export
    plain, (got, reason), _ = read("timestamp", ["2024-01-31 10:11:12", text, "2024-01-31 10:11:13"])
    assert plain == (datetime(2024, 1, 31, 10, 11, 12), None)
    assert (None if got is None else str(got)) == value
    assert (reason is None) == (value is not None)


@pytest.mark.parametrize(
    ("type_", "fmt", "text", "value"),
    [
        ("timestamp", "%Y-%m-%d %H:%M:%S", "2024-01-31 10:11:60", None),
        ("timestamp", "%Y-%m-%d %H:%M:%S", "2024-01-31 10:11:59", "2024-01-31 10:11:59"),
        ("timestamp", "%d.%m.%Y %H:%M", "30.02.2024  10:11", None),
        ("timestamp", "%d.%m.%Y %H:%M", "29.02.2024  10:11", "2024-02-29 10:11:00"),
        ("date", "%F", "2024-02-30", None),
        ("date", "%F", "2023-02-29", None),
        ("date", "%D", "02/30/24", None),
        ("date", "%e %B %Y", " 31 june 2024", None),
        ("date", "%e %B %Y", " 30 june 2024", "2024-06-30"),
        ("date", "%d-%b", "29-Feb", None),  # no year: 1900, not a leap year
        ("timestamp", "%Y-%m-%dT%H:%M:%S%z", "2024-01-31T23:30:00-0100", "2024-02-01 00:30:00"),
        ("timestamp", "%Y-%m-%dT%H:%M%z", "2024-01-31T10:11+0260", None),
    ],
)
def test_formatted_moments_are_real_or_refused(type_: str, fmt: str, text: str, value: Optional[str]) -> None:
    ((got, reason),) = read(type_, [text], fmt)
    assert (None if got is None else str(got)) == value
    assert (reason is None) == (value is not None)


def test_a_format_code_the_engines_do_not_read_is_refused_by_the_contract() -> None:
    with pytest.raises(ValidationError, match=r"%j in format '%j/%Y' is not supported"):
        Column(name="c", type="date", format="%j/%Y")


CONTRACT = """
dataset: lab.values
owner: data-platform
source: {prefix: lab/, format: csv}
schema:
  - {name: id, type: int, nullable: false}
  - {name: colour, type: string}
  - {name: region, type: string}
  - {name: day, type: date}
partition_by:
  - {name: region}
  - {name: month, from: day, transform: month}
quality:
  rules:
    - {allowed_values: {column: colour, values: [red, blue]}}
    - {regex: {column: colour, pattern: '[a-z]+'}}
  max_bad_ratio: 1.0
"""


def contract() -> Contract:
    return load_contract_text(CONTRACT)


def batch(rows: List[List[Optional[str]]], errors: Optional[List[Optional[str]]] = None) -> TextBatch:
    names = ["id", "colour", "region", "day"]
    columns = {name: pa.array([row[i] for row in rows], pa.string()) for i, name in enumerate(names)}
    return TextBatch(
        columns=columns,
        row_numbers=pa.array(range(2, len(rows) + 2), pa.int64()),
        errors=None if errors is None else pa.array(errors, pa.string()),
    )


def test_a_null_passes_the_value_rules_and_a_value_outside_them_does_not() -> None:
    prepared = _prepare(contract(), batch([["1", None, "eu", "2024-01-05"], ["2", "green", "eu", "2024-01-05"]]))
    assert prepared.problems is not None
    first, second = prepared.problems.to_pylist()
    assert first is None
    assert "allowed_values(colour)" in second and "green" in second


def test_a_batch_of_only_unreadable_rows_is_quarantined_with_its_reasons() -> None:
    # every partition value is null: no partition key can be formed, and none is needed
    rows: List[List[Optional[str]]] = [[None, None, None, None], [None, None, None, None]]
    errors: List[Optional[str]] = ["row 2: 7 fields, expected 4", "row 3: 1 field, expected 4"]
    prepared = _prepare(contract(), batch(rows, errors))
    assert prepared.problems is not None
    assert prepared.problems.to_pylist() == errors


class _CountingCompute:
    """pyarrow.compute with its casts counted: the work of locating the values that need a second chance."""

    def __init__(self) -> None:
        import pyarrow.compute as compute

        self._compute = compute
        self.casts = 0
        self.refused = 0  # values given to casts that failed: Arrow converts them all before it fails

    def cast(self, values: Any, *args: Any, **kwargs: Any) -> Any:
        self.casts += 1
        try:
            return self._compute.cast(values, *args, **kwargs)
        except Exception:
            self.refused += len(values)
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._compute, name)


@pytest.mark.parametrize(
    ("name", "spell"),
    [
        ("every value with a Z", lambda i: f"2013-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"),
        ("zoned and naive alternating", lambda i: "2013-01-01 10:00:00" if i % 2 else "2013-01-01T10:00:00+01:00"),
        ("blanks around every other value", lambda i: f" {i} " if i % 2 else str(i)),
        ("naive for a while, then zoned", lambda i: f"2013-01-01 10:{i % 60:02d}:00" + ("Z" if i > 300 else "")),
    ],
)
def test_values_that_need_a_second_chance_cost_a_few_casts_however_many_they_are(
    monkeypatch: pytest.MonkeyPatch, name: str, spell: Any
) -> None:
    from lakeport.engine.python import convert as convert_module

    kind = "bigint" if name.startswith("blanks") else "timestamp"
    column = Column(name="c", type=kind)
    values = [spell(i) for i in range(20_000)]
    counting = _CountingCompute()
    monkeypatch.setattr(convert_module, "pc", counting)
    converted = convert_module.convert_text(pa.array(values), column)
    assert converted.reason is None, name
    assert counting.casts < 30, f"{name}: {counting.casts} casts for {len(values)} values"
    if name == "every value with a Z":
        # the strict cast is refused on a few leading values, not after converting all of them
        assert counting.refused < 1000, f"{counting.refused} values given to casts that failed"
    monkeypatch.undo()
    # and each value converts as it does alone
    sample = list(range(0, len(values), 997))
    alone = [convert_module.convert_text(pa.array([values[i]]), column).values[0].as_py() for i in sample]
    assert [converted.values[i].as_py() for i in sample] == alone
