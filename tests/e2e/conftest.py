"""End-to-end fixtures: the whole pipeline on the embedded emulator, through the real state machine."""

from __future__ import annotations

import pytest

from .flow import Flow


@pytest.fixture
def flow(emulator):  # type: ignore[no-untyped-def]
    """A provisioned stack (on the session emulator, reset first) running lakeport's own handlers and job."""
    from lakeport.local.pipeline import wire
    from lakeport.local.stack import LocalStack

    emulator.reset()
    stack = LocalStack(emulator=emulator)
    stack.start()
    try:
        yield Flow(stack, wire(stack))
    finally:
        stack.stop()
