"""Run ids sort by time, are unique, and are valid Step Functions execution names."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from lakeport.ledger import RunLedger, SourceObject, new_run_id

pytestmark = pytest.mark.py39

EXECUTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_run_id_carries_the_utc_start_time() -> None:
    moment = datetime(2026, 11, 26, 17, 1, 2, tzinfo=timezone(timedelta(hours=1)))
    run_id = new_run_id(moment)
    assert re.fullmatch(r"20261126T160102Z-[0-9a-f]{8}", run_id)
    assert EXECUTION_NAME.match(run_id)


def test_run_ids_sort_by_time_and_do_not_repeat() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ids = [new_run_id(start + timedelta(seconds=s)) for s in (0, 1, 59, 3600, 86400 * 40)]
    assert ids == sorted(ids)
    same_second = {RunLedger.new_run_id(start) for _ in range(2000)}
    assert len(same_second) == 2000


def test_ledger_key_prefers_the_version_id() -> None:
    versioned = SourceObject("raw", "sales/orders/a.csv", "3HL4kqtJ", '"abc"', 10)
    unversioned = SourceObject("raw", "sales/orders/a.csv", None, "abc", 10)
    assert versioned.ledger_key == ("raw/sales/orders/a.csv", "3HL4kqtJ")
    assert unversioned.ledger_key == ("raw/sales/orders/a.csv", "etag:abc")
    assert unversioned.uri == "s3://raw/sales/orders/a.csv"
