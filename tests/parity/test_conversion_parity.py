"""Value by value: the Spark engine converts text exactly as the python engine does.

For every contract type (and the common ``format`` spellings) a corpus of clean, messy and hostile
spellings goes through the python engine's ``convert_text`` and through the Spark engine's
expressions; the typed values and the reasons must be identical.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakeport.contract import Column
from lakeport.contract.model import THOUSANDS_SEPARATORS
from lakeport.engine.numbers import PLAIN, NumberSpelling
from lakeport.engine.python.convert import convert_text

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark")]

# fmt: off
BLANKS = ["\t", "\n", "\x0b", "\x0c", "\r", "\x1c", "\x1f", " ", "\x85", "\xa0", "\u1680", "\u2000", "\u200a",
          "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_BLANKS = ["\x00", "\x01", "\x08", "\x0e", "\x1b", "\u200b", "\ufeff", "\x7f"]


def _padded(value: str) -> List[str]:
    return [b + value for b in BLANKS] + [value + b for b in BLANKS] + [b + value for b in NOT_BLANKS]


INTEGERS = [
    "0", "1", "-1", "+1", "007", "-0", "+0", "+-1", "+-0", "++1", "--1", "-+1", "+ 1", "1 000", "1_000", "1,000",
    "1.0", "1.", ".1", "1e3", "1E3", "0x1F", "0X1f", "x1", "1x", "0b1", "", " ", "+", "-",
    "\u0661\u0662", "\uff11\uff12",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "00000000000000000000000000000000000000001", "99999999999999999999", "2147483647", "2147483648",
    "-2147483648", "-2147483649", "32767", "32768", "-32769", "127", "128", "-128", "-129", "NaN", "inf",
    *_padded("42"), *_padded("-7"), *_padded("+5"),
]

DECIMALS = [
    "0", "1", "1.5", "1.50", "1.500", "1.505", "5.005", "5.0050", "999.99", "-999.99", "1000", "999.999",
    "999.990", "999.9900", "-999.994", "+1.5", "++1.5", "+-1.5", "-+1.5", "+ 1.5", ".5", "5.", "-.5", "+.5",
    "-", "+", ".", "", "1,5", "1.5.1", "nan", "inf", "123.", "0123.45", "00000999.99", "-0", "-0.00",
    "0.000", "12.5000", "1e2", "1E-2", "1.2e1", "1.000e0", "1e-3", "1.5e-1", "1.55e-1", "9.9999e2",
    "99999e-2", "999999e-3", "999990e-3", "1.5e+1", "1.5E+01", "1.5e", "e5", "1.5e1.5", "1e10", "1e-10",
    "0e0", "0e35", "0e37", "0e38", "0e39", "0e40", "0e-5", "0e-100", "0.0e-40", "00000e37", "0.00000e39",
    "1e35", "1e36", "1e37", "1e38", "100000000000000000000000000000000000000e-38",
    "0000000000000000000000000000000000000000001", "0.000000000000000000000000000000000000000000",
    "1e999999999999", "1e99999999999999999999", "12.", "0x10", "1 5", "\u0661.\u0665",
    "0.1000000000000000000000000000000",
    *_padded("1.5"), *_padded("-2.25"), *_padded("+3"),
]

FLOATS = [
    "0", "1", "-1", "1.5", "+1.5", "-1.5", "1e5", "1E5", "1e", "e1", ".5", "5.", "-.5e-3", "1.e5", "nan", "NaN",
    "+nan", "-nan", "inf", "-inf", "+inf", "Infinity", "-Infinity", "INF", "infinity", "+infinity", "inF",
    "1d", "1f", "1D", "0x1p3", "1_0", "", " ", "++1", "+-1", "1.7976931348623157e309", "4.9e-324",
    "1e-400", "1e400", "-1e400", "3.4028235e38", "3.5e38", "1e-50", "1.1", "0.1", "123456789012345678901234567890",
    "1,5", "\u0661", "1.5.2", "nanx", "infin", "Inf inity", *_padded("2.5"), *_padded("nan"), *_padded("-inf"),
]

BOOLEANS = [
    "true", "false", "True", "TRUE", "tRuE", "t", "T", "f", "F", "yes", "YES", "Yes", "no", "NO", "y", "Y",
    "n", "N", "1", "0", "01", "10", "2", "-1", "", " ", "on", "off", "truee", "ye", "nope", "fals",
    *_padded("true"), *_padded("No"), *_padded("1"),
]

DATES = [
    "2024-01-31", "2024-1-31", "2024-01-1", "1995-02-30", "1995-13-45", "2023-02-29", "2024-02-29",
    "2024-04-31", "2024-00-10", "2024-01-00", "2024-01-31T00:00:00", "2024-01-31 00:00:00", "20240131",
    "24-01-31", "0001-01-01", "9999-12-31", "10000-01-01", "-2024-01-01", "+2024-01-01", "2024/01/31",
    "", " ", "0000-01-01", "0004-02-29", "0999-12-31", "1582-10-10", "1900-02-29", "2000-02-29",
    "\uff12\uff10\uff12\uff14-01-31", *_padded("2024-03-01"),
]

TIMESTAMPS = [
    "2024-01-31", "2024-01-31 10", "2024-01-31 10:11", "2024-01-31 10:11:12", "2024-01-31T10:11:12",
    "2024-01-31 10:11:12.5", "2024-01-31 10:11:12.123456", "2024-01-31 10:11:12.1234567",
    "2024-01-31 10:11:12.1234560", "2024-01-31 10:11:12.000000000", "2024-01-31 10:11:12.000",
    "2024-01-31 10:11:12Z", "2024-01-31 10:11:12z", "2024-01-31T10:11:12+02:00", "2024-01-31T10:11:12+0200",
    "2024-01-31T10:11:12+02", "2024-01-31T10:11:12-05:30", "2024-01-31 10:11:12.5+01:00", "2024-01-31T10Z",
    "2024-01-31 10Z", "2024-01-31 10+01", "2024-01-31T10:11Z", "2024-01-31T10:11:12.5Z", "2024-01-31T10:11:12+00",
    "2024-01-31T10:11:12-00:00", "2024-01-31T10:11:12+23:59", "2024-01-31T10:11:12+24:00",
    "2024-01-31T10:11:12+02:60", "2024-01-31T10:11:12+02:00:00", "2024-01-31T10:11:12+5", "2024-01-31T10:11:12+0",
    "2024-01-31T10:11:12+01:0", "2024-01-31T10:11:12+1:00", "2024-01-31 25:00:00", "2024-01-31 24:00:00",
    "2024-01-31 10:60:00", "2024-01-31 10:11:60", "2024-01-31 23:59:60", "2024-01-31t10:11:12",
    "2024-01-31  10:11:12", "2024-01-31 10:11:12 +02:00", "2024-01-31 1:2:3", "2024-01-31T", "2024-01-31 10:11:12.",
    "2024-01-31 10:11:12,5", "1995-02-30 10:00:00", "2024-01-31 10:11:12 Z", "2024-01-31 10:11:12UTC",
    "2024-01-31Z", "2024-01-31+01:00", "2024-01-31 10:11.5", "2024-01-31\t10:11:12", "2024-01-31 10:11:12ZZ",
    "2024-1-31 10:11:12", "-0001-01-01", "2024-01-31 23:59:59.999999-01:00", "0001-01-01 00:00:00+01:00",
    "2024-02-29 12:00:00", "2023-02-29 12:00:00", "", " ", "0000-01-01 00:00:00", "0999-12-31 23:59:59",
    "1582-10-10 12:00:00.000001", "2024-01-31 10:11:12.500", "2024-01-31 00:00:00", "+2024-01-31 00:00:00",
    "-2024-01-31 00:00:00", "2024-01-31 10:11:12.000001", *_padded("2024-01-31 10:11:12"),
    "2024-01-31 10:11:12.123456789", "2024-01-31 10:11:12.1234567890", "2024-01-31T23:59:59.9999999Z",
    "2024-01-31T10:11:12.1234567+02:00", "2024-01-31T10:11:12.12345678-0530", " 2024-01-31 10:11:12.1234567 ",
    *_padded("2024-01-31T10:11:12+02:00"),
]

FORMATTED: List[Tuple[str, str, List[str]]] = [
    ("date", "%d/%m/%Y", ["31/01/2024", "1/1/2024", "01/01/2024", " 31/01/2024 ", "30/02/1995", "31/04/2024",
                          "32/01/2024", "00/01/2024", "31/13/2024", "31/1/24", "31/01/+2024", "31/01/-2024",
                          "31/01/20245", "31/01/12", "31/01/2024x", "31 /01/2024", "31/ 01/2024", "031/01/2024",
                          "31/01/ 2024", "29/02/2023", "29/02/2024", "31/01/\t2024", "31-01-2024", "", "x"]),
    ("date", "%Y%m%d", ["20240131", "2024131", "202401311", "20240230", "2024013", "20241301"]),
    ("timestamp", "%d.%m.%Y %H:%M", ["31.01.2024 10:11", "31.01.2024 24:00", "31.01.2024 23:60",
                                     "31.01.2024  10:11", "31.01.202410:11", "31.01.2024 1:1",
                                     "31.01.2024 10:11:12", "30.02.2024 10:11", "31.01.2024\t10:11"]),
    ("timestamp", "%Y-%m-%d %H:%M:%S", ["2024-01-31 10:11:12", "2024-01-31 10:11:12.5", "2024-1-31 1:2:3"]),
    ("timestamp", "%m/%d/%Y %I:%M %p", ["01/31/2024 10:11 PM", "01/31/2024 12:00 AM", "01/31/2024 12:00 pm",
                                        "01/31/2024 13:00 PM", "01/31/2024 00:00 AM", "01/31/2024 10:11PM",
                                        "01/31/2024 10:11 P.M.", "01/31/2024 1:00 aM", "01/31/2024 10:11"]),
    ("date", "%d-%b-%Y", ["31-Jan-2024", "31-jan-2024", "31-JAN-2024", "31-January-2024", "31-Janu-2024",
                          "31-Sept-2024", "30-Sep-2024", "31-Sep-2024", "31- Jan-2024", "31-Jan- 2024",
                          "01-May-2024", "01-june-2024"]),
    ("date", "%d %B %Y", ["31 January 2024", "31 Jan 2024", "31 january 2024", "29 February 2023"]),
    ("timestamp", "%Y-%m-%dT%H:%M:%S%z", ["2024-01-31T10:11:12+0200", "2024-01-31T10:11:12+02:00",
                                          "2024-01-31T10:11:12Z", "2024-01-31T10:11:12-0530",
                                          "2024-01-31T10:11:12+02", "2024-01-31T10:11:12", "2024-01-31T10:11:12z",
                                          "2024-01-31T10:11:12+02:0", "2024-01-31T10:11:12+0260",
                                          "2024-01-31T10:11:12+1", "2024-01-31T10:11:12 +0200"]),
    ("date", "%y%m%d", ["240131", "690101", "680101", "991231", "000101"]),
    ("date", "%Y-%m", ["2024-01", "2024-13", "2024-1"]),
    ("timestamp", "%H:%M", ["10:11", "25:00"]),
]

# fmt: on


def _python(
    values: Sequence[Optional[str]], column: Column, numbers: NumberSpelling = PLAIN
) -> List[Tuple[Optional[str], Optional[str]]]:
    converted = convert_text(pa.array(list(values), pa.string()), column, numbers)
    typed = converted.values
    if pa.types.is_timestamp(typed.type):
        shown = pc.cast(pc.cast(typed, pa.int64()), pa.string())
    elif pa.types.is_date32(typed.type):
        shown = pc.cast(pc.cast(typed, pa.int32()), pa.string())
    elif pa.types.is_floating(typed.type):
        shown = pa.array([_float_text(v) for v in typed.to_pylist()], pa.string())
    else:
        shown = pc.cast(typed, pa.string())
    reasons = converted.reason.to_pylist() if converted.reason is not None else [None] * len(values)
    return list(zip(shown.to_pylist(), reasons))


def _float_text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if math.isnan(value):
        return "nan"
    return repr(float(value))


def _spark_frame(
    spark: Any, case: int, values: Sequence[Optional[str]], column: Column, numbers: NumberSpelling = PLAIN
) -> Any:
    """(case, i, value as text, reason) for each value, converted by the Spark engine's expressions."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from lakeport.engine.spark.convert import convert

    frame = spark.createDataFrame([(case, i, v) for i, v in enumerate(values)], "case int, i int, t string")
    result = convert(F.col("t"), column, numbers)
    value = result.value
    kind = column.column_type.kind
    if kind == "timestamp":
        shown = F.unix_micros(value.cast(T.TimestampType())).cast("string")
    elif kind == "date":
        shown = F.datediff(value, F.lit("1970-01-01").cast("date")).cast("string")
    else:
        shown = value.cast("string")  # floats: Java's shortest text that reads back to the same value
    reason = result.reason if result.reason is not None else F.lit(None).cast("string")
    return frame.select("case", "i", shown.alias("v"), reason.alias("r"))


def _from_spark(row: Any, column: Column) -> Tuple[Optional[str], Optional[str]]:
    kind = column.column_type.kind
    value = row["v"]
    if kind in ("float", "double") and value is not None:
        number = float(value)
        value = _float_text(number if kind == "double" else _as_float32(number))
    return value, row["r"]


def _as_float32(value: float) -> float:
    return float(pa.array([value], pa.float32())[0].as_py())


# number spellings: every thousands separator with each decimal separator it can go with
SPELLINGS = [
    NumberSpelling(",", None),
    *[NumberSpelling(",", t) for t in THOUSANDS_SEPARATORS if t != ","],
    *[NumberSpelling(".", t) for t in THOUSANDS_SEPARATORS if t != "."],
    NumberSpelling(",", ".", "trailing"),  # SAP
    NumberSpelling(".", None, "trailing"),
    NumberSpelling(".", ",", "parentheses"),  # accounting
]


def _spelled(numbers: NumberSpelling) -> List[str]:
    d, t = numbers.decimal, numbers.thousands or "_"
    written = ["1234", "1234" + d + "5", "-1234" + d + "50", d + "5", "1" + d, "+7", "1e3", "1" + d + "5e2"]
    grouped = [f"1{t}234", f"1{t}234{d}5", f"-12{t}345{d}678", f"1{t}234{t}567", f"123{t}456", f" 1{t}234{d}5 "]
    wrong = [
        f"1{t}23",
        f"12{t}34{d}5",
        f"1{t}2345",
        f"{t}123",
        f"1{t}{t}234",
        f"1234{t}",
        f"1{t}234{t}56{d}7",
        "1.5" if d == "," else "1,5",
        "1.234.5",
        "1,234,5",
        f"1{d}234{t}5",
        f"1{t}234e3",
        "NaN",
        "inf",
        "",
    ]
    # a negative in each spelling, both signs, a sign without digits, unbalanced parentheses
    negatives = ["5-", f"1{t}234{d}5-", "-5-", "+5-", "5 -", "-", "5--", "1e5-", "1e-5-", "(5)", "(-5)", "(+5)"]
    negatives += [f"(1{t}234{d}5)", "(5", "5)", "()", "((5))", " (5) ", "-(5)"]
    return [*written, *grouped, *wrong, *negatives]


CASES = [
    ("bigint", None, INTEGERS),
    ("int", None, INTEGERS),
    ("smallint", None, INTEGERS),
    ("tinyint", None, INTEGERS),
    ("decimal(5,2)", None, DECIMALS),
    ("decimal(12,2)", None, DECIMALS),
    ("decimal(38,0)", None, DECIMALS),
    ("decimal(3,0)", None, DECIMALS),
    ("decimal(18,18)", None, ["0.123456789012345678", "1", "-0.5", *DECIMALS]),
    (
        "decimal(38,10)",
        None,
        [
            "1234567890123456789012345678.1234567890",
            "12345678901234567890123456789.1",
            "9999999999999999999999999999.9999999999",
            *DECIMALS,
        ],
    ),
    ("double", None, FLOATS),
    ("float", None, FLOATS),
    ("boolean", None, BOOLEANS),
    ("date", None, DATES),
    ("timestamp", None, TIMESTAMPS),
    ("varchar(3)", None, ["abc", "abcd", "é€𝄞", "é€𝄞x", "", " ab  ", None]),
    ("char(2)", None, ["ab", "abc", "𝄞𝄞", "𝄞𝄞𝄞"]),
    ("string", None, ["", " x ", "anything at all"]),
    *[(kind, fmt, values) for kind, fmt, values in FORMATTED],
]


def _corpus(values: List[Optional[str]]) -> List[Optional[str]]:
    return list(dict.fromkeys([*values, None]))


@pytest.fixture(scope="module")
def spark_conversions(spark: Any) -> Dict[int, List[Tuple[Optional[str], Optional[str]]]]:
    """Every case converted by Spark in one job (a job per case would take minutes)."""
    frames = [
        _spark_frame(spark, case, _corpus(values), Column(name="c", type=type_, format=fmt))
        for case, (type_, fmt, values) in enumerate(CASES)
    ]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionAll(frame)
    out: Dict[int, List[Tuple[Optional[str], Optional[str]]]] = {}
    for row in sorted(union.collect(), key=lambda r: (r["case"], r["i"])):
        type_, fmt, _ = CASES[row["case"]]
        out.setdefault(row["case"], []).append(_from_spark(row, Column(name="c", type=type_, format=fmt)))
    return out


@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{t}-{f or 'iso'}" for t, f, _ in CASES])
def test_spark_converts_like_the_python_engine(spark_conversions: Dict[int, Any], case: int) -> None:
    type_, fmt, values = CASES[case]
    corpus = _corpus(values)
    expected = _python(corpus, Column(name="c", type=type_, format=fmt))
    actual = spark_conversions[case]
    mismatches = [(v, e, a) for v, e, a in zip(corpus, expected, actual) if e != a]
    assert not mismatches, "\n".join(f"{v!r}: python {e!r} spark {a!r}" for v, e, a in mismatches)


NUMBER_CASES = [(type_, numbers) for numbers in SPELLINGS for type_ in ("int", "decimal(12,2)", "double")]


@pytest.fixture(scope="module")
def spark_spelled(spark: Any) -> Dict[int, List[Tuple[Optional[str], Optional[str]]]]:
    frames = [
        _spark_frame(spark, case, _corpus(_spelled(numbers)), Column(name="c", type=type_), numbers)
        for case, (type_, numbers) in enumerate(NUMBER_CASES)
    ]
    union = frames[0]
    for frame in frames[1:]:
        union = union.unionAll(frame)
    out: Dict[int, List[Tuple[Optional[str], Optional[str]]]] = {}
    for row in sorted(union.collect(), key=lambda r: (r["case"], r["i"])):
        out.setdefault(row["case"], []).append(_from_spark(row, Column(name="c", type=NUMBER_CASES[row["case"]][0])))
    return out


@pytest.mark.parametrize(
    "case",
    range(len(NUMBER_CASES)),
    ids=[f"{t}-{n.decimal}{n.thousands or ''}-{n.negatives}" for t, n in NUMBER_CASES],
)
def test_spark_reads_localised_numbers_like_the_python_engine(spark_spelled: Dict[int, Any], case: int) -> None:
    type_, numbers = NUMBER_CASES[case]
    corpus = _corpus(_spelled(numbers))
    expected = _python(corpus, Column(name="c", type=type_), numbers)
    mismatches = [(v, e, a) for v, e, a in zip(corpus, expected, spark_spelled[case]) if e != a]
    assert not mismatches, "\n".join(f"{v!r}: python {e!r} spark {a!r}" for v, e, a in mismatches)
