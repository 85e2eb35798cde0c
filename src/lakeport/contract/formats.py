"""The strptime codes a column ``format`` may use, and a format split into its parts.

Both engines read a format the way the C library's ``strptime`` (glibc) does: numeric fields read
up to their width of digits (``%Y`` 1-4, the others 1-2) after any blanks, never backtracking; a
blank in the format matches any run of blanks, even none; month names (``%b``/``%B``/``%h``) match
the full or abbreviated English name in any case; ``%p`` is AM/PM in any case; ``%z`` is ``Z`` or
``±HH[[:]MM]``; literal characters match exactly. Missing fields default to 1900-01-01 00:00:00.
Unlike the C library, a day that the month does not have and a second 60 or 61 are rejected, not
rolled forward.

Each engine builds its own matcher from :func:`parts` (a Java regular expression for Spark, an RE2
one for Arrow); the contract rejects a code outside :data:`SUPPORTED` when it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EXPANSIONS = {"%F": "%Y-%m-%d", "%T": "%H:%M:%S", "%D": "%m/%d/%y", "%R": "%H:%M"}
NUMERIC_WIDTH = {"%Y": 4, "%m": 2, "%d": 2, "%e": 2, "%H": 2, "%M": 2, "%S": 2, "%I": 2, "%y": 2}
FIELD = {
    "%Y": "year",
    "%y": "year2",
    "%m": "month",
    "%d": "day",
    "%e": "day",
    "%H": "hour",
    "%I": "hour12",
    "%M": "minute",
    "%S": "second",
    "%b": "month_name",
    "%B": "month_name",
    "%h": "month_name",
    "%p": "ampm",
    "%z": "zone",
}
SUPPORTED: Tuple[str, ...] = tuple(sorted(set(FIELD) | set(EXPANSIONS) | {"%a", "%A", "%%"}))
BLANK_CHARACTERS = " \t\n\x0b\f\r"


@dataclass(frozen=True)
class Part:
    """One piece of a format: a ``field`` (``code``, ``name``, ``width`` for numbers), a ``day_name``
    (``%a``/``%A``, read and ignored), ``blanks`` (any run of blanks) or a ``literal`` character."""

    kind: str
    text: str
    name: Optional[str] = None
    width: Optional[int] = None


def expand(fmt: str) -> str:
    """The format with the shorthand codes (``%F``, ``%T``, ``%D``, ``%R``) written out."""
    for code, expansion in EXPANSIONS.items():
        fmt = fmt.replace(code, expansion)
    return fmt


def unsupported_codes(fmt: str) -> List[str]:
    """The codes of ``fmt`` that neither engine reads, in order of appearance."""
    out = []
    text, i = expand(fmt), 0
    while i < len(text):
        if text[i] == "%" and i + 1 < len(text):
            code = text[i : i + 2]
            if code not in SUPPORTED and code not in out:
                out.append(code)
            i += 2
        else:
            i += 1
    return out


def parts(fmt: str) -> List[Part]:
    """``fmt`` split into parts; raises ``ValueError`` naming any code outside :data:`SUPPORTED`."""
    bad = unsupported_codes(fmt)
    if bad:
        raise ValueError(
            f"the strptime code{'s' if len(bad) > 1 else ''} {' '.join(bad)} in format {fmt!r}"
            f" {'are' if len(bad) > 1 else 'is'} not supported (supported: {' '.join(SUPPORTED)})"
        )
    text, i, out = expand(fmt), 0, []
    while i < len(text):
        char = text[i]
        if char == "%" and i + 1 < len(text):
            code = text[i : i + 2]
            i += 2
            if code == "%%":
                out.append(Part("literal", "%"))
            elif code in ("%a", "%A"):
                out.append(Part("day_name", code))
            else:
                out.append(Part("field", code, FIELD[code], NUMERIC_WIDTH.get(code)))
            continue
        out.append(Part("blanks", char) if char in BLANK_CHARACTERS else Part("literal", char))
        i += 1
    return out
