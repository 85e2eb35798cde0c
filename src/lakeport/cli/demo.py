"""``lakeport demo``: the whole pipeline on the embedded AWS emulator (see :mod:`lakeport.demo`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

from .app import console, guard


def demo() -> None:
    """Run the whole pipeline locally on the example datasets: no AWS account, well under a minute."""
    started = time.monotonic()
    from ..demo import run_demo

    quiet = logging.getLogger("lakeport")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # the demo prints what happened; expected warnings would be noise
    try:
        report = guard(lambda: run_demo(console, started=started))
    finally:
        quiet.setLevel(level)
    if not report.ok:
        raise typer.Exit(1)


def examples(
    folder: Path = typer.Argument(Path("lakeport-examples"), help="where to write them (created if missing)"),
) -> None:
    """Copy the example contracts and raw files out of the package, to read, edit and apply."""
    from ..examples import copy_examples

    copied = guard(lambda: copy_examples(folder))
    console.print(f"wrote {len(copied)} files under {folder}/:")
    for sub in ("contracts", "raw"):
        console.print(f"  {folder / sub}/ ({sum(1 for p in copied if p.relative_to(folder).parts[0] == sub)} files)")
    console.print(f"next: lakeport contract validate {folder / 'contracts'}/")
