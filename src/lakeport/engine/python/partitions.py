"""Partition values from typed columns: identity, or a date/timestamp truncated to year, month or day."""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Contract
from .. import reasons
from .rules import join_two

KEY_SEPARATOR = "\x1f"


def _as_text(values: pa.Array, transform: str) -> pa.Array:
    if transform == "identity":
        if pa.types.is_boolean(values.type):
            return pc.if_else(values, "true", "false")
        return pc.cast(values, pa.string())
    if pa.types.is_date(values.type):
        values = pc.cast(values, pa.timestamp("s"))
    if transform == "year":
        return pc.cast(pc.year(values), pa.string())
    if transform == "month":
        return pc.strftime(values, format="%Y-%m")
    return pc.strftime(values, format="%Y-%m-%d")


def partition_keys(contract: Contract, typed: Dict[str, pa.Array]) -> Tuple[Optional[pa.Array], Optional[pa.Array]]:
    """(one ``\\x1f``-joined key per row, reasons for rows whose partition source is null)."""
    if not contract.partition_by:
        return None, None
    parts: List[pa.Array] = []
    problems: Optional[pa.Array] = None
    for field in contract.partition_by:
        values = typed[field.source_column]
        missing = pc.is_null(values)
        if pc.any(missing).as_py():
            message = pc.if_else(
                missing, reasons.partition_null(field.name, field.source_column), pa.scalar(None, pa.string())
            )
            problems = join_two(problems, message)
        parts.append(pc.fill_null(_as_text(values, field.transform), ""))
    if len(parts) == 1:
        return parts[0], problems
    return pc.binary_join_element_wise(*parts, KEY_SEPARATOR), problems
