"""Athena-safe names.

Athena (and the Glue Data Catalog) want lower-case names of letters, digits and underscores. A
source header such as ``Order ID`` or ``Unit-Price (EUR)`` is turned into ``order_id`` and
``unit_price_eur``; the contract keeps the original as the column's ``source`` so the reader can
still match the header.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_SAFE = re.compile(r"[^a-z0-9_]+")
_REPEATS = re.compile(r"_+")
# letters that Unicode decomposition does not reduce to ASCII
_TRANSLITERATE = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
    }
)
SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
MAX_NAME_LENGTH = 255


def normalise_name(text: str) -> str:
    """Return the Athena-safe spelling of ``text`` (deterministic, idempotent)."""
    folded = (
        unicodedata.normalize("NFKD", str(text).translate(_TRANSLITERATE)).encode("ascii", "ignore").decode("ascii")
    )
    # split camelCase before lower-casing: "orderId" -> "order_id"
    folded = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", folded)
    name = _NOT_SAFE.sub("_", folded.strip().lower())
    name = _REPEATS.sub("_", name).strip("_")
    if not name:
        name = "col"
    if name[0].isdigit():
        name = f"c_{name}"
    return name[:MAX_NAME_LENGTH]


def is_safe_name(text: str) -> bool:
    return bool(SAFE_NAME.match(text)) and len(text) <= MAX_NAME_LENGTH
