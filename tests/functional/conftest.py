from __future__ import annotations

import pytest

from .lake import Lake


@pytest.fixture
def lake(aws):  # type: ignore[no-untyped-def]
    return Lake(aws)
