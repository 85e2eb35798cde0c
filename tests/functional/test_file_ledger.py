"""The file ledger against the emulator: each object version is ingested at most once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lakeport.errors import AccountingError, ClaimLostError
from lakeport.ledger import FileLedger, SourceObject, create_tables
from lakeport.resources import Resources

pytestmark = pytest.mark.py39

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
DATASET = "sales.orders"


@pytest.fixture
def ledger(aws) -> FileLedger:  # type: ignore[no-untyped-def]
    resources = Resources.for_deployment()
    create_tables(aws.client("dynamodb"), resources)
    return FileLedger(aws.client("dynamodb"), resources.files_table)


def obj(name: str = "2026-03-01.csv", version: str = "v1") -> SourceObject:
    return SourceObject("raw", f"sales/orders/{name}", version, "etag-" + name, 1234, "2026-03-01T07:59:00Z")


def succeed(ledger: FileLedger, o: SourceObject, run_id: str, when: datetime = T0) -> None:
    ledger.finish(o, run_id, "SUCCEEDED", rows_read=10, rows_written=8, rows_quarantined=1, rows_duplicate=1, now=when)


def test_a_new_object_is_claimed_with_a_lease(ledger: FileLedger) -> None:
    claim = ledger.claim(obj(), DATASET, "run-a", lease_seconds=600, now=T0)
    assert claim.claimed
    assert claim.outcome == "CLAIMED"
    assert claim.attempts == 1
    assert claim.lease_expires_at == int(T0.timestamp()) + 600
    record = ledger.get(obj())
    assert record is not None
    assert (record.state, record.run_id, record.dataset, record.size, record.etag) == (
        "CLAIMED",
        "run-a",
        DATASET,
        1234,
        "etag-2026-03-01.csv",
    )
    assert record.claimed_at == record.updated_at == "2026-03-01T08:00:00.000000Z"


def test_the_same_run_claiming_again_is_idempotent(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", now=T0)
    again = ledger.claim(obj(), DATASET, "run-a", now=T0 + timedelta(seconds=5))
    assert again.claimed
    assert again.attempts == 2


def test_another_run_is_held_off_while_the_lease_lives(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", lease_seconds=600, now=T0)
    held = ledger.claim(obj(), DATASET, "run-b", now=T0 + timedelta(seconds=599), force=True)
    assert (held.outcome, held.run_id) == ("HELD", "run-a")
    assert held.lease_expires == "2026-03-01T08:10:00.000000Z"
    assert ledger.get(obj()).run_id == "run-a"  # type: ignore[union-attr]


def test_an_expired_lease_is_taken_over(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", lease_seconds=600, now=T0)
    taken = ledger.claim(obj(), DATASET, "run-b", lease_seconds=600, now=T0 + timedelta(seconds=601))
    assert taken.claimed
    assert taken.run_id == "run-b"
    assert taken.attempts == 2


def test_a_stale_run_cannot_record_an_outcome(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", lease_seconds=60, now=T0)
    ledger.claim(obj(), DATASET, "run-b", now=T0 + timedelta(minutes=5))
    with pytest.raises(ClaimLostError) as caught:
        succeed(ledger, obj(), "run-a")
    text = str(caught.value)
    assert "run-a" in text
    assert "run-b" in text
    assert "s3://raw/sales/orders/2026-03-01.csv" in text
    assert ledger.get(obj()).state == "CLAIMED"  # type: ignore[union-attr]


def test_a_done_object_is_reported_done_unless_forced(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", now=T0)
    succeed(ledger, obj(), "run-a", when=T0 + timedelta(minutes=1))
    done = ledger.claim(obj(), DATASET, "run-b", now=T0 + timedelta(hours=2))
    assert (done.outcome, done.state, done.run_id, done.when) == (
        "DONE",
        "SUCCEEDED",
        "run-a",
        "2026-03-01T08:01:00.000000Z",
    )
    forced = ledger.claim(obj(), DATASET, "run-b", force=True, now=T0 + timedelta(hours=2))
    assert forced.claimed
    record = ledger.get(obj())
    assert record is not None
    assert (record.state, record.run_id, record.rows_read) == (
        "CLAIMED",
        "run-b",
        None,
    )


def test_a_quarantined_object_is_done_too(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", now=T0)
    ledger.finish(obj(), "run-a", "QUARANTINED", 0, 0, 0, 0, reason="not gzip", quarantine_uri="s3://q/files/run-a/x")
    done = ledger.claim(obj(), DATASET, "run-b", now=T0)
    assert (done.outcome, done.state) == ("DONE", "QUARANTINED")
    record = ledger.get(obj())
    assert record is not None
    assert (record.reason, record.quarantine_uri) == (
        "not gzip",
        "s3://q/files/run-a/x",
    )


def test_a_failed_object_can_be_claimed_again(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", now=T0)
    ledger.finish(obj(), "run-a", "FAILED", 5, 0, 0, 0, reason="truncated gzip")
    again = ledger.claim(obj(), DATASET, "run-b", now=T0 + timedelta(minutes=1))
    assert again.claimed
    assert again.attempts == 2
    assert ledger.get(obj()).reason is None  # type: ignore[union-attr]


def test_a_new_version_of_the_same_key_is_a_new_object(ledger: FileLedger) -> None:
    ledger.claim(obj(version="v1"), DATASET, "run-a", now=T0)
    succeed(ledger, obj(version="v1"), "run-a")
    assert ledger.claim(obj(version="v2"), DATASET, "run-b", now=T0).claimed


def test_unbalanced_counts_are_refused(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", now=T0)
    with pytest.raises(AccountingError, match="rows read 10 != written 8"):
        ledger.finish(obj(), "run-a", "SUCCEEDED", rows_read=10, rows_written=8, rows_quarantined=1, rows_duplicate=0)


def test_renew_extends_only_the_own_live_claim(ledger: FileLedger) -> None:
    ledger.claim(obj(), DATASET, "run-a", lease_seconds=60, now=T0)
    expires = ledger.renew(obj(), "run-a", 600, now=T0 + timedelta(seconds=30))
    assert expires == int(T0.timestamp()) + 630
    assert ledger.claim(obj(), DATASET, "run-b", now=T0 + timedelta(seconds=300)).outcome == "HELD"
    with pytest.raises(ClaimLostError):
        ledger.renew(obj(), "run-b", 600, now=T0)


def test_for_run_and_for_dataset(ledger: FileLedger) -> None:
    names = [f"2026-03-0{d}.csv" for d in range(1, 6)]
    for day, name in enumerate(names):
        ledger.claim(obj(name), DATASET, "run-a" if day < 3 else "run-b", now=T0 + timedelta(days=day))
    ledger.claim(SourceObject("raw", "hr/people/p.csv", None, "e", 1), "hr.people", "run-c", now=T0)
    succeed(ledger, obj(names[0]), "run-a", when=T0 + timedelta(days=10))

    assert [r.key for r in ledger.for_run("run-a")] == [f"sales/orders/{n}" for n in names[:3]]
    assert [r.key for r in ledger.for_run("run-b")] == [f"sales/orders/{n}" for n in names[3:]]

    everything = ledger.for_dataset(DATASET)
    assert [r.key for r in everything] == [f"sales/orders/{n}" for n in (names[0], *reversed(names[1:]))]
    window = ledger.for_dataset(DATASET, since=T0 + timedelta(days=1), until=T0 + timedelta(days=3))
    assert [r.key for r in window] == [f"sales/orders/{n}" for n in (names[3], names[2], names[1])]
    assert [r.key for r in ledger.for_dataset(DATASET, state="SUCCEEDED")] == [f"sales/orders/{names[0]}"]
    assert len(ledger.for_dataset(DATASET, since="2026-03-04")) == 3
    assert [r.dataset for r in ledger.for_dataset("hr.people")] == ["hr.people"]
