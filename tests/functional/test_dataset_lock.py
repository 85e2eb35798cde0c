"""The per-dataset lock against the emulator: one run at a time, and a crashed run's lock expires."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lakeport.contract import load_contract_file
from lakeport.errors import DatasetBusyError, DatasetNotFoundError
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ledger import DatasetLock, create_tables
from lakeport.registry import ContractRegistry
from lakeport.resources import Resources

pytestmark = pytest.mark.py39

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
ORDERS = EXAMPLES / "contracts" / "orders.yaml"


@pytest.fixture
def registry(aws) -> ContractRegistry:  # type: ignore[no-untyped-def]
    resources = Resources.for_deployment()
    create_tables(aws.client("dynamodb"), resources)
    registry = ContractRegistry(aws.client("dynamodb"), resources.datasets_table)
    registry.apply(load_contract_file(ORDERS), "ana")
    return registry


@pytest.fixture
def lock(aws, registry) -> DatasetLock:  # type: ignore[no-untyped-def]
    return DatasetLock(aws.client("dynamodb"), registry.table_name)


def test_a_held_lock_makes_others_wait(lock: DatasetLock) -> None:
    lease = lock.acquire("sales.orders", "run-a", lease_seconds=900, now=T0)
    assert lease.expires == "2026-03-01T08:15:00.000000Z"
    with pytest.raises(DatasetBusyError) as caught:
        lock.acquire("sales.orders", "run-b", lease_seconds=900, now=T0 + timedelta(minutes=5))
    assert caught.value.transient
    assert "locked by run run-a until 2026-03-01T08:15:00" in str(caught.value)
    assert lock.holder("sales.orders", now=T0).owner == "run-a"  # type: ignore[union-attr]


def test_the_holder_may_acquire_again(lock: DatasetLock) -> None:
    lock.acquire("sales.orders", "run-a", 60, now=T0)
    assert lock.acquire("sales.orders", "run-a", 60, now=T0 + timedelta(seconds=30)).owner == "run-a"


def test_an_expired_lock_is_free(lock: DatasetLock) -> None:
    lock.acquire("sales.orders", "run-a", 60, now=T0)
    assert lock.holder("sales.orders", now=T0 + timedelta(seconds=61)) is None
    assert lock.acquire("sales.orders", "run-b", 60, now=T0 + timedelta(seconds=61)).owner == "run-b"
    with pytest.raises(DatasetBusyError, match="run-b"):
        lock.renew("sales.orders", "run-a", 60, now=T0 + timedelta(seconds=62))


def test_release_frees_the_lock_only_for_its_owner(lock: DatasetLock) -> None:
    lock.acquire("sales.orders", "run-a", 600, now=T0)
    assert lock.release("sales.orders", "run-b") is False
    assert lock.release("sales.orders", "run-a") is True
    assert lock.acquire("sales.orders", "run-b", 600, now=T0).owner == "run-b"


def test_renew_extends_the_lease(lock: DatasetLock) -> None:
    lock.acquire("sales.orders", "run-a", 60, now=T0)
    lock.renew("sales.orders", "run-a", 600, now=T0 + timedelta(seconds=50))
    with pytest.raises(DatasetBusyError):
        lock.acquire("sales.orders", "run-b", 60, now=T0 + timedelta(seconds=120))


def test_locking_does_not_disturb_applying_contracts(lock: DatasetLock, registry: ContractRegistry) -> None:
    lock.acquire("sales.orders", "run-a", 600)
    contract = registry.get("sales.orders")
    assert registry.apply(contract.model_copy(update={"owner": "ops@example.com"}), "bob").version == 2
    assert lock.holder("sales.orders").owner == "run-a"  # type: ignore[union-attr]
    assert registry.get("sales.orders").owner == "ops@example.com"


def test_a_dataset_without_contract_cannot_be_locked(aws, lock: DatasetLock) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatasetNotFoundError, match=r"sales\.returns"):
        lock.acquire("sales.returns", "run-a", 60)
    item = aws.client("dynamodb").get_item(
        TableName=lock.table_name, Key={"dataset": {"S": "sales.returns"}, "version": {"N": "0"}}
    )
    assert "Item" not in item
