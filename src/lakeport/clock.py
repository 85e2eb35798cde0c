"""Time stamps as the ledgers and the registry store them.

Every stamp is UTC. Text stamps have a fixed width (``2026-11-26T16:01:02.123456Z``) so that they sort
as text in DynamoDB sort keys and indexes; lease expiries are whole epoch seconds (a DynamoDB number),
so conditions can compare them with ``<``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional, Union

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: Optional[datetime]) -> datetime:
    """``moment`` in UTC (naive datetimes are taken as UTC); the current time when ``None``."""
    if moment is None:
        return utc_now()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: Optional[datetime] = None) -> str:
    """The fixed-width, sortable UTC text of ``moment`` (now when ``None``)."""
    return as_utc(moment).strftime(ISO_FORMAT)


def iso_bound(moment: Union[datetime, str]) -> str:
    """A query bound comparable with :func:`iso` stamps: a datetime, or text already in that form."""
    return moment if isinstance(moment, str) else iso(moment)


def epoch(moment: Optional[datetime] = None) -> int:
    """Whole seconds since 1970 (UTC) of ``moment`` (now when ``None``)."""
    return int(as_utc(moment).timestamp())


def from_epoch(seconds: Union[int, float]) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def parse_iso(text: str) -> datetime:
    """Read back an :func:`iso` stamp (also accepts the shorter ``…SSZ`` form)."""
    cleaned = text[:-1] + "+00:00" if text.endswith("Z") else text
    return as_utc(datetime.fromisoformat(cleaned))
