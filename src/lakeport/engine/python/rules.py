"""Quality rules on typed columns, vectorised. ``unique`` needs state across batches: :class:`KeyTracker`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import pyarrow as pa
import pyarrow.compute as pc

from ...contract import Column, Contract, Rule
from .. import reasons

NULL_TEXT = pa.scalar(None, pa.string())


def join_two(a: Optional[pa.Array], b: Optional[pa.Array]) -> Optional[pa.Array]:
    if a is None:
        return b
    if b is None:
        return a
    # (binary_join_element_wise's null_handling="skip" drops all-null rows in some pyarrow versions)
    both = pc.binary_join_element_wise(a, b, reasons.SEPARATOR)
    return pc.if_else(pc.is_null(a), b, pc.if_else(pc.is_null(b), a, both))


def join_reasons(parts: Iterable[Optional[pa.Array]]) -> Optional[pa.Array]:
    out: Optional[pa.Array] = None
    for part in parts:
        out = join_two(out, part)
    return out


def _bound(value: Any, column: Column, arrow_type: pa.DataType) -> pa.Scalar:
    ctype = column.column_type
    if ctype.kind == "decimal":
        bound = Decimal(str(value))
        if _fits(bound, arrow_type):
            # The bound is exact in the column's own type: compare there. Against a wider type Arrow
            # would first widen every value of the column (ten times slower, same answer).
            return pa.scalar(bound, arrow_type)
        return pa.scalar(bound, pa.decimal128(38, max(ctype.scale or 0, 10)))
    if ctype.kind == "date":
        return pa.scalar(date.fromisoformat(str(value)), pa.date32())
    if ctype.kind == "timestamp":
        return pa.scalar(datetime.fromisoformat(str(value)), pa.timestamp("us"))
    if ctype.is_integer:
        return pa.scalar(value, pa.int64()) if isinstance(value, int) else pa.scalar(float(value), pa.float64())
    if ctype.kind in ("float", "double"):
        return pa.scalar(float(value), pa.float64())
    return pa.scalar(str(value), pa.string())


def _fits(value: Decimal, arrow_type: pa.DataType) -> bool:
    """Whether ``value`` is exactly representable in ``arrow_type`` (a decimal type)."""
    if not pa.types.is_decimal(arrow_type) or not value.is_finite():
        return False
    if abs(value) >= Decimal(10) ** (arrow_type.precision - arrow_type.scale):
        return False
    return value == value.quantize(Decimal(1).scaleb(-arrow_type.scale))


def _allowed_set(rule: Rule, column: Column, arrow_type: pa.DataType) -> pa.Array:
    values = list(rule.values or ())
    ctype = column.column_type
    if ctype.is_text:
        return pa.array([str(v) for v in values], pa.string())
    if ctype.kind == "boolean":
        return pa.array([bool(v) for v in values], pa.bool_())
    text = pa.array([str(v) for v in values], pa.string())
    from .convert import convert_text

    converted = convert_text(text, column)
    return converted.values.drop_null()


def check_rules(
    contract: Contract,
    typed: Dict[str, pa.Array],
    raw_text: Dict[str, pa.Array],
    types: Dict[str, pa.DataType],
) -> Optional[pa.Array]:
    """Reasons for value-rule violations (not ``unique``), or ``None`` if every row passes."""
    out: Optional[pa.Array] = None
    for rule in contract.quality.rules:
        if rule.kind == "unique":
            continue
        if rule.kind == "not_null":
            for name in rule.columns:
                prefix, suffix = f"not_null({name}): ", "is null"
                bad = pc.is_null(typed[name])
                out = join_two(out, pc.if_else(bad, prefix + suffix, NULL_TEXT))
            continue
        name = rule.columns[0]
        column = contract.column(name)
        values = typed[name]
        bad = None
        if rule.kind == "range":
            if rule.min is not None:
                bad = pc.less(values, _bound(rule.min, column, types[name]))
            if rule.max is not None:
                above = pc.greater(values, _bound(rule.max, column, types[name]))
                bad = above if bad is None else pc.or_(bad, above)
        elif rule.kind == "allowed_values":
            bad = pc.and_(
                pc.is_valid(values), pc.invert(pc.is_in(values, value_set=_allowed_set(rule, column, types[name])))
            )
        elif rule.kind == "regex":
            bad = pc.invert(pc.match_substring_regex(values, f"^(?:{rule.pattern})$"))
        elif rule.kind == "max_length":
            bad = pc.greater(pc.utf8_length(values), rule.max_length)
        if bad is None:
            continue
        bad = pc.fill_null(bad, False)  # a null passes every value rule: nulls are not_null's business
        if not pc.any(bad).as_py():
            continue
        prefix, suffix = reasons.rule_violation(rule)
        shown = pc.utf8_length(values) if rule.kind == "max_length" else raw_text[name]
        if shown.type != pa.string():
            shown = pc.cast(shown, pa.string())
        message = pc.binary_join_element_wise(prefix, pc.fill_null(shown, "null"), suffix, "")
        out = join_two(out, pc.if_else(bad, message, NULL_TEXT))
    return out


class KeyTracker:
    """Remembers the keys of the ``unique`` rules seen so far in a run (and, optionally, in the table)."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = [r for r in rules if r.kind == "unique"]
        self._seen: List[Set[Any]] = [set() for _ in self.rules]
        self._table: List[Set[Any]] = [set() for _ in self.rules]
        self._added: Dict[str, List[List[Any]]] = {}

    def begin(self, source: str) -> None:
        self._added[source] = [[] for _ in self.rules]

    def forget(self, source: str) -> None:
        """Drop the keys a rejected source contributed, so later files are not judged against them."""
        for index, keys in enumerate(self._added.pop(source, [])):
            self._seen[index].difference_update(keys)

    @property
    def active(self) -> bool:
        return bool(self.rules)

    def preload_table_keys(self, rule_index: int, keys: Iterable[Any]) -> None:
        self._table[rule_index].update(keys)

    @staticmethod
    def keys_of(rule: Rule, typed: Dict[str, pa.Array]) -> List[Any]:
        if len(rule.columns) == 1:
            return typed[rule.columns[0]].to_pylist()
        return list(zip(*(typed[c].to_pylist() for c in rule.columns)))

    def check(self, typed: Dict[str, pa.Array], eligible: pa.Array, source: str) -> Optional[pa.Array]:
        """Reasons for rows whose key was seen before; only ``eligible`` rows are remembered."""
        if not self.rules:
            return None
        flags = eligible.to_pylist()
        out: Optional[pa.Array] = None
        for index, rule in enumerate(self.rules):
            seen, table = self._seen[index], self._table[index]
            added = self._added.setdefault(source, [[] for _ in self.rules])[index]
            messages: List[Optional[str]] = [None] * len(flags)
            in_run, in_table = reasons.duplicate_in_run(rule), reasons.duplicate_in_table(rule)
            for position, key in enumerate(self.keys_of(rule, typed)):
                if not flags[position] or key is None or (isinstance(key, tuple) and None in key):
                    continue
                if key in table:
                    messages[position] = in_table
                elif key in seen:
                    messages[position] = in_run
                else:
                    seen.add(key)
                    added.append(key)
            if any(m is not None for m in messages):
                out = join_two(out, pa.array(messages, pa.string()))
        return out


def key_columns(rule: Rule) -> Tuple[str, ...]:
    return rule.columns
