"""Text -> contract types, vectorised, with a reason for every value that does not convert.

The fast path casts a whole column with one Arrow kernel. Arrow's casts are strict (``5.005`` is
not a ``decimal(12,2)``, ``1995-02-30`` is not a date), but a cast fails for the whole array when
one value is bad. Then the failing values are located by bisection (a handful of extra casts for a
few bad values), given a second chance after normalisation (surrounding blanks, a leading ``+``,
trailing zeros after the point, ``yes``/``no`` booleans, a ``Z`` or ``+hh:mm`` time-zone suffix),
and what still fails is reported. A value converts or not on its own merits: the result never
depends on the other values in the batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Column
from ...contract.types import INTEGER_RANGES, ColumnType
from .. import reasons

Caster = Callable[[pa.Array], pa.Array]
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, OverflowError)
_BISECT_LEAF = 8


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


def convert_text(values: pa.Array, column: Column) -> Converted:
    """Convert a string array (nulls stay null) to the column's type."""
    ctype = column.column_type
    if ctype.is_text:
        return _check_length(values, column)
    target = arrow_type(ctype)
    if ctype.kind in ("date", "timestamp") and column.format:
        typed, bad = _parse_with_format(values, column.format, ctype.kind)
    else:
        typed, bad = _cast_with_second_chance(values, ctype, target)
        if ctype.is_integer:
            typed, bad = _check_integer(values, typed, bad, ctype, target)
    if bad is None:
        return Converted(typed, None)
    prefix, suffix = reasons.conversion(column)
    return Converted(typed, _messages(bad, prefix, values, suffix))


def reason_text(bad: pa.Array, prefix: str, values: pa.Array, suffix: str) -> pa.Array:
    """``prefix + value + suffix`` where ``bad`` is true, else null."""
    return _messages(bad, prefix, values, suffix)


# -- helpers ------------------------------------------------------------------------------------


def _messages(bad: pa.Array, prefix: str, values: pa.Array, suffix: str) -> pa.Array:
    if values.type != pa.string():
        values = pc.cast(values, pa.string())
    text = pc.binary_join_element_wise(prefix, pc.fill_null(values, "null"), suffix, "")
    return pc.if_else(bad, text, pa.scalar(None, pa.string()))


def _check_length(values: pa.Array, column: Column) -> Converted:
    ctype = column.column_type
    if ctype.length is None or len(values) == 0:
        return Converted(values, None)
    lengths = pc.utf8_length(values)
    bad = pc.fill_null(pc.greater(lengths, ctype.length), False)
    if not pc.any(bad).as_py():
        return Converted(values, None)
    prefix, suffix = reasons.too_long(column)
    return Converted(pc.if_else(bad, pa.scalar(None, pa.string()), values), _messages(bad, prefix, lengths, suffix))


def _failing_positions(values: pa.Array, caster: Caster, offset: int = 0, known_bad: bool = False) -> List[int]:
    """Positions (relative to the original array) whose value makes ``caster`` fail."""
    n = len(values)
    if n == 0:
        return []
    if not known_bad:
        try:
            caster(values)
            return []
        except _CAST_ERRORS:
            pass
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
    try:
        return caster(values), []
    except _CAST_ERRORS:
        pass
    failing = _failing_positions(values, caster, known_bad=True)
    cleaned = pc.if_else(position_mask(len(values), failing), pa.scalar(None, values.type), values)
    return caster(cleaned), failing


def _cast_with_second_chance(
    values: pa.Array, ctype: ColumnType, target: pa.DataType
) -> Tuple[pa.Array, Optional[pa.Array]]:
    caster = _caster(ctype, target)
    typed, failing = cast_locating(values, caster)
    if not failing:
        return typed, None
    indices = pa.array(failing, type=pa.int64())
    retry_in = _normalise(pc.take(values, indices), ctype)
    retry_out, still = cast_locating(retry_in, caster)
    if ctype.kind == "timestamp" and still:
        # values with a zone offset: convert to UTC and drop the zone
        zoned = pc.take(retry_in, pa.array(still, type=pa.int64()))
        zoned_out, zoned_bad = cast_locating(zoned, _zoned_timestamp_caster)
        retry_out = pc.replace_with_mask(
            retry_out, position_mask(len(retry_in), still), pc.cast(zoned_out, retry_out.type)
        )
        still = [still[i] for i in zoned_bad]
    fixed = position_mask(len(values), failing)
    typed = pc.replace_with_mask(typed, fixed, retry_out)
    if not still:
        return typed, None
    bad_positions = [failing[i] for i in still]
    return typed, position_mask(len(values), bad_positions)


def _caster(ctype: ColumnType, target: pa.DataType) -> Caster:
    if ctype.is_integer:
        return lambda a: pc.cast(a, pa.int64())
    return lambda a: pc.cast(a, target)


def _zoned_timestamp_caster(values: pa.Array) -> pa.Array:
    return pc.cast(pc.cast(values, pa.timestamp("us", tz="UTC")), pa.int64())


_TRAILING_ZEROS = re.compile(r"^([+-]?\d*\.\d*?)0+$")
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")


def _normalise(values: pa.Array, ctype: ColumnType) -> pa.Array:
    """The second-chance spelling of values that failed the strict cast."""
    out = pc.utf8_trim_whitespace(values)
    if ctype.is_integer or ctype.kind == "decimal":
        out = pc.replace_substring_regex(out, r"^\+", "")
    if ctype.kind == "decimal":
        # 5.0050 -> 5.005 (-> still too many places for scale 2) ; 12.5000 -> 12.5
        out = pc.replace_substring_regex(out, r"^([+-]?\d*\.\d*?)0+$", r"\1")
        out = pc.replace_substring_regex(out, r"\.$", "")
    if ctype.kind == "boolean":
        lowered = pc.utf8_lower(out)
        out = pc.if_else(
            pc.is_in(lowered, value_set=pa.array(_TRUE)),
            "true",
            pc.if_else(pc.is_in(lowered, value_set=pa.array(_FALSE)), "false", lowered),
        )
    if ctype.kind == "timestamp":
        out = pc.replace_substring_regex(out, r"[zZ]$", "+00:00")
    return out


def _buffer_contains(values: pa.Array, needles: bytes) -> bool:
    """Cheap pre-check on the raw bytes of a string array (false positives are fine)."""
    buffers = values.buffers()
    data = buffers[2] if len(buffers) > 2 else None
    if data is None or data.size == 0:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    return bool(np.isin(raw, np.frombuffer(needles, dtype=np.uint8)).any())


def _check_integer(
    text: pa.Array, typed64: pa.Array, bad: Optional[pa.Array], ctype: ColumnType, target: pa.DataType
) -> Tuple[pa.Array, Optional[pa.Array]]:
    extra = None
    # Arrow accepts hexadecimal (0x1F); a contract integer is decimal digits only.
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if _buffer_contains(text, b"xX"):
        extra = pc.fill_null(pc.match_substring(text, "x", ignore_case=True), False)
    low, high = INTEGER_RANGES[ctype.kind]
    if ctype.kind != "bigint":
        out_of_range = pc.fill_null(pc.or_(pc.less(typed64, low), pc.greater(typed64, high)), False)
        extra = out_of_range if extra is None else pc.or_(extra, out_of_range)
    if extra is not None and pc.any(extra).as_py():
        bad = extra if bad is None else pc.or_(bad, extra)
        typed64 = pc.if_else(bad, pa.scalar(None, pa.int64()), typed64)
    return pc.cast(typed64, target, safe=False), bad


# strptime codes -> regex groups, to catch Arrow's roll-forward of impossible days (30 Feb -> 2 Mar)
_FORMAT_GROUPS = {
    "%Y": r"(?P<Y>\d{4})",
    "%m": r"(?P<m>\d{1,2})",
    "%d": r"(?P<d>\d{1,2})",
    "%H": r"\d{1,2}",
    "%M": r"\d{1,2}",
    "%S": r"\d{1,2}",
    "%y": r"\d{2}",
    "%b": r"[A-Za-z]{3}",
    "%B": r"[A-Za-z]+",
    "%p": r"[AaPp][Mm]",
    "%I": r"\d{1,2}",
    "%j": r"\d{1,3}",
    "%z": r"(?:[+-]\d{2}:?\d{2}|Z)",
    "%%": "%",
}


def _format_regex(fmt: str) -> Optional[str]:
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i : i + 2]
            if code not in _FORMAT_GROUPS:
                return None
            out.append(_FORMAT_GROUPS[code])
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "^" + "".join(out) + "$"


def _parse_with_format(values: pa.Array, fmt: str, kind: str) -> Tuple[pa.Array, Optional[pa.Array]]:
    trimmed = pc.utf8_trim_whitespace(values)
    parsed = pc.strptime(trimmed, format=fmt, unit="us", error_is_null=True)
    if parsed.type.tz is not None:
        parsed = pc.cast(pc.cast(parsed, pa.int64()), pa.timestamp("us"))
    failed = pc.and_(pc.is_valid(values), pc.is_null(parsed))
    pattern = _format_regex(fmt)
    if pattern is not None and "(?P<d>" in pattern:
        parts = pc.extract_regex(trimmed, pattern)
        day_text = pc.struct_field(parts, "d")
        day = pc.cast(pc.if_else(pc.is_valid(parsed), day_text, pa.scalar(None, pa.string())), pa.int64())
        rolled = pc.fill_null(pc.not_equal(pc.day(parsed), day), False)
        failed = pc.or_(failed, rolled)
    failed = pc.fill_null(failed, False)
    result = pc.cast(parsed, pa.date32()) if kind == "date" else parsed
    if not pc.any(failed).as_py():
        return result, None
    return pc.if_else(failed, pa.scalar(None, result.type), result), failed
