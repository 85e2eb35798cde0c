"""The contract registry against the emulator's DynamoDB: versions, refusals, races, lookups."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Dict

import pytest

from lakeport.contract import Contract, load_contract_data, load_contract_file
from lakeport.errors import ContractConflictError, DatasetNotFoundError
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ledger import create_tables
from lakeport.registry import ContractRegistry
from lakeport.resources import Resources

pytestmark = pytest.mark.py39

ORDERS = EXAMPLES / "contracts" / "orders.yaml"


@pytest.fixture
def registry(aws) -> ContractRegistry:  # type: ignore[no-untyped-def]
    resources = Resources.for_deployment()
    create_tables(aws.client("dynamodb"), resources)
    return ContractRegistry(aws.client("dynamodb"), resources.datasets_table)


@pytest.fixture
def orders() -> Contract:
    return load_contract_file(ORDERS)


def variant(base: Contract, edit: Callable[[Dict[str, Any]], None]) -> Contract:
    doc = copy.deepcopy(base.to_document())
    edit(doc)
    return load_contract_data(doc)


def add_channel(doc: Dict[str, Any]) -> None:
    doc["schema"].append({"name": "channel", "type": "string", "comment": "web or store"})


def test_apply_stores_version_one_and_get_returns_it(registry: ContractRegistry, orders: Contract) -> None:
    result = registry.apply(orders, applied_by="ana@example.com")
    assert (result.dataset, result.version, result.changed) == ("sales.orders", 1, True)
    stored = registry.get("sales.orders")
    assert stored.version == 1
    assert stored.to_document() == orders.to_document()
    assert registry.get("sales.orders", version=1).version == 1


def test_head_item_carries_what_the_state_machine_reads(aws, registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(variant(orders, lambda d: d.update(engine="spark", spark_threshold_bytes="1GiB")), "ana")
    item = aws.client("dynamodb").get_item(
        TableName=registry.table_name, Key={"dataset": {"S": "sales.orders"}, "version": {"N": "0"}}
    )["Item"]
    assert item["latest_version"] == {"N": "1"}
    assert item["engine"] == {"S": "spark"}
    assert item["spark_threshold_bytes"] == {"N": str(1024**3)}
    assert json.loads(item["document"]["S"])["dataset"] == "sales.orders"


def test_applying_the_same_contract_again_is_a_no_op(registry: ContractRegistry, orders: Contract) -> None:
    registry.apply(orders, "ana")
    again = registry.apply(load_contract_file(ORDERS), "bob")
    assert (again.version, again.changed, again.changes) == (1, False, [])
    assert [v.version for v in registry.history("sales.orders")] == [1]


def test_an_additive_change_makes_a_new_version_and_old_ones_stay_readable(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    result = registry.apply(variant(orders, add_channel), "bob")
    assert (result.version, result.changed) == (2, True)
    assert [c.path for c in result.changes] == ["schema.channel"]
    assert [c.name for c in registry.get("sales.orders").columns][-1] == "channel"
    assert "channel" not in [c.name for c in registry.get("sales.orders", version=1).columns]


def test_strict_refusal_lists_each_change_and_what_to_do(registry, orders) -> None:  # type: ignore[no-untyped-def]
    strict = variant(orders, lambda d: d.update(schema_evolution="strict"))
    registry.apply(strict, "ana")

    def change(doc: Dict[str, Any]) -> None:
        add_channel(doc)
        next(c for c in doc["schema"] if c["name"] == "amount")["type"] = "decimal(18,2)"

    with pytest.raises(ContractConflictError) as caught:
        registry.apply(variant(strict, change), "bob")
    text = str(caught.value)
    assert "sales.orders" in text
    assert "2 breaking change(s)" in text
    assert "schema.channel" in text
    assert "schema.amount.type: decimal(12,2) -> decimal(18,2)" in text
    assert "strict" in text
    assert "new dataset" in text
    assert "--allow-breaking" in text
    assert registry.get("sales.orders").version == 1


def test_additive_refuses_a_type_change_unless_allowed(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    to_text = variant(orders, lambda d: next(c for c in d["schema"] if c["name"] == "order_id").update(type="string"))
    with pytest.raises(ContractConflictError, match="bigint -> string is not a widening"):
        registry.apply(to_text, "bob")
    forced = registry.apply(to_text, "bob", allow_breaking=True)
    assert forced.version == 2
    assert [c.path for c in forced.breaking] == ["schema.order_id.type"]


def test_losing_the_optimistic_lock_race_is_a_conflict(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    # ana and bob both read version 1; ana applies first
    registry.apply(variant(orders, add_channel), "ana", expected_version=1)
    with pytest.raises(ContractConflictError) as caught:
        registry.apply(variant(orders, lambda d: d.update(owner="bob@example.com")), "bob", expected_version=1)
    assert "someone applied version 2 meanwhile" in str(caught.value)
    assert "diff" in str(caught.value)
    latest = registry.get("sales.orders")
    assert (latest.version, latest.owner) == (2, "sales-data@example.com")
    assert [v.applied_by for v in registry.history("sales.orders")] == ["ana", "ana"]


def test_history_is_newest_first(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    registry.apply(variant(orders, add_channel), "bob")
    registry.apply(variant(orders, lambda d: (add_channel(d), d.update(owner="ops@example.com"))), "cyd")
    history = registry.history("sales.orders")
    assert [(v.version, v.applied_by) for v in history] == [(3, "cyd"), (2, "bob"), (1, "ana")]
    assert len({v.digest for v in history}) == 3
    assert history[0].applied_at >= history[-1].applied_at


def test_diff_against_what_is_applied(registry, orders) -> None:  # type: ignore[no-untyped-def]
    assert {c.kind for c in registry.diff(orders)} == {"added"}
    registry.apply(orders, "ana")
    assert registry.diff(orders) == []
    changes = registry.diff(variant(orders, lambda d: d.update(write_mode="upsert")))
    assert [(c.path, c.old, c.new, c.breaking) for c in changes] == [("write_mode", "append", "upsert", False)]


def test_missing_dataset_names_it_and_says_how_to_apply(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatasetNotFoundError) as caught:
        registry.get("sales.returns")
    assert "sales.returns" in str(caught.value)
    assert "lakeport contract apply <file>" in str(caught.value)
    with pytest.raises(DatasetNotFoundError):
        registry.history("sales.returns")


def test_missing_version_says_which_is_latest(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    with pytest.raises(DatasetNotFoundError, match=r"no contract version 7 .*latest is 1"):
        registry.get("sales.orders", version=7)


def test_list_summarises_each_dataset(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    registry.apply(variant(orders, add_channel), "ana")
    returns = variant(
        orders,
        lambda d: (
            d.update(dataset="sales.returns", write_mode="upsert"),
            d["source"].update(prefix="sales/returns"),
        ),
    )
    registry.apply(returns, "bob")
    summaries = registry.list()
    assert [(s.dataset, s.latest_version, s.source_prefix, s.format, s.write_mode) for s in summaries] == [
        ("sales.orders", 2, "sales/orders/", "csv", "append"),
        ("sales.returns", 1, "sales/returns/", "csv", "upsert"),
    ]
    assert summaries[0].owner == "sales-data@example.com"
    assert summaries[0].updated_at


def test_match_key_picks_the_longest_prefix(registry, orders) -> None:  # type: ignore[no-untyped-def]
    registry.apply(orders, "ana")
    assert registry.match_key("finance/ledger/2024.csv") is None
    eu = variant(orders, lambda d: (d.update(dataset="sales.orders_eu"), d["source"].update(prefix="sales/orders/eu/")))
    registry.apply(eu, "ana")  # applied after a miss was cached: found without waiting for the cache to age
    assert registry.match_key("sales/orders/eu/2024-01-02.csv").dataset == "sales.orders_eu"  # type: ignore[union-attr]
    found = registry.match_key("sales/orders/us/2024-01-02.csv")
    assert found is not None
    assert (found.dataset, found.version) == ("sales.orders", 1)
    assert registry.match_key("sales/ordersX/a.csv") is None
