"""Text -> contract types, vectorised, with a reason for every value that does not convert.

The fast path casts a whole column with one Arrow kernel. Arrow's casts are strict (``5.005`` is
not a ``decimal(12,2)``, ``1995-02-30`` is not a date), but a cast fails for the whole array when
one value is bad. Then each value gets a second chance after normalisation (surrounding blanks, a
leading ``+``, ``yes``/``no`` booleans, a ``Z`` or ``+hh:mm`` time-zone suffix), whole slices at a
time (:func:`cast_cascade`), and what no chance converts is reported.
Decimals the strict cast refuses are read exactly in Python (trailing zeros past the scale, an
exponent), and so are the texts Arrow would get wrong without an error (past 38 digits, exponents).
A formatted date or time is checked against its fields, so an impossible day or second is refused
rather than rolled forward. A value converts or not on its own merits: the result never depends on
the other values in the batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Column, formats
from ...contract.types import INTEGER_RANGES, ColumnType
from .. import reasons
from ..numbers import NOT_A_DIGIT, PLAIN, NumberSpelling

Caster = Callable[[pa.Array], pa.Array]
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError)
_BISECT_LEAF = 8
_PROBE = 64
"""A cast is first tried on this many leading values of a longer array: Arrow converts every value
before it reports a failure, and some failures cost far more than a success (a timestamp with a zone
offset given to a cast without one: 0.6 s a million values, against 0.02 s for the cast that takes
them), so a slice that fails early is refused for the price of a few values."""


@dataclass
class Converted:
    """A typed column plus, for rows whose value did not convert, the reason (else null)."""

    values: pa.Array
    reason: Optional[pa.Array]


def arrow_type(ctype: ColumnType) -> pa.DataType:
    kind = ctype.kind
    if ctype.is_text:
        return pa.string()
    if kind == "boolean":
        return pa.bool_()
    if kind == "tinyint":
        return pa.int8()
    if kind == "smallint":
        return pa.int16()
    if kind == "int":
        return pa.int32()
    if kind == "bigint":
        return pa.int64()
    if kind == "float":
        return pa.float32()
    if kind == "double":
        return pa.float64()
    if kind == "decimal":
        assert ctype.precision is not None and ctype.scale is not None
        return pa.decimal128(ctype.precision, ctype.scale)
    if kind == "date":
        return pa.date32()
    if kind == "timestamp":
        return pa.timestamp("us")
    raise ValueError(f"no Arrow type for {ctype}")


def convert_text(values: pa.Array, column: Column, numbers: NumberSpelling = PLAIN) -> Converted:
    """Convert a string array (nulls stay null) to the column's type; numbers spelled as ``numbers``."""
    ctype = column.column_type
    if ctype.is_text:
        return check_length(values, column)
    target = arrow_type(ctype)
    read = values  # what a reason quotes
    if numbers.applies(ctype):
        values = respell_numbers(values, numbers)
    if ctype.kind in ("date", "timestamp") and column.format:
        typed, bad = _parse_with_format(values, column.format, ctype.kind)
    elif ctype.kind == "decimal":
        typed, bad = _convert_decimal(values, ctype, target)
    else:
        typed = _plain_integer(values, target) if ctype.is_integer else None
        if typed is not None:
            return Converted(typed, None)
        typed, bad = _cast_with_second_chance(values, ctype, target)
        if ctype.is_integer:
            typed, bad = _check_integer(values, typed, bad, ctype, target)
    if bad is None:
        return Converted(typed, None)
    prefix, suffix = reasons.conversion(column)
    return Converted(typed, _messages(bad, prefix, read, suffix))


def respell_numbers(values: pa.Array, numbers: NumberSpelling) -> pa.Array:
    """Numbers in ``numbers``' spelling as the casts read them (see :mod:`lakeport.engine.numbers`)."""
    out = pc.utf8_trim_whitespace(values)
    negative = numbers.negative("$")
    if negative is not None:
        out = pc.replace_substring_regex(out, negative, r"-\1")
    if numbers.thousands is not None:
        grouped = pc.fill_null(pc.match_substring_regex(out, numbers.grouped("$")), False)
        out = pc.if_else(grouped, pc.replace_substring(out, numbers.thousands, ""), out)
    if numbers.decimal != ".":
        out = pc.replace_substring(pc.replace_substring(out, ".", NOT_A_DIGIT), numbers.decimal, ".")
    return out


def reason_text(bad: pa.Array, prefix: str, values: pa.Array, suffix: str) -> pa.Array:
    """``prefix + value + suffix`` where ``bad`` is true, else null."""
    return _messages(bad, prefix, values, suffix)


# -- helpers ------------------------------------------------------------------------------------


def _messages(bad: pa.Array, prefix: str, values: pa.Array, suffix: str) -> pa.Array:
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    text = pc.binary_join_element_wise(prefix, pc.fill_null(values, "null"), suffix, "")
    return pc.if_else(bad, text, pa.scalar(None, pa.string()))


def check_length(values: pa.Array, column: Column) -> Converted:
    """Text longer than the column's varchar/char length becomes null, with a reason."""
    ctype = column.column_type
    if ctype.length is None or len(values) == 0:
        return Converted(values, None)
    lengths = pc.utf8_length(values)
    bad = pc.fill_null(pc.greater(lengths, ctype.length), False)
    if not pc.any(bad).as_py():
        return Converted(values, None)
    prefix, suffix = reasons.too_long(column)
    return Converted(pc.if_else(bad, pa.scalar(None, pa.string()), values), _messages(bad, prefix, lengths, suffix))


def try_cast(caster: Caster, values: pa.Array) -> Optional[pa.Array]:
    """``caster(values)``, or ``None`` if it fails for any value; a long array is probed first."""
    try:
        if len(values) > 4 * _PROBE:
            caster(values.slice(0, _PROBE))
        return caster(values)
    except _CAST_ERRORS:
        return None


def _failing_positions(values: pa.Array, caster: Caster, offset: int = 0, known_bad: bool = False) -> List[int]:
    """Positions (relative to the original array) whose value makes ``caster`` fail."""
    n = len(values)
    if n == 0:
        return []
    if not known_bad and try_cast(caster, values) is not None:
        return []
    if n <= _BISECT_LEAF:
        out = []
        for i in range(n):
            try:
                caster(values.slice(i, 1))
            except _CAST_ERRORS:
                out.append(offset + i)
        return out
    mid = n // 2
    return _failing_positions(values.slice(0, mid), caster, offset) + _failing_positions(
        values.slice(mid), caster, offset + mid
    )


def position_mask(n: int, positions: List[int]) -> pa.Array:
    mask = np.zeros(n, dtype=bool)
    mask[positions] = True
    return pa.array(mask)


def cast_locating(values: pa.Array, caster: Caster) -> Tuple[pa.Array, List[int]]:
    """Cast, nulling the values that cannot be cast; return the typed array and their positions."""
    typed = try_cast(caster, values)
    if typed is not None:
        return typed, []
    failing = _failing_positions(values, caster, known_bad=True)
    cleaned = pc.if_else(position_mask(len(values), failing), pa.scalar(None, values.type), values)
    return caster(cleaned), failing


def _cast_with_second_chance(
    values: pa.Array, ctype: ColumnType, target: pa.DataType
) -> Tuple[pa.Array, Optional[pa.Array]]:
    caster = _caster(ctype, target)
    typed = try_cast(caster, values)
    if typed is not None:
        return typed, None
    if ctype.kind == "timestamp":
        # values with a zone offset (converted to UTC, the zone dropped): a column where every value
        # has one, as many exports write them, converts in one cast without normalising
        def zoned(a: pa.Array) -> pa.Array:
            return pc.cast(_zoned_timestamp_caster(a), target)

        typed = try_cast(zoned, values)
        if typed is not None:
            return typed, None
    normalised = _normalise(values, ctype)
    chances: List[Chance] = [(values, caster), (normalised, caster)]
    if ctype.kind == "timestamp":
        chances.append((normalised, zoned))
    # the value's spelling, as a hint of which chance takes it: bit 0, normalising changes it; bit 2,
    # it ends in a zone offset (which normalising keeps); 0, only the strict cast can take it
    groups = np.asarray(pc.fill_null(pc.not_equal(normalised, values), False), dtype=np.int8)
    if ctype.kind == "timestamp":
        # generous on purpose: a value marked wrongly only tries more chances, one left unmarked
        # would get none but the strict cast
        suffixed = pc.match_substring_regex(normalised, r"[zZ]\s*$|[+-][0-9]{1,2}(:?[0-9]{2}){0,2}\s*$")
        groups |= np.asarray(pc.fill_null(suffixed, False), dtype=np.int8) << 2
    return cast_cascade(len(values), chances, groups)


Chance = Tuple[pa.Array, Caster]
"""A second chance: the values as that chance reads them (aligned with the originals), and the cast."""


def cast_cascade(
    n: int, chances: Sequence[Chance], groups: Optional[np.ndarray] = None
) -> Tuple[pa.Array, Optional[pa.Array]]:
    """Each value converted by the first of ``chances`` that takes it; returns the typed array (null
    where none does) and the mask of the values none takes (``None`` if every value converts).

    Whole slices are tried first: a slice one chance takes whole is converted in one call, and only
    a slice that no chance takes whole is split in two, down to single values. The work grows with
    the number of places where the spelling changes and with the values that no chance takes, not
    with the values that need a second chance: a column written entirely in a second-chance spelling
    (a ``Z`` suffix on every timestamp) costs a few casts. ``groups`` (a small integer per value, the
    spelling's kind) makes runs of one spelling out of a mixed column: the values of each group are
    gathered and converted together, each group trying its likeliest chance first (:func:`_order`);
    group 0 (a spelling no normalisation changes) is given the first chance only. Chances must agree
    on any value more than one of them takes, so a value's result never depends on the slice or the
    group it was converted in."""
    choice = np.full(n, -1, dtype=np.int8)
    if groups is None:
        _choose(list(chances), list(range(len(chances))), choice, 0)
    else:
        for group in np.unique(groups):
            where = np.flatnonzero(groups == group)
            indices = pa.array(where, type=pa.int64())
            order = _order(int(group), len(chances))
            gathered = [(pc.take(chances[i][0], indices), chances[i][1]) for i in order]
            picked = np.full(len(where), -1, dtype=np.int8)
            _choose(gathered, order, picked, 0)
            choice[where] = picked
    typed: Optional[pa.Array] = None
    for index, (source, cast) in enumerate(chances):
        chosen = choice == index
        if not chosen.any():
            continue
        part = cast(pc.take(source, pa.array(np.flatnonzero(chosen), type=pa.int64())))
        typed = pa.nulls(n, part.type) if typed is None else typed
        typed = pc.replace_with_mask(typed, pa.array(chosen), part)
    bad = choice == -1
    if typed is None:  # no value converts: the type is that of casting nothing
        source, cast = chances[0]
        return pa.nulls(n, cast(source.slice(0, 0)).type), pa.array(bad)
    if bad.any():
        typed = pc.if_else(pa.array(bad), pa.scalar(None, typed.type), typed)
        return typed, pa.array(bad)
    return typed, None


def _order(group: int, count: int) -> List[int]:
    """Which chances a group tries, likeliest first (a cast that fails costs as much as one that
    does not): group 0 only the strict cast; a zone suffix (bit 2) the zoned cast first; any other
    spelling the normalised cast first."""
    if group == 0:
        return [0]
    if group & 4 and count > 2:
        return [2, 1, 0]
    return [1, 0, *range(2, count)]


def _choose(chances: List[Chance], names: List[int], choice: np.ndarray, offset: int) -> None:
    """Fill ``choice[offset:offset + n]`` with the name of the chance that takes each value."""
    n = len(chances[0][0])
    if n == 0:
        return
    for name, (source, cast) in zip(names, chances):
        if try_cast(cast, source) is None:
            continue
        choice[offset : offset + n] = name
        return
    if n == 1:
        return  # no chance takes it: it stays -1
    if n <= _BISECT_LEAF:
        for i in range(n):
            _choose([(source.slice(i, 1), cast) for source, cast in chances], names, choice, offset + i)
        return
    mid = n // 2
    _choose([(source.slice(0, mid), cast) for source, cast in chances], names, choice, offset)
    _choose([(source.slice(mid), cast) for source, cast in chances], names, choice, offset + mid)


def _caster(ctype: ColumnType, target: pa.DataType) -> Caster:
    if ctype.is_integer:
        return lambda a: pc.cast(a, pa.int64())
    return lambda a: pc.cast(a, target)


def _zoned_timestamp_caster(values: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(values, pa.timestamp("us", tz="UTC")), pa.int64())


_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _normalise(values: pa.Array, ctype: ColumnType) -> pa.Array:
    """The second-chance spelling of values that failed the strict cast."""
    out = pc.utf8_trim_whitespace(values)
    if ctype.is_integer:
        out = pc.replace_substring_regex(out, r"^\+(\d)", r"\1")  # +5 is 5; +-5 stays wrong
    if ctype.kind == "boolean":
        lowered = pc.utf8_lower(out)
        out = pc.if_else(
            pc.is_in(lowered, value_set=pa.array(_TRUE)),
            "true",
            pc.if_else(pc.is_in(lowered, value_set=pa.array(_FALSE)), "false", lowered),
        )
    if ctype.kind == "timestamp":
        out = pc.replace_substring_regex(out, r"[zZ]$", "+00:00")
        # seven to nine fraction digits (SQL Server's datetime2, Oracle's TIMESTAMP(9)) to the six
        # the table holds: cut, never rounded, so no value moves into the next second or day
        out = pc.replace_substring_regex(out, r"(:[0-9]{2}\.[0-9]{6})[0-9]{1,3}($|[+-])", r"\1\2")
    return out


# -- decimals: exact, never rounded -----------------------------------------------------------------

_DECIMAL_TEXT = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")
_MAX_EXPONENT = 100_000
_ARROW_DIGITS = 38


def exact_decimal(text: str, precision: int, scale: int) -> Optional[Decimal]:
    """The value of ``text`` (trimmed) as a ``decimal(precision, scale)``, or ``None`` if it is not one exactly.

    An optional sign, ASCII digits with an optional point, an optional exponent; extra fraction
    digits must be zeros (never rounded), and the whole part must fit ``precision - scale``.
    """
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction, exponent_text = match.group(1), match.group(2), match.group(3) or "", match.group(4)
    if not whole and not fraction:
        return None
    exponent = int(exponent_text) if exponent_text else 0
    if abs(exponent) > _MAX_EXPONENT:
        return None
    significant = (whole + fraction).lstrip("0")
    core = significant.rstrip("0")
    parsed_scale = len(fraction) - exponent  # value = int(whole + fraction) * 10^-parsed_scale
    if parsed_scale < 0 and len(significant) - parsed_scale > _ARROW_DIGITS:
        return None  # like Arrow's short path: a number whose exponent needs more than 38 digits
    if not core:
        return Decimal(f"0e-{scale}")
    core_scale = parsed_scale - (len(significant) - len(core))
    if core_scale > scale or len(core) + (scale - core_scale) > precision:
        return None
    unscaled = core + "0" * (scale - core_scale)
    return Decimal(f"{'-' if sign == '-' else ''}{unscaled}e-{scale}")


def _convert_decimal(values: pa.Array, ctype: ColumnType, target: pa.DataType) -> Tuple[pa.Array, Optional[pa.Array]]:
    """Arrow's strict cast for the common spellings; the exact reading for the rest.

    Arrow's decimal parser wraps around past 38 digits (39 nines become a negative number) and
    rounds a small exponent away (``1.5e-40`` becomes 0.00) without an error, so a text longer than
    38 characters or with an exponent is never given to it. Whatever the strict cast refuses (blanks,
    a leading ``+``, trailing zeros past the scale, …) gets the exact reading too.
    """
    assert ctype.precision is not None and ctype.scale is not None
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    suspect = None
    if _longest_text(values) > _ARROW_DIGITS:
        suspect = pc.fill_null(pc.greater(pc.binary_length(values), _ARROW_DIGITS), False)
    if _buffer_contains(values, b"e", b"E"):
        exponent = pc.fill_null(pc.match_substring_regex(values, "[eE]"), False)
        suspect = exponent if suspect is None else pc.or_(suspect, exponent)
    if suspect is not None and pc.any(suspect).as_py():
        strict_input = pc.if_else(suspect, pa.scalar(None, pa.string()), values)
        typed, failing = cast_locating(strict_input, lambda a: pc.cast(a, target))
        positions = sorted(set(failing) | set(np.flatnonzero(suspect.to_numpy(zero_copy_only=False)).tolist()))
    else:
        typed, positions = cast_locating(values, lambda a: pc.cast(a, target))
    if not positions:
        return typed, None
    texts = pc.utf8_trim_whitespace(pc.take(values, pa.array(positions, type=pa.int64()))).to_pylist()
    exact = [exact_decimal(t, ctype.precision, ctype.scale) for t in texts]
    typed = pc.replace_with_mask(typed, position_mask(len(values), positions), pa.array(exact, type=target))
    wrong = [p for p, value in zip(positions, exact) if value is None]
    return typed, (position_mask(len(values), wrong) if wrong else None)


def _buffer_contains(values: pa.Array, *needles: bytes) -> bool:
    """Cheap pre-check: does any of ``needles`` occur in the raw bytes of a string array (false
    positives are fine)."""
    buffers = values.buffers()
    data = buffers[2] if len(buffers) > 2 else None
    if data is None or data.size == 0:
        return False
    raw = data.to_pybytes()  # one copy, then memchr-speed searches
    return any(raw.find(needle) >= 0 for needle in needles)


def _longest_text(values: pa.Array) -> int:
    """The byte length of the longest value (from the offsets; nulls count as empty)."""
    if len(values) == 0:
        return 0
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width)[values.offset : values.offset + len(values) + 1]
    return int(np.diff(offsets).max())


def _plain_integer(values: pa.Array, target: pa.DataType) -> Optional[pa.Array]:
    """The column cast straight to its integer type, if every value is a decimal integer in range
    (Arrow refuses one out of range; hexadecimal is ruled out by a scan for an ``x``); else ``None``,
    and the values take the checked path: the same results, a cast and three checks dearer."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if _buffer_contains(values, b"x", b"X"):
        return None
    return try_cast(lambda a: pc.cast(a, target), values)


def _check_integer(
    text: pa.Array, typed64: pa.Array, bad: Optional[pa.Array], ctype: ColumnType, target: pa.DataType
) -> Tuple[pa.Array, Optional[pa.Array]]:
    extra = None
    # Arrow accepts hexadecimal (0x1F); a contract integer is decimal digits only.
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if _buffer_contains(text, b"x", b"X"):
        extra = pc.fill_null(pc.match_substring(text, "x", ignore_case=True), False)
    low, high = INTEGER_RANGES[ctype.kind]
    if ctype.kind != "bigint":
        out_of_range = pc.fill_null(pc.or_(pc.less(typed64, low), pc.greater(typed64, high)), False)
        extra = out_of_range if extra is None else pc.or_(extra, out_of_range)
    if extra is not None and pc.any(extra).as_py():
        bad = extra if bad is None else pc.or_(bad, extra)
        typed64 = pc.if_else(bad, pa.scalar(None, pa.int64()), typed64)
    return pc.cast(typed64, target, safe=False), bad


@lru_cache(maxsize=64)
def _re2_plan(fmt: str) -> Tuple[str, Dict[str, str]]:
    """An RE2 pattern that reads ``fmt`` like the C library, and which named group holds which field."""
    out: List[str] = []
    groups: Dict[str, str] = {}
    for i, piece in enumerate(formats.parts(fmt)):
        if piece.kind == "literal":
            out.append(re.escape(piece.text))
        elif piece.kind == "blanks":
            out.append(_BLANKS)
        elif piece.kind == "day_name":
            out.append("(?i:" + "|".join(d for name in formats.DAYS for d in (name, name[:3])) + ")")
        else:
            assert piece.name is not None
            group = f"g{i}"  # a repeated code: the last one wins, as in the C library
            groups[piece.name] = group
            if piece.width is not None:
                out.append(f"{_BLANKS}(?P<{group}>\\d{{1,{piece.width}}})")
            elif piece.name == "month_name":
                names = dict.fromkeys(m for name in formats.MONTHS for m in (name, name[:3]))
                out.append(f"(?P<{group}>(?i:" + "|".join(names) + "))")
            elif piece.name == "ampm":
                out.append(f"(?P<{group}>(?i:am|pm))")
            else:  # zone
                out.append(f"{_BLANKS}(?P<{group}>Z|[+-]\\d{{2}}(?::?\\d{{2}})?)")
    return "^" + "".join(out) + "$", groups


_BLANKS = "[ \\t\\n\\x0B\\f\\r]*"
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_MONTH_ABBREVIATIONS = pa.array([m[:3] for m in formats.MONTHS])


def _not_a_real_moment(trimmed: pa.Array, parsed: pa.Array, fmt: str) -> np.ndarray:
    """Rows the C library's strptime read but that name no real moment: a day the month does not
    have, second 60 or 61, a zone minute above 59 (Arrow would roll them forward), or a text the
    format's pattern does not read the same way."""
    pattern, groups = _re2_plan(fmt)
    fields = pc.extract_regex(trimmed, pattern)
    n = len(trimmed)

    def text(name: str) -> pa.Array:
        return pc.struct_field(fields, groups[name])

    def number(name: str, default: int) -> np.ndarray:
        if name not in groups:
            return np.full(n, default, dtype=np.int64)
        return np.asarray(pc.fill_null(pc.cast(text(name), pa.int64()), default).to_numpy(zero_copy_only=False))

    if "year" in groups:
        year = number("year", 1900)
    elif "year2" in groups:
        short = number("year2", 0)
        year = np.where(short < 69, short + 2000, short + 1900)
    else:
        year = np.full(n, 1900, dtype=np.int64)
    if "month_name" in groups and "month" not in groups:
        abbreviation = pc.utf8_slice_codeunits(pc.utf8_lower(text("month_name")), 0, 3)
        index = pc.index_in(abbreviation, value_set=_MONTH_ABBREVIATIONS)
        month = np.asarray(pc.fill_null(index, 0).to_numpy(zero_copy_only=False)).astype(np.int64) + 1
    else:
        month = number("month", 1)
    month = np.clip(month, 1, 12)
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    last_day = _DAYS_IN_MONTH[month - 1] + ((month == 2) & leap)
    wrong = (number("day", 1) > last_day) | (number("second", 0) > 59)
    if "zone" in groups:
        digits = pc.replace_substring_regex(text("zone"), "[^0-9]", "")
        minutes = pc.if_else(pc.equal(pc.utf8_length(digits), 4), pc.utf8_slice_codeunits(digits, 2, 4), pa.scalar("0"))
        wrong |= _number_of(minutes) > 59
    read = np.asarray(pc.is_valid(parsed).to_numpy(zero_copy_only=False))
    matched = np.asarray(pc.is_valid(fields).to_numpy(zero_copy_only=False))
    return read & (wrong | ~matched)


def _number_of(digits: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.cast(digits, pa.int64()), 0).to_numpy(zero_copy_only=False))


def _parse_with_format(values: pa.Array, fmt: str, kind: str) -> Tuple[pa.Array, Optional[pa.Array]]:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    trimmed = pc.utf8_trim_whitespace(values)
    parsed = pc.strptime(trimmed, format=fmt, unit="us", error_is_null=True)
    if parsed.type.tz is not None:
        parsed = pc.cast(pc.cast(parsed, pa.int64()), pa.timestamp("us"))
    failed = pc.fill_null(pc.and_(pc.is_valid(values), pc.is_null(parsed)), False)
    failed = pc.or_(failed, pa.array(_not_a_real_moment(trimmed, parsed, fmt)))
    result = pc.cast(parsed, pa.date32()) if kind == "date" else parsed
    if not pc.any(failed).as_py():
        return result, None
    return pc.if_else(failed, pa.scalar(None, result.type), result), failed
