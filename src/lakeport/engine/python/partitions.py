"""Partition values from typed columns: identity, or a date/timestamp truncated to year, month or day.

Rows are grouped by an integer code per row (``year*100+month`` for a month, days since 1970 for a
day, dictionary indices for identity); the text of a partition value is only formatted once per
distinct code. Formatting every row's date as text costs more than parsing the whole file.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Contract
from .. import reasons
from .rules import join_two

PartitionKey = Tuple[str, ...]
_EPOCH = date(1970, 1, 1)
NULL_CODE = int(np.iinfo(np.int64).min)
"""The code of a row whose partition value is null (such rows are quarantined, never written)."""


def format_value(value: Any) -> str:
    """The text of an identity partition value, as it appears in paths and in the catalog."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _field_codes(values: pa.Array, transform: str) -> Tuple[np.ndarray, Dict[int, str]]:
    """(int64 code per row, meaningless where the value is null; code -> text)."""
    if transform == "identity":
        encoded = pc.dictionary_encode(values)
        codes = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        texts = {i: format_value(v) for i, v in enumerate(encoded.dictionary.to_pylist())}
        return codes, texts
    if pa.types.is_timestamp(values.type):
        values = pc.cast(values, pa.date32())
    if transform == "day":
        codes = pc.fill_null(pc.cast(values, pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
        texts = {int(c): (_EPOCH + timedelta(days=int(c))).isoformat() for c in np.unique(codes)}
        return codes, texts
    year = pc.year(values)
    code = year if transform == "year" else pc.add(pc.multiply(year, 100), pc.month(values))
    codes = pc.fill_null(code, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    if transform == "year":
        texts = {int(c): f"{int(c):04d}" for c in np.unique(codes)}
    else:
        texts = {int(c): f"{int(c) // 100:04d}-{int(c) % 100:02d}" for c in np.unique(codes)}
    return codes, texts


def partition_codes(
    contract: Contract, typed: Dict[str, pa.Array]
) -> Tuple[Optional[np.ndarray], Dict[int, PartitionKey], Optional[pa.Array]]:
    """(a code per row, code -> partition values, reasons for rows whose partition source is null)."""
    if not contract.partition_by:
        return None, {}, None
    per_field: List[np.ndarray] = []
    texts: List[Dict[int, str]] = []
    problems: Optional[pa.Array] = None
    nulls = None
    for field in contract.partition_by:
        values = typed[field.source_column]
        missing = pc.is_null(values)
        if pc.any(missing).as_py():
            message = pc.if_else(
                missing, reasons.partition_null(field.name, field.source_column), pa.scalar(None, pa.string())
            )
            problems = join_two(problems, message)
            mask = missing.to_numpy(zero_copy_only=False)
            nulls = mask if nulls is None else (nulls | mask)
        codes, text = _field_codes(values, field.transform)
        per_field.append(codes)
        texts.append(text)
    if len(per_field) == 1:
        codes = per_field[0]
        if nulls is not None:
            codes = np.where(nulls, NULL_CODE, codes)
        return codes, {c: (t,) for c, t in texts[0].items()}, problems
    stacked = np.stack(per_field, axis=1)
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    keys: Dict[int, PartitionKey] = {}
    for index, row in enumerate(unique):
        key = [texts[i].get(int(c)) for i, c in enumerate(row)]
        if None not in key:  # else only rows with a null partition value have this code: quarantined
            keys[index] = tuple(str(k) for k in key)
    if nulls is not None:
        inverse = np.where(nulls, NULL_CODE, inverse)
    return inverse, keys, problems
