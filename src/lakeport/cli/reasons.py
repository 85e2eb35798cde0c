"""Run records as people read them: byte counts in the engine's reason written with units."""

from __future__ import annotations

import re

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
