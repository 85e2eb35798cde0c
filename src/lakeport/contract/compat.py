"""What changes between two versions of a contract, and which changes would break the table.

:func:`compare` is pure: it takes the applied contract (or ``None`` for a new dataset) and the one
about to be applied, and returns one :class:`Change` per difference, each marked ``breaking`` with
the reason. The registry refuses breaking changes; the catalog enforces the same rules a second time.

The rules follow the new contract's ``schema_evolution``:

* ``strict`` — every change to the table structure (columns, types, nullability, primary key,
  partitioning) is breaking;
* ``additive`` — adding a nullable column after the existing ones, widening a type
  (:func:`~lakeport.contract.types.is_widening`) and relaxing ``nullable: false`` to ``true`` are
  allowed; anything else that touches the table structure is breaking.

Everything else (owner, description, source and its options, rules, write mode, engine, threshold,
comments, header mapping, input formats) never breaks the table and is always allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional

from .model import Column, Contract
from .types import is_widening

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"

_STRICT = "schema_evolution is strict: every change to the table structure is refused"
_NOT_STRUCTURE = "does not change the table structure"
# fields whose changes are compared column by column or as a whole, not by the generic walk
_STRUCTURE_FIELDS = ("schema", "primary_key", "partition_by")


@dataclass(frozen=True)
class Change:
    """One difference between the applied contract and a new one.

    ``path`` is the field path people know from the YAML (``schema.amount.type``, ``owner``,
    ``source.options.delimiter``); ``old``/``new`` are plain values (``None`` when absent).
    """

    path: str
    kind: str  # "added" | "removed" | "changed"
    old: Any
    new: Any
    breaking: bool
    why: str

    def describe(self) -> str:
        """One line for people: ``schema.amount.type: decimal(12,2) -> string (breaking: …)``."""
        if self.kind == ADDED:
            what = f"added {_show(self.new)}"
        elif self.kind == REMOVED:
            what = f"removed (was {_show(self.old)})"
        else:
            what = f"{_show(self.old)} -> {_show(self.new)}"
        label = "breaking" if self.breaking else "ok"
        return f"{self.path}: {what} ({label}: {self.why})"


def compare(old: Optional[Contract], new: Contract) -> List[Change]:
    """Every difference from ``old`` to ``new``; all of ``new`` is "added" when ``old`` is ``None``."""
    new_doc = new.to_document()
    if old is None:
        return _all_added(new_doc)
    strict = new.schema_evolution == "strict"
    old_doc = old.to_document()
    changes: List[Change] = []
    changes.extend(_generic(old_doc, new_doc))
    changes.extend(_columns(old, new, strict))
    changes.extend(_whole_field("primary_key", old_doc, new_doc, strict, _primary_key_why))
    changes.extend(_whole_field("partition_by", old_doc, new_doc, strict, _partition_why))
    return changes


def breaking_changes(changes: List[Change]) -> List[Change]:
    return [c for c in changes if c.breaking]


# -- new dataset --------------------------------------------------------------------------------


def _all_added(doc: Mapping[str, Any]) -> List[Change]:
    changes = []
    for key, value in doc.items():
        if key == "schema":
            for column in value:
                changes.append(Change(f"schema.{column['name']}", ADDED, None, column, False, "new dataset"))
        else:
            changes.append(Change(key, ADDED, None, value, False, "new dataset"))
    return changes


# -- settings: a recursive walk over the documents ---------------------------------------------


def _generic(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> List[Change]:
    changes: List[Change] = []
    for key in _ordered_keys(old, new):
        if not prefix and key in _STRUCTURE_FIELDS:
            continue
        path = f"{prefix}{key}"
        if key not in old:
            changes.append(Change(path, ADDED, None, new[key], False, _NOT_STRUCTURE))
        elif key not in new:
            changes.append(Change(path, REMOVED, old[key], None, False, _NOT_STRUCTURE))
        elif isinstance(old[key], dict) and isinstance(new[key], dict):
            changes.extend(_generic(old[key], new[key], f"{path}."))
        elif old[key] != new[key]:
            changes.append(Change(path, CHANGED, old[key], new[key], False, _NOT_STRUCTURE))
    return changes


def _ordered_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> List[str]:
    return list(new) + [k for k in old if k not in new]


# -- columns ------------------------------------------------------------------------------------


def _columns(old: Contract, new: Contract, strict: bool) -> List[Change]:
    old_cols: Dict[str, Column] = {c.name: c for c in old.columns}
    new_cols: Dict[str, Column] = {c.name: c for c in new.columns}
    old_order = [c.name for c in old.columns]
    new_order = [c.name for c in new.columns]
    changes: List[Change] = []

    for name in old_order:
        if name not in new_cols:
            changes.append(
                Change(
                    f"schema.{name}",
                    REMOVED,
                    _column_doc(old_cols[name]),
                    None,
                    True,
                    "existing files and queries still use this column; keep it (it may stay empty) or"
                    " move to a new dataset",
                )
            )

    kept_old = [n for n in old_order if n in new_cols]
    kept_new = [n for n in new_order if n in old_cols]
    if kept_old != kept_new:
        changes.append(
            Change(
                "schema",
                CHANGED,
                kept_old,
                kept_new,
                True,
                _STRICT
                if strict
                else "existing columns were reordered; keep them in their applied order and add new ones at the end",
            )
        )

    last_kept = max((new_order.index(n) for n in kept_new), default=-1)
    for position, name in enumerate(new_order):
        if name not in old_cols:
            changes.append(_added_column(new_cols[name], position > last_kept, strict))

    for name in kept_new:
        changes.extend(_column_changes(old_cols[name], new_cols[name], strict))
    return changes


def _added_column(column: Column, at_end: bool, strict: bool) -> Change:
    path = f"schema.{column.name}"
    if strict:
        why, breaking = _STRICT, True
    elif not column.nullable:
        why, breaking = "rows already written have no value for it; declare it nullable: true", True
    elif not at_end:
        why, breaking = "new columns go after the existing ones; move it to the end of the schema", True
    else:
        why, breaking = "additive: a new nullable column at the end", False
    return Change(path, ADDED, None, _column_doc(column), breaking, why)


def _column_changes(old: Column, new: Column, strict: bool) -> List[Change]:
    changes: List[Change] = []
    path = f"schema.{old.name}"
    if old.type != new.type:
        widening = is_widening(old.column_type, new.column_type)
        if strict:
            why = _STRICT + (" (under additive this widening would be allowed)" if widening else "")
            changes.append(Change(f"{path}.type", CHANGED, old.type, new.type, True, why))
        elif widening:
            changes.append(
                Change(
                    f"{path}.type",
                    CHANGED,
                    old.type,
                    new.type,
                    False,
                    f"additive: {old.type} widens to {new.type}",
                )
            )
        else:
            why = (
                f"{old.type} -> {new.type} is not a widening: files already written hold {old.type} values"
                f" that cannot be read as {new.type}; add a new column instead"
            )
            changes.append(Change(f"{path}.type", CHANGED, old.type, new.type, True, why))
    if old.nullable != new.nullable:
        if strict:
            why, breaking = _STRICT, True
        elif new.nullable:
            why, breaking = "additive: the column may now be empty", False
        else:
            why, breaking = "rows already written may hold nulls in it; keep it nullable", True
        changes.append(Change(f"{path}.nullable", CHANGED, old.nullable, new.nullable, breaking, why))
    for attribute in ("source", "format", "comment"):
        before, after = getattr(old, attribute), getattr(new, attribute)
        if before != after:
            kind = ADDED if before is None else REMOVED if after is None else CHANGED
            changes.append(Change(f"{path}.{attribute}", kind, before, after, False, _NOT_STRUCTURE))
    return changes


def _column_doc(column: Column) -> Dict[str, Any]:
    return column.model_dump(exclude_none=True)


# -- primary key and partitioning: compared as a whole ------------------------------------------


def _whole_field(
    key: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    strict: bool,
    why: Callable[[List[Any], List[Any]], str],
) -> List[Change]:
    before, after = old.get(key) or [], new.get(key) or []
    if before == after:
        return []
    return [Change(key, CHANGED, before, after, True, _STRICT if strict else why(before, after))]


def _primary_key_why(before: List[Any], after: List[Any]) -> str:
    return (
        "rows already written were de-duplicated and merged on the old key; changing it needs a rewrite of"
        " the table (a new dataset and a backfill)"
    )


def _partition_why(before: List[Any], after: List[Any]) -> str:
    return (
        "files already written are laid out by the old partition keys and the catalog cannot change a table's"
        " partition keys; create a new dataset and backfill it"
    )


def _show(value: Any) -> str:
    if isinstance(value, dict) and "name" in value and "type" in value:
        return f"{value['name']} {value['type']}" + ("" if value.get("nullable", True) else " not null")
    if isinstance(value, str):
        return value
    return repr(value) if not isinstance(value, (list, dict)) else _compact(value)


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=False, default=str, ensure_ascii=False)
