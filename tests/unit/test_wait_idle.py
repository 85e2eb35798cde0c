"""Waiting for the local stack is bounded by progress, not by a wall-clock figure."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Callable, List

import pytest

from lakeport.local.stack import LocalStack, StackNotIdleError


def _stack(busy: Callable[[], List[str]], executing: Callable[[], int] = lambda: 0) -> SimpleNamespace:
    return SimpleNamespace(busy_parts=busy, glue=SimpleNamespace(executing=executing))


def test_a_stack_that_keeps_changing_is_waited_for_past_the_timeout() -> None:
    started = time.monotonic()
    steps = iter([[f"the ingest queue holds {n} visible message(s)"] for n in range(12, 0, -1)])

    def busy() -> List[str]:
        time.sleep(0.05)
        return next(steps, [])

    LocalStack.wait_idle(_stack(busy), timeout=0.2, poll_seconds=0.01)  # type: ignore[arg-type]
    assert time.monotonic() - started > 0.5  # well past the timeout: it was making progress


def test_a_running_job_is_progress_even_when_nothing_else_changes() -> None:
    started = time.monotonic()

    def busy() -> List[str]:
        return [] if time.monotonic() - started > 0.6 else ["Glue job runs are starting or running"]

    LocalStack.wait_idle(_stack(busy, executing=lambda: 1), timeout=0.2, poll_seconds=0.01)  # type: ignore[arg-type]


def test_a_stuck_stack_fails_after_the_stall_timeout_and_says_what_is_stuck() -> None:
    started = time.monotonic()
    stuck = _stack(lambda: ["1 execution(s) running: arn:x"])
    with pytest.raises(StackNotIdleError) as raised:
        LocalStack.wait_idle(stuck, timeout=0.3, poll_seconds=0.01, limit=30)  # type: ignore[arg-type]
    assert "made no progress for 0 s: 1 execution(s) running: arn:x" in str(raised.value)
    assert time.monotonic() - started < 10  # the stall, not the limit


def test_the_whole_wait_is_capped() -> None:
    with pytest.raises(StackNotIdleError, match="still busy after 0 s, though not stuck"):
        LocalStack.wait_idle(  # type: ignore[arg-type]
            _stack(lambda: ["Glue job runs are starting or running"], executing=lambda: 1),
            timeout=5,
            poll_seconds=0.01,
            limit=0.3,
        )
