"""A column ``format`` (strptime codes) as a Java regular expression plus field arithmetic.

The python engine parses formats with Arrow's ``strptime``, which on Linux is the C library's
(glibc): numeric fields read up to their width of digits (``%Y`` 1-4, the others 1-2) after any
blanks, never backtracking; a blank in the format matches any run of blanks, even none; month names
(``%b``/``%B``) match the full or abbreviated English name in any case; ``%p`` is AM/PM in any case;
``%z`` is ``Z`` or ``±HH[[:]MM]``; literal characters match exactly. Missing fields default to
1900-01-01 00:00:00. Possessive quantifiers give the same no-backtracking reading here.

Unlike the C library (which accepts day 31 in any month, and second 60 and 61, and lets Arrow roll
them forward), impossible dates and times are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List

from pyspark.sql import Column as SparkColumn
from pyspark.sql import functions as F

from ...errors import ConfigurationError

_BLANKS = r"[ \t\n\x0B\f\r]*+"
_MONTHS = [
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
]
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_EXPANSIONS = {"%F": "%Y-%m-%d", "%T": "%H:%M:%S", "%D": "%m/%d/%y", "%R": "%H:%M"}
_NUMERIC = {"%Y": 4, "%m": 2, "%d": 2, "%e": 2, "%H": 2, "%M": 2, "%S": 2, "%I": 2, "%y": 2}
_FIELD = {
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
SUPPORTED = sorted(set(_FIELD) | set(_EXPANSIONS) | {"%a", "%A", "%%"})


@dataclass
class FormatPlan:
    """The regular expression of a format and which group holds which field."""

    pattern: str
    groups: Dict[str, int] = field(default_factory=dict)


def _month_alternatives() -> str:
    names: List[str] = []
    for name in _MONTHS:
        names += [name, name[:3]] if name != "may" else [name]
    return "(?i:(?>" + "|".join(names) + "))"


def plan_format(fmt: str) -> FormatPlan:
    """Translate a strptime format; codes this engine cannot reproduce raise :class:`ConfigurationError`."""
    for code, expansion in _EXPANSIONS.items():
        fmt = fmt.replace(code, expansion)
    parts: List[str] = []
    groups: Dict[str, int] = {}
    captured = 0
    i = 0
    while i < len(fmt):
        char = fmt[i]
        if char == "%" and i + 1 < len(fmt):
            code = fmt[i : i + 2]
            i += 2
            if code == "%%":
                parts.append("%")
                continue
            if code in ("%a", "%A"):
                days = [d for name in _DAYS for d in (name, name[:3])]
                parts.append("(?i:(?>" + "|".join(days) + "))")
                continue
            if code not in _FIELD:
                raise ConfigurationError(
                    f"the strptime code {code} in format {fmt!r} is not supported by the Spark engine"
                    f" (supported: {' '.join(SUPPORTED)})",
                    hint="rewrite the format with supported codes, or set engine: python in the contract",
                )
            name = _FIELD[code]
            if code in _NUMERIC:
                parts.append(f"{_BLANKS}(\\d{{1,{_NUMERIC[code]}}}+)")
            elif name == "month_name":
                parts.append(f"({_month_alternatives()})")
            elif name == "ampm":
                parts.append("((?i:am|pm))")
            else:  # zone
                parts.append(f"{_BLANKS}(Z|[+-]\\d{{2}}+(?::?+\\d{{2}}+)?+)")
            captured += 1  # each field adds exactly one capturing group; a repeated code: the last wins
            groups[name] = captured
            continue
        if char.isspace():
            parts.append(_BLANKS)
        else:
            parts.append(re.escape(char))
        i += 1
    return FormatPlan("^" + "".join(parts) + r"\z", groups)


def parse_with_format(text: SparkColumn, fmt: str, kind: str) -> SparkColumn:
    """The value of ``text`` read with ``fmt`` (date or TIMESTAMP_NTZ in UTC), or null."""
    from .convert import make_timestamp, shift_to_utc, trimmed

    plan = plan_format(fmt)
    s = trimmed(text)
    matches = s.rlike(plan.pattern)

    def group(name: str) -> SparkColumn:
        return F.regexp_extract(s, plan.pattern, plan.groups[name])

    def number(name: str) -> SparkColumn:
        return group(name).cast("int")

    checks = []
    if "year" in plan.groups:
        year = number("year")
    elif "year2" in plan.groups:
        short = number("year2")
        year = F.when(short < 69, short + 2000).otherwise(short + 1900)
    else:
        year = F.lit(1900)
    if "month" in plan.groups:
        month = number("month")
    elif "month_name" in plan.groups:
        name = F.lower(group("month_name")).substr(1, 3)
        month = F.call_function("array_position", F.array(*[F.lit(m[:3]) for m in _MONTHS]), name).cast("int")
    else:
        month = F.lit(1)
    day = number("day") if "day" in plan.groups else F.lit(1)
    if "hour" in plan.groups:
        hour = number("hour")
    elif "hour12" in plan.groups:
        twelve = number("hour12")
        checks.append(twelve.between(1, 12))
        pm = F.lower(group("ampm")) == "pm" if "ampm" in plan.groups else F.lit(False)
        hour = twelve % 12 + F.when(pm, F.lit(12)).otherwise(F.lit(0))
    else:
        hour = F.lit(0)
    minute = number("minute") if "minute" in plan.groups else F.lit(0)
    second = number("second") if "second" in plan.groups else F.lit(0)
    checks += [month.between(1, 12), day.between(1, 31)]
    local = make_timestamp(year, month, day, hour, minute, second, F.lit(""))
    if "zone" in plan.groups:
        zone = group("zone")
        digits = F.regexp_replace(zone, "[^0-9]", "")
        hours = digits.substr(1, 2).cast("int")
        minutes = F.when(F.length(digits) == 4, digits.substr(3, 2).cast("int")).otherwise(F.lit(0))
        checks.append(minutes.between(0, 59))
        offset = F.when(zone == "Z", F.lit(0)).otherwise(
            F.when(zone.startswith("-"), F.lit(-1)).otherwise(F.lit(1)) * (hours * 60 + minutes)
        )
        local = shift_to_utc(local, offset)
    valid = matches
    for check in checks:
        valid = valid & check
    value = F.when(valid, local)
    return value.cast("date") if kind == "date" else value
