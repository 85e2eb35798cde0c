"""The internal columns that carry a run's rows between the Spark engine's stages.

The read stage hands Spark ``__src`` (the object's position in the run), ``__slice``, ``__kind``
(a record, or the object's info row), ``__seq`` (the record's position in the object, in reading
order), ``__row`` (its 1-based record number), ``__err`` and ``__raw`` (a row that could not be
parsed), ``t<i>`` (column *i* as the text that was read) and, for Parquet, ``v<i>`` (column *i*
already typed). The conform stage adds ``c<i>`` (typed), ``p<j>`` (partition values as text) and
``__reason`` (null for a valid row). Positions, not names, so no contract column can clash.
"""

from __future__ import annotations

from typing import List

from ...contract import Contract

DATA, INFO = 0, 1
"""Values of the ``__kind`` column: a record of the object, or the object's info row."""


def text_name(index: int) -> str:
    return f"t{index}"


def typed_input_name(index: int) -> str:
    return f"v{index}"


def typed_input_columns(contract: Contract) -> List[int]:
    """Columns a Parquet file may deliver already typed (text columns are always checked as text)."""
    if contract.source.format != "parquet":
        return []
    return [i for i, c in enumerate(contract.columns) if not c.column_type.is_text]


def curated_name(index: int) -> str:
    return f"c{index}"


def partition_name(index: int) -> str:
    return f"p{index}"
