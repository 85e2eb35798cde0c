"""How a text export spells its numbers: the decimal and thousands separators, the negative sign.

Exports made in much of Europe write ``1.234,5`` or ``1 234,5`` for 1234.5; SAP writes a negative
amount ``1.234,5-``, accounting reports ``(1,234.5)``. Both engines read such a value by first
respelling it the one way their casts know (``1234.5``, ``-1234.5``), then converting it by the
usual rules, so every rule of :mod:`lakeport.contract.types` (exact decimals, integer ranges) holds
unchanged; a reason still quotes the value as the file has it. The respelling:

* a trailing minus (``negatives: trailing``) or the parentheses (``negatives: parentheses``) around
  an unsigned value become a leading minus; a leading sign is still read, and a value with two
  signs (``-5-``, ``(-5)``) is refused;
* a thousands separator is taken out only of a value whose whole digits it groups by three
  (``1.234.567,5``, ``-12.345``); anywhere else (``1.23,4``, ``12.34``) it stays, and the value is
  refused as not a number;
* with a decimal comma, a point that is still there is no decimal point, and the value is refused
  (``1.5`` in a file that writes ``1,5``): a point is never silently read as a comma.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..contract import Contract
from ..contract.types import ColumnType

NOT_A_DIGIT = "\ufffd"
"""What a point becomes in a decimal-comma value: a character no number has, so its cast fails."""


@dataclass(frozen=True)
class NumberSpelling:
    decimal: str = "."
    thousands: Optional[str] = None
    negatives: str = "leading"

    @classmethod
    def of(cls, contract: Contract) -> NumberSpelling:
        options = contract.source.options
        return cls(options.decimal_separator, options.thousands_separator, options.negatives)

    @property
    def plain(self) -> bool:
        """Whether numbers are written as the casts read them (nothing to respell)."""
        return self.decimal == "." and self.thousands is None and self.negatives == "leading"

    def negative(self, end: str) -> Optional[str]:
        """A regular expression (RE2 and Java alike) for a trimmed value in the other negative
        spelling, its unsigned digits in group 1; ``None`` when there is no other spelling."""
        if self.negatives == "trailing":
            return rf"^([^+\-][^\-]*)-{end}"
        if self.negatives == "parentheses":
            return rf"^\(([^()+\-]*)\){end}"
        return None

    def applies(self, ctype: ColumnType) -> bool:
        return ctype.is_numeric and not self.plain

    def grouped(self, end: str) -> str:
        """A regular expression (RE2 and Java alike; ``end`` is the engine's end-of-text anchor) for a
        trimmed value whose whole digits are grouped by three with the thousands separator."""
        assert self.thousands is not None
        return rf"^[+-]?[0-9]{{1,3}}(?:[{self.thousands}][0-9]{{3}})+(?:[{self.decimal}][0-9]*)?{end}"


PLAIN = NumberSpelling()
