"""Printing results: rich tables for people, CSV and JSON for programs."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, List, Mapping, Optional, Sequence

import pyarrow as pa
from rich.table import Table

from .app import console


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


def print_rows(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    output: str = "table",
    title: Optional[str] = None,
    right: Sequence[str] = (),
) -> None:
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
    table = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left", overflow="fold")
    for row in rows:
        table.add_row(*[_text(v) for v in row])
    console.print(table)


def print_arrow(result: pa.Table, output: str = "table", title: Optional[str] = None) -> None:
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
