"""The engine's reason as the demo and ``lakeport runs`` print it: byte counts with units."""

from __future__ import annotations

import pytest

from lakeport.cli.reasons import human_bytes, readable_reason


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"), (5 * 2**30, "5 GiB"), (3 * 2**50, "3072 TiB")],
)
def test_byte_counts_get_units(count: int, text: str) -> None:
    assert human_bytes(count) == text


def test_the_state_machine_reason_reads_with_units_and_other_reasons_are_unchanged() -> None:
    assert (
        readable_reason("auto: 348 input bytes < spark threshold 5368709120 bytes")
        == "auto: 348 B < spark threshold 5 GiB"
    )
    assert readable_reason("the contract sets engine: spark") == "the contract sets engine: spark"
