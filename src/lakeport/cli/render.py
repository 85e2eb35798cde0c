"""Printing results: rich tables for people, CSV and JSON for programs."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterable, List, Mapping, Optional, Sequence

from rich.console import JustifyMethod
from rich.table import Table

from .app import console

if TYPE_CHECKING:
    import pyarrow as pa


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


# a shortened column keeps at least this many characters (a name's start and its end) while the
# table can fit otherwise, and never fewer than SMALLEST_SHORTENED
MIN_SHORTENED = 12
SMALLEST_SHORTENED = 7
# what rich's default table box adds per column (a border and a space each side) and at the edge
_COLUMN_OVERHEAD = 3
_EDGE = 1


def middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, its middle replaced by an ellipsis: names differ
    at their ends (the dataset, the file), so both ends are kept."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + (text[-tail:] if tail else "")


def fitted_widths(
    columns: Sequence[str], cells: Sequence[Sequence[str]], shorten: Sequence[str], width: int
) -> List[int]:
    """Each column's width so the table fits in ``width``, narrowing only the ``shorten`` columns
    (widest first, down to MIN_SHORTENED); the others keep their natural width."""
    natural = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    widths = list(natural)
    excess = sum(widths) + _COLUMN_OVERHEAD * len(columns) + _EDGE - width
    narrowable = [i for i, c in enumerate(columns) if c in shorten]
    for floor in (MIN_SHORTENED, SMALLEST_SHORTENED):
        while excess > 0:
            candidates = [i for i in narrowable if widths[i] > max(floor, len(columns[i]))]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
    return widths


def print_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    output: str = "table",
    title: Optional[str] = None,
    right: Sequence[str] = (),
    shorten: Sequence[str] = (),
    keep: Sequence[str] = (),
    below: Sequence[str] = (),
) -> None:
    """``shorten``: columns of names that are cut in the middle, on one line, when the table would be
    wider than the terminal (the full values are in ``--output json``); ``keep`` and ``right``
    columns (short labels, numbers) stay whole on one line; other cells fold. ``below``: columns a
    table leaves out and prints under it, whole, one numbered line per row (machine output keeps
    them in place)."""
    rows = list(rows)
    if output == "json":
        console.print_json(json.dumps([dict(zip(columns, r)) for r in rows], default=_json_default))
        return
    if output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) for v in r] for r in rows])
        console.out(buffer.getvalue(), end="", highlight=False)
        return
    extra: List[List[str]] = []
    if below:
        shown = [i for i, c in enumerate(columns) if c not in below]
        under = [i for i, c in enumerate(columns) if c in below]
        extra = [[_text(row[i]) for i in under] for row in rows]
        if any(any(values) for values in extra):
            columns, rows = (
                ["#", *(columns[i] for i in shown)],
                [[n, *(row[i] for i in shown)] for n, row in enumerate(rows, 1)],
            )
            right = [*right, "#"]
        else:  # nothing to print below: no numbers either
            columns, rows, extra = [columns[i] for i in shown], [[row[i] for i in shown] for row in rows], []
    cells = [[_text(v) for v in row] for row in rows]
    widths = fitted_widths(columns, cells, shorten, console.width)
    table = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for i, column in enumerate(columns):
        justify: JustifyMethod = "right" if column in right else "left"
        if column in shorten:
            table.add_column(column, justify=justify, no_wrap=True, width=widths[i])
        elif column in right or column in keep:
            table.add_column(column, justify=justify, no_wrap=True, min_width=widths[i])
        else:
            table.add_column(column, justify=justify, overflow="fold")
    for row in cells:
        table.add_row(*[middle(v, widths[i]) if columns[i] in shorten else v for i, v in enumerate(row)])
    console.print(table)
    for number, values in enumerate(extra, 1):
        if any(values):
            console.print(f"[dim]{number:>2} {'  '.join(v for v in values if v)}[/]", soft_wrap=True, highlight=False)


def print_arrow(result: pa.Table, output: str = "table", title: Optional[str] = None) -> None:
    import pyarrow as pa

    columns = result.column_names
    data: List[Mapping[str, Any]] = result.to_pylist()
    numeric = [
        f.name
        for f in result.schema
        if pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
    ]
    print_rows(columns, [[r[c] for c in columns] for r in data], output, title, right=numeric)
    if output == "table":
        console.print(f"[dim]{result.num_rows} row(s)[/]")
