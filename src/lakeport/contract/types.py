"""Column types: the Glue/Athena (Hive) names a contract uses, parsed once into :class:`ColumnType`.

Both engines take their physical types from here, so a type means the same thing everywhere:

=============  ====================  ===========================================================
contract       Parquet / Arrow       accepted text (CSV, JSON Lines)
=============  ====================  ===========================================================
string         string                anything
varchar(n)     string                at most n characters, else the row is quarantined
char(n)        string                at most n characters (not padded)
boolean        bool                  true/false, t/f, yes/no, y/n, 1/0 (any case)
tinyint …      int8/16/32/64         optional sign and digits; out of range is quarantined
float/double   float32/float64       decimal or exponent notation, nan, inf
decimal(p,s)   decimal128(p,s)       at most p-s integer digits; more than s fraction digits
                                     are accepted only when the extra digits are zeros (no
                                     silent rounding: ``5.005`` into decimal(12,2) is rejected)
date           date32                ISO ``YYYY-MM-DD`` or the column's ``format``
timestamp      timestamp[us]         ISO ``YYYY-MM-DD[T ]HH:MM:SS[.ffffff]`` or ``format``;
                                     no time zone (Athena's timestamp has none); a 7th to 9th
                                     fraction digit is cut off (the type holds microseconds)
=============  ====================  ===========================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

INTEGER_RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
SIMPLE_TYPES = ("string", "boolean", "float", "double", "date", "timestamp", *INTEGER_RANGES)
PARAMETERISED = ("varchar", "char", "decimal")
ALL_TYPE_NAMES = tuple(sorted(SIMPLE_TYPES + PARAMETERISED))

_ALIASES = {"integer": "int", "long": "bigint", "real": "float", "bool": "boolean"}
_PATTERN = re.compile(r"^\s*([a-z]+)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")


class TypeParseError(ValueError):
    """The text is not a type lakeport knows; the message says which types exist."""


@dataclass(frozen=True)
class ColumnType:
    """A parsed contract type. ``kind`` is the base name (``decimal``, ``varchar``, ``bigint``…)."""

    kind: str
    length: Optional[int] = None
    precision: Optional[int] = None
    scale: Optional[int] = None

    @property
    def glue_name(self) -> str:
        """The canonical Glue/Athena spelling, as written into the Data Catalog."""
        if self.kind in ("varchar", "char"):
            return f"{self.kind}({self.length})"
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.kind

    @property
    def is_text(self) -> bool:
        return self.kind in ("string", "varchar", "char")

    @property
    def is_integer(self) -> bool:
        return self.kind in INTEGER_RANGES

    @property
    def is_temporal(self) -> bool:
        return self.kind in ("date", "timestamp")

    @property
    def is_numeric(self) -> bool:
        return self.is_integer or self.kind in ("float", "double", "decimal")

    @property
    def is_orderable(self) -> bool:
        """Whether ``range`` rules make sense on this type."""
        return self.is_numeric or self.is_temporal or self.is_text

    def __str__(self) -> str:
        return self.glue_name


def parse_type(text: str) -> ColumnType:
    """Parse a Glue/Athena type name such as ``decimal(12, 2)`` or ``VARCHAR(10)``."""
    match = _PATTERN.match(str(text).lower())
    if not match:
        if "(" in str(text) and ")" not in str(text):
            raise TypeParseError(
                f"'{text}' is cut short: in YAML quote a type that holds a comma, e.g. type: \"decimal(12,2)\""
            )
        raise TypeParseError(f"'{text}' is not a type; use one of {', '.join(ALL_TYPE_NAMES)}")
    name, first, second = match.group(1), match.group(2), match.group(3)
    name = _ALIASES.get(name, name)
    if name in SIMPLE_TYPES:
        if first is not None:
            raise TypeParseError(f"type '{name}' takes no parameters (got '{text}')")
        return ColumnType(name)
    if name in ("varchar", "char"):
        if first is None or second is not None:
            raise TypeParseError(f"'{text}': {name} needs exactly one length, e.g. {name}(20)")
        length = int(first)
        limit = 65535 if name == "varchar" else 255
        if not 1 <= length <= limit:
            raise TypeParseError(f"'{text}': {name} length must be between 1 and {limit}")
        return ColumnType(name, length=length)
    if name == "decimal":
        if first is None:
            raise TypeParseError(f"'{text}': decimal needs a precision and a scale, e.g. decimal(12,2)")
        precision = int(first)
        scale = int(second) if second is not None else 0
        if not 1 <= precision <= 38:
            raise TypeParseError(f"'{text}': decimal precision must be between 1 and 38")
        if not 0 <= scale <= precision:
            raise TypeParseError(f"'{text}': decimal scale must be between 0 and the precision")
        return ColumnType("decimal", precision=precision, scale=scale)
    raise TypeParseError(f"'{text}' is not a type; use one of {', '.join(ALL_TYPE_NAMES)}")


def is_widening(old: ColumnType, new: ColumnType) -> bool:
    """Whether data written as ``old`` can be read as ``new`` without loss (additive evolution)."""
    if old == new:
        return True
    order = ["tinyint", "smallint", "int", "bigint"]
    if old.is_integer and new.is_integer:
        return order.index(new.kind) >= order.index(old.kind)
    if old.kind == "float" and new.kind == "double":
        return True
    if old.is_text and new.kind == "string":
        return True
    if old.kind == "varchar" and new.kind == "varchar":
        return (new.length or 0) >= (old.length or 0)
    if old.kind == "decimal" and new.kind == "decimal":
        assert old.precision is not None and old.scale is not None
        assert new.precision is not None and new.scale is not None
        return new.scale == old.scale and new.precision >= old.precision
    return False
