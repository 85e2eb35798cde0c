"""A column ``format`` (strptime codes, read as :mod:`lakeport.contract.formats` describes) as a Java
regular expression plus field arithmetic. Possessive quantifiers and atomic groups give the C
library's no-backtracking reading of numeric fields and names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List

from pyspark.sql import Column as SparkColumn
from pyspark.sql import functions as F

from ...contract import formats
from ...errors import ConfigurationError

_BLANKS = r"[ \t\n\x0B\f\r]*+"


@dataclass
class FormatPlan:
    """The regular expression of a format and which group holds which field."""

    pattern: str
    groups: Dict[str, int] = field(default_factory=dict)


def _alternatives(names: List[str]) -> str:
    return "(?i:(?>" + "|".join(names) + "))"


def plan_format(fmt: str) -> FormatPlan:
    """Translate a strptime format; codes this engine cannot reproduce raise :class:`ConfigurationError`."""
    try:
        pieces = formats.parts(fmt)
    except ValueError as exc:
        raise ConfigurationError(
            str(exc), hint="rewrite the format with supported codes in the contract and apply it again"
        ) from exc
    out: List[str] = []
    groups: Dict[str, int] = {}
    captured = 0
    for piece in pieces:
        if piece.kind == "literal":
            out.append(re.escape(piece.text))
        elif piece.kind == "blanks":
            out.append(_BLANKS)
        elif piece.kind == "day_name":
            out.append(_alternatives([d for name in formats.DAYS for d in (name, name[:3])]))
        else:
            assert piece.name is not None
            if piece.width is not None:
                out.append(f"{_BLANKS}(\\d{{1,{piece.width}}}+)")
            elif piece.name == "month_name":
                out.append(
                    "(" + _alternatives([m for name in formats.MONTHS for m in dict.fromkeys((name, name[:3]))]) + ")"
                )
            elif piece.name == "ampm":
                out.append("((?i:am|pm))")
            else:  # zone
                out.append(f"{_BLANKS}(Z|[+-]\\d{{2}}+(?::?+\\d{{2}}+)?+)")
            captured += 1  # each field adds exactly one capturing group; a repeated code: the last wins
            groups[piece.name] = captured
    return FormatPlan("^" + "".join(out) + r"\z", groups)


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
        month = F.call_function("array_position", F.array(*[F.lit(m[:3]) for m in formats.MONTHS]), name).cast("int")
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
