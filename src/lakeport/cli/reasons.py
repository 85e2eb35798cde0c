"""Run records as people read them: a table that fits a terminal, byte counts with units."""

from __future__ import annotations

import re
from typing import Optional, Sequence

from rich import box
from rich.console import Console
from rich.table import Table

from ..ledger.runs import RunRecord

_BYTES = re.compile(r"(\d+)( input)? bytes")
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(count: int) -> str:
    """``348`` -> ``348 B``; ``5368709120`` -> ``5 GiB``; ``1536`` -> ``1.5 KiB``."""
    value = float(count)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{count} B"
    return f"{value:.1f} {unit}".replace(".0 ", " ")


def readable_reason(reason: str) -> str:
    """The state machine's reason with its byte counts in units:
    ``auto: 348 input bytes < spark threshold 5368709120 bytes`` -> ``auto: 348 B < spark threshold 5 GiB``."""
    return _BYTES.sub(lambda m: human_bytes(int(m.group(1))), reason)


def print_run_table(
    console: Console, records: Sequence[RunRecord], title: Optional[str] = None, footer: Optional[str] = None
) -> None:
    """The counts in a table; each run's id, why its engine was chosen, and any error on the
    numbered lines below it."""
    counts = ("files", "read", "written", "quar.", "dup.", "s")
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
        pad_edge=False,
    )
    for column in ("#", "dataset", "state", "engine", *counts):
        table.add_column(column, justify="right" if column in counts or column == "#" else "left", no_wrap=True)
    for number, r in enumerate(records, 1):
        table.add_row(
            str(number),
            r.dataset,
            r.state,
            r.engine or "",
            str(r.files),
            str(r.rows_read),
            str(r.rows_written),
            str(r.rows_quarantined),
            str(r.rows_duplicate),
            "" if r.duration_seconds is None else f"{r.duration_seconds:.1f}",
        )
    console.print(table)
    for number, r in enumerate(records, 1):
        console.print(f"[dim]{number:>2} {r.run_id}  {readable_reason(r.engine_reason or '')}[/]", highlight=False)
        if r.error:
            console.print(f"   [red]{r.error}[/]", highlight=False)
        if r.rejection:
            console.print(
                f"   [red]{r.files_rejected} of {r.files} file(s) rejected as a whole"
                f" ({r.bytes_rejected} bytes): {r.rejection}[/]",
                highlight=False,
            )
    if footer:
        console.print(f"[dim]{footer}[/]")
