"""``lakeport demo``: the whole pipeline on the embedded AWS emulator (see :mod:`lakeport.demo`)."""

from __future__ import annotations

import logging
import time

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
