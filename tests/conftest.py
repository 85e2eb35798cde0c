"""Shared fixtures: one embedded AWS emulator per test session, reset between tests that ask for it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


@pytest.fixture(scope="session")
def emulator() -> Iterator[object]:
    from lakeport.local.emulator import EmbeddedAws

    # Python 3.9 runs the Glue Python-shell tests against the moto that still supports it (see EmbeddedAws)
    with EmbeddedAws(apply_fixes=sys.version_info >= (3, 10)) as aws:
        yield aws


@pytest.fixture
def aws(emulator):  # type: ignore[no-untyped-def]
    """An AwsContext on a freshly reset emulator."""
    emulator.reset()
    return emulator.context()


@pytest.fixture
def local_stack(emulator):  # type: ignore[no-untyped-def]
    """A provisioned LocalStack on the session emulator (reset first), stopped after the test."""
    from lakeport.local.stack import LocalStack

    emulator.reset()
    stack = LocalStack(emulator=emulator)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
