"""Text -> contract types as Spark SQL expressions, with the python engine's acceptance rules.

Spark's own casts are more lenient than the contract (``CAST('1.9' AS INT)`` is 1, ``'1d'`` is a
double, ``'5.005'`` rounds into ``decimal(12,2)``, ``make_timestamp`` turns second 60 into the next
minute), so no value is cast before a regular expression has checked that its spelling is one the
contract accepts. The rules (see :mod:`lakeport.contract.types` and the python engine's
``convert.py``, which applies Arrow's casts with a second chance after normalising):

* every type but text: blanks around the value are ignored (Unicode blanks, as Arrow trims them);
* integers: ``[+]`` then ``[-]digits`` (one leading ``+`` is dropped, as the python engine does),
  no hexadecimal, no fraction, no exponent; then the type's range;
* decimals: an optional sign, digits with an optional point, an optional exponent; accepted when the
  value fits ``decimal(p,s)`` exactly (extra fraction digits must be zeros; never rounded);
* float/double: decimal or exponent notation, ``inf``/``infinity``/``nan`` in any case;
* boolean: true/false, t/f, yes/no, y/n, 1/0 in any case;
* date: ``YYYY-MM-DD``; timestamp: ``YYYY-MM-DD[( |T)HH[:MM[:SS[.ffffff]]][Z|±HH[[:]MM]]]``, a zone
  offset converted to UTC, fraction digits past the sixth (up to nine) cut off; impossible dates
  and times are rejected, never rolled;
* a column ``format`` follows strptime (:mod:`.formats`).

Each common spelling has a fast path (one anchored pattern, one cast); the general path runs only
for values that miss it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from pyspark.sql import Column as SparkColumn
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...contract import Column
from ...contract.types import INTEGER_RANGES, ColumnType
from .. import reasons
from ..numbers import NOT_A_DIGIT, PLAIN, NumberSpelling
from .types import spark_type

WHITESPACE = r"\t\n\x0B\f\r\x1C-\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
"""The characters Arrow's ``utf8_trim_whitespace`` removes (Java regex class body)."""

_TRIM = rf"^[{WHITESPACE}]+|[{WHITESPACE}]+\z"
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_MAX_EXPONENT = 100_000


@dataclass
class Conversion:
    """The typed value (null where the text is null or does not convert) and the row's reason."""

    value: SparkColumn
    reason: Optional[SparkColumn]


def trimmed(text: SparkColumn) -> SparkColumn:
    return F.regexp_replace(text, _TRIM, "")


def _call(name: str, *args: SparkColumn) -> SparkColumn:
    return F.call_function(name, *args)


def convert(text: SparkColumn, column: Column, numbers: NumberSpelling = PLAIN) -> Conversion:
    """Convert the string column ``text`` to ``column``'s type; numbers spelled as ``numbers``."""
    ctype = column.column_type
    if ctype.is_text:
        return _check_length(text, column)
    read = text  # what a reason quotes
    if numbers.applies(ctype):
        text = respell_numbers(text, numbers)
    if ctype.kind in ("date", "timestamp") and column.format:
        from .formats import parse_with_format

        value = parse_with_format(text, column.format, ctype.kind)
    elif ctype.is_integer:
        value = _integer(text, ctype.kind)
    elif ctype.kind == "decimal":
        assert ctype.precision is not None and ctype.scale is not None
        value = _decimal(text, ctype.precision, ctype.scale)
    elif ctype.kind in ("float", "double"):
        value = _floating(text, spark_type(ctype))
    elif ctype.kind == "boolean":
        value = _boolean(text)
    elif ctype.kind == "date":
        value = _iso_date(text)
    elif ctype.kind == "timestamp":
        value = _iso_timestamp(text)
    else:  # pragma: no cover - every contract type is handled above
        raise ValueError(f"no conversion for {ctype}")
    prefix, suffix = reasons.conversion(column)
    bad = read.isNotNull() & value.isNull()
    return Conversion(value, F.when(bad, F.concat(F.lit(prefix), read, F.lit(suffix))))


def respell_numbers(text: SparkColumn, numbers: NumberSpelling) -> SparkColumn:
    """Numbers in ``numbers``' spelling as the casts read them (see :mod:`lakeport.engine.numbers`)."""
    out = trimmed(text)
    negative = numbers.negative(r"\z")
    if negative is not None:
        out = F.regexp_replace(out, negative, "-$1")
    if numbers.thousands is not None:
        out = F.when(out.rlike(numbers.grouped(r"\z")), F.translate(out, numbers.thousands, "")).otherwise(out)
    if numbers.decimal != ".":
        out = F.translate(out, "." + numbers.decimal, NOT_A_DIGIT + ".")
    return out


def _check_length(text: SparkColumn, column: Column) -> Conversion:
    limit = column.column_type.length
    if limit is None:
        return Conversion(text, None)
    length = F.length(text)
    bad = F.coalesce(length > limit, F.lit(False))
    prefix, suffix = reasons.too_long(column)
    return Conversion(
        F.when(~bad, text),
        F.when(bad, F.concat(F.lit(prefix), length.cast("string"), F.lit(suffix))),
    )


# -- numbers ------------------------------------------------------------------------------------


def _integer(text: SparkColumn, kind: str) -> SparkColumn:
    slow = F.regexp_replace(trimmed(text), r"^\+(?=\d)", "")  # +5 is 5; +-5 stays wrong
    value = F.when(text.rlike(r"^-?\d{1,18}\z"), text.cast("long")).otherwise(
        F.when(slow.rlike(r"^-?\d+\z"), slow.cast("long"))  # beyond bigint: null
    )
    low, high = INTEGER_RANGES[kind]
    if kind != "bigint":
        value = F.when(value.between(low, high), value)
    return value.cast(spark_type(ColumnType(kind)))


def let(value: SparkColumn, body: Callable[[SparkColumn], SparkColumn]) -> SparkColumn:
    """``body(value)`` with ``value`` computed once.

    A Column used twice is two copies of its expression tree; nested derivations then grow the
    generated code past the JVM's 64 KB method limit. A one-element ``transform`` binds a name
    instead (evaluated without code generation, so it is kept to the rare general paths).
    """
    return F.transform(F.array(value), body).getItem(0)


def _decimal(text: SparkColumn, precision: int, scale: int) -> SparkColumn:
    """Exact decimals: ``value * 10^scale`` must be a whole number of at most ``precision`` digits."""
    target = T.DecimalType(precision, scale)
    whole = precision - scale
    if whole >= 1:
        fraction = rf"(\.\d{{0,{scale}}})?" if scale else r"\.?"
        fast = text.rlike(rf"^-?\d{{1,{whole}}}{fraction}\z")
    else:
        fast = F.lit(False)

    def parts(s: SparkColumn) -> SparkColumn:
        frac_part = F.regexp_extract(s, r"^[+-]?\d*\.(\d*)", 1)
        exp_text = F.regexp_extract(s, r"[eE]([+-]?\d+)\z", 1)
        exponent = F.when(exp_text == "", F.lit(0).cast("long")).otherwise(exp_text.cast("long"))
        significant = F.regexp_replace(F.concat(F.regexp_extract(s, r"^[+-]?(\d*)", 1), frac_part), r"^0+", "")
        return F.struct(
            s.rlike(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\z").alias("syntax"),
            s.startswith("-").alias("negative"),
            significant.alias("significant"),
            F.regexp_replace(significant, r"0+\z", "").alias("core"),
            (F.length(frac_part) - exponent).alias("parsed_scale"),  # value = digits * 10^-parsed_scale
            exponent.alias("exponent"),
        )

    def value(p: SparkColumn) -> SparkColumn:
        digits = F.length(p["core"])
        core_scale = p["parsed_scale"] - (F.length(p["significant"]) - digits)
        # Arrow refuses a number whose exponent would need more than 38 digits, even zero
        arrow_bound = (p["parsed_scale"] >= 0) | (F.length(p["significant"]) - p["parsed_scale"] <= 38)
        exact = (digits == 0) | ((core_scale <= scale) & (digits + (F.lit(scale) - core_scale) <= precision))
        accepted = p["syntax"] & (F.abs(p["exponent"]) <= _MAX_EXPONENT) & arrow_bound & exact
        unscaled = F.when(digits == 0, F.lit("0")).otherwise(
            _call("rpad", p["core"], digits + (F.lit(scale) - core_scale), F.lit("0"))
        )
        return F.when(accepted, let(unscaled, lambda u: with_sign(with_point(u, scale), p["negative"]).cast(target)))

    slow = let(F.regexp_replace(trimmed(text), r"^\+(?=[\d.])", ""), lambda s: let(parts(s), value))
    return F.when(fast, text.cast(target)).otherwise(slow)


def with_point(unscaled: SparkColumn, scale: int) -> SparkColumn:
    """``12345`` with scale 2 -> ``123.45``; ``5`` -> ``0.05``."""
    if not scale:
        return unscaled
    padded = _call("lpad", unscaled, F.greatest(F.length(unscaled), F.lit(scale + 1)), F.lit("0"))
    cut = F.length(padded) - scale
    return F.concat(padded.substr(F.lit(1), cut), F.lit("."), padded.substr(cut + 1, F.lit(scale)))


def with_sign(plain: SparkColumn, negative: SparkColumn) -> SparkColumn:
    return F.concat(F.when(negative, F.lit("-")).otherwise(F.lit("")), plain)


def _floating(text: SparkColumn, target: T.DataType) -> SparkColumn:
    s = trimmed(text)
    special = (
        F.when(s.rlike(r"(?i)^[+-]?nan\z"), F.lit("NaN"))
        .when(s.rlike(r"(?i)^-inf(inity)?\z"), F.lit("-Infinity"))
        .when(s.rlike(r"(?i)^\+?inf(inity)?\z"), F.lit("Infinity"))
    )
    slow = F.when(s.rlike(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\z"), s.cast(target)).otherwise(special.cast(target))
    return F.when(text.rlike(r"^-?\d{1,15}(\.\d{1,15})?\z"), text.cast(target)).otherwise(slow)


def _boolean(text: SparkColumn) -> SparkColumn:

    def mapped(value: SparkColumn) -> SparkColumn:
        return F.when(value.isin(*_TRUE), F.lit(True)).when(value.isin(*_FALSE), F.lit(False))

    return F.coalesce(mapped(F.lower(text)), mapped(F.lower(trimmed(text))))


# -- dates and times ----------------------------------------------------------------------------

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}\z"
_ISO_TIMESTAMP = (
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[ T](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d{0,3})?)?)?([zZ]|[+-]\d{2}(?::?\d{2})?)?)?\z"
)


def _date_of(s: SparkColumn) -> SparkColumn:
    return F.make_date(s.substr(1, 4).cast("int"), s.substr(6, 2).cast("int"), s.substr(9, 2).cast("int"))


def _iso_date(text: SparkColumn) -> SparkColumn:
    s = trimmed(text)
    general = F.when(text.rlike(_ISO_DATE), _date_of(text)).otherwise(F.when(s.rlike(_ISO_DATE), _date_of(s)))
    return _canonical_or(text, T.DateType(), general)


def _canonical_or(text: SparkColumn, target: T.DataType, general: SparkColumn) -> SparkColumn:
    """Spark's own (lenient) cast, kept only when the text is exactly the value's canonical spelling
    (``2024-01-31``, ``2024-01-31 10:11:12``): the common case costs one parse and one format.
    A year with a sign (``-2024``, ``+10000``) is Spark's spelling only, never the contract's."""
    cast = text.cast(target)
    return F.when(F.ascii(text).between(48, 57) & (cast.cast("string") == text), cast).otherwise(general)


def make_timestamp(
    year: SparkColumn,
    month: SparkColumn,
    day: SparkColumn,
    hour: SparkColumn,
    minute: SparkColumn,
    second: SparkColumn,
    fraction: SparkColumn,
) -> SparkColumn:
    """A TIMESTAMP_NTZ from whole-number parts (``fraction``: up to 6 digits as text); null if impossible.

    Second 60 is refused here: Spark would turn it into the next minute.
    """
    seconds = F.concat(second.cast("string"), F.lit("."), F.rpad(F.coalesce(fraction, F.lit("")), 6, "0"))
    return F.when(
        second.between(0, 59), F.make_timestamp_ntz(year, month, day, hour, minute, seconds.cast("decimal(8,6)"))
    )


def shift_to_utc(local: SparkColumn, offset_minutes: SparkColumn) -> SparkColumn:
    """``local`` minus its zone offset (minutes east of UTC)."""
    return local - F.make_dt_interval(F.lit(0), F.lit(0), offset_minutes, F.lit(0))


def _iso_timestamp(text: SparkColumn) -> SparkColumn:

    def part(s: SparkColumn, index: int) -> SparkColumn:
        return F.regexp_extract(s, _ISO_TIMESTAMP, index)

    def number(s: SparkColumn, index: int) -> SparkColumn:
        piece = part(s, index)
        return F.when(piece == "", F.lit(0)).otherwise(piece.cast("int"))

    def general(s: SparkColumn) -> SparkColumn:
        zone = part(s, 8)
        hours = zone.substr(2, 2).cast("int")
        minutes = F.when(F.length(zone) > 3, F.substring(zone, -2, 2).cast("int")).otherwise(F.lit(0))
        offset = F.when((zone == "") | (F.upper(zone) == "Z"), F.lit(0)).otherwise(
            F.when(
                hours.between(0, 23) & minutes.between(0, 59),
                F.when(zone.startswith("-"), F.lit(-1)).otherwise(F.lit(1)) * (hours * 60 + minutes),
            )
        )
        local = make_timestamp(
            part(s, 1).cast("int"),
            part(s, 2).cast("int"),
            part(s, 3).cast("int"),
            number(s, 4),
            number(s, 5),
            number(s, 6),
            part(s, 7),
        )
        return F.when(s.rlike(_ISO_TIMESTAMP) & offset.isNotNull(), shift_to_utc(local, offset))

    plain = text.rlike(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\z")
    fast = make_timestamp(
        text.substr(1, 4).cast("int"),
        text.substr(6, 2).cast("int"),
        text.substr(9, 2).cast("int"),
        text.substr(12, 2).cast("int"),
        text.substr(15, 2).cast("int"),
        text.substr(18, 2).cast("int"),
        F.lit(""),
    )
    return _canonical_or(text, T.TimestampNTZType(), F.when(plain, fast).otherwise(general(trimmed(text))))
