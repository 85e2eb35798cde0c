"""Which contract changes break the table: the rules the registry enforces."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict

import pytest

from lakeport.contract import Contract, load_contract_data, load_contract_file
from lakeport.contract.compat import breaking_changes, compare
from lakeport.examples import FOLDER as EXAMPLES

pytestmark = pytest.mark.py39

ORDERS = EXAMPLES / "contracts" / "orders.yaml"


@pytest.fixture(scope="module")
def orders() -> Contract:
    return load_contract_file(ORDERS)


def variant(base: Contract, edit: Callable[[Dict[str, Any]], None]) -> Contract:
    doc = copy.deepcopy(base.to_document())
    edit(doc)
    return load_contract_data(doc)


def column(doc: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(c for c in doc["schema"] if c["name"] == name)


def by_path(changes):  # type: ignore[no-untyped-def]
    return {c.path: c for c in changes}


def test_identical_contracts_have_no_changes(orders: Contract) -> None:
    assert compare(orders, variant(orders, lambda d: None)) == []


def test_a_new_dataset_is_all_added_and_nothing_breaks(orders: Contract) -> None:
    changes = compare(None, orders)
    assert {c.kind for c in changes} == {"added"}
    assert not breaking_changes(changes)
    paths = {c.path for c in changes}
    assert {"dataset", "owner", "source", "schema.order_id", "schema.status"} <= paths


def test_additive_allows_a_nullable_column_at_the_end(orders: Contract) -> None:
    new = variant(orders, lambda d: d["schema"].append({"name": "channel", "type": "string"}))
    changes = compare(orders, new)
    assert [(c.path, c.kind, c.breaking) for c in changes] == [("schema.channel", "added", False)]


def test_additive_refuses_a_required_new_column(orders: Contract) -> None:
    new = variant(orders, lambda d: d["schema"].append({"name": "channel", "type": "string", "nullable": False}))
    (change,) = compare(orders, new)
    assert change.breaking
    assert "nullable: true" in change.why


def test_additive_refuses_a_new_column_in_the_middle(orders: Contract) -> None:
    new = variant(orders, lambda d: d["schema"].insert(1, {"name": "channel", "type": "string"}))
    (change,) = compare(orders, new)
    assert change.path == "schema.channel"
    assert change.breaking
    assert "end" in change.why


def test_additive_allows_widening_and_refuses_narrowing(orders: Contract) -> None:
    def widen(doc: Dict[str, Any]) -> None:
        column(doc, "amount")["type"] = "decimal(18,2)"
        column(doc, "customer")["type"] = "string"

    changes = by_path(compare(orders, variant(orders, widen)))
    assert not changes["schema.amount.type"].breaking
    assert not changes["schema.customer.type"].breaking

    narrow = variant(orders, lambda d: column(d, "order_id").update(type="int"))
    (change,) = compare(orders, narrow)
    assert change.path == "schema.order_id.type"
    assert change.breaking
    assert "bigint -> int is not a widening" in change.why


def test_removing_or_reordering_columns_breaks(orders: Contract) -> None:
    def drop_status(doc: Dict[str, Any]) -> None:
        doc["schema"].pop()
        doc["quality"]["rules"].pop()  # the rule on status goes with it

    (change,) = breaking_changes(compare(orders, variant(orders, drop_status)))
    assert (change.path, change.kind) == ("schema.status", "removed")

    def swap(doc: Dict[str, Any]) -> None:
        doc["schema"][2], doc["schema"][3] = doc["schema"][3], doc["schema"][2]

    (change,) = compare(orders, variant(orders, swap))
    assert change.path == "schema"
    assert change.breaking


def test_nullability_can_relax_but_not_tighten(orders: Contract) -> None:
    relaxed = variant(orders, lambda d: column(d, "customer").update(nullable=True))
    (change,) = compare(orders, relaxed)
    assert change.path == "schema.customer.nullable"
    assert not change.breaking

    tightened = variant(orders, lambda d: column(d, "status").update(nullable=False))
    (change,) = compare(orders, tightened)
    assert change.breaking
    assert "nulls" in change.why


def test_partitioning_and_primary_key_changes_break(orders: Contract) -> None:
    repartitioned = variant(orders, lambda d: d["partition_by"][0].update(transform="month", name="order_month"))
    (change,) = compare(orders, repartitioned)
    assert change.path == "partition_by"
    assert change.breaking

    rekeyed = variant(orders, lambda d: d.update(primary_key=["order_id", "customer"]))
    (change,) = compare(orders, rekeyed)
    assert change.path == "primary_key"
    assert change.breaking


def test_strict_refuses_every_structure_change(orders: Contract) -> None:
    strict = variant(orders, lambda d: d.update(schema_evolution="strict"))

    def add_and_widen(doc: Dict[str, Any]) -> None:
        doc["schema"].append({"name": "channel", "type": "string"})
        column(doc, "amount")["type"] = "decimal(18,2)"
        column(doc, "customer")["nullable"] = True

    changes = by_path(compare(strict, variant(strict, add_and_widen)))
    for path in ("schema.channel", "schema.amount.type", "schema.customer.nullable"):
        assert changes[path].breaking, path
        assert "strict" in changes[path].why
    assert "widening would be allowed" in changes["schema.amount.type"].why


def test_settings_never_break(orders: Contract) -> None:
    def settle(doc: Dict[str, Any]) -> None:
        doc["owner"] = "finance@example.com"
        doc["engine"] = "spark"
        doc["spark_threshold_bytes"] = 1024
        doc["write_mode"] = "overwrite_partitions"
        doc["source"]["options"]["delimiter"] = ";"
        doc["quality"]["rules"].append({"not_null": "customer"})
        doc["schema_evolution"] = "strict"
        column(doc, "amount")["comment"] = "gross, EUR"
        doc.pop("description")

    changes = by_path(compare(orders, variant(orders, settle)))
    assert not breaking_changes(list(changes.values()))
    assert changes["owner"].old == "sales-data@example.com"
    assert changes["owner"].new == "finance@example.com"
    assert changes["source.options.delimiter"].new == ";"
    assert changes["description"].kind == "removed"
    assert changes["schema.amount.comment"].kind == "added"
    assert {"engine", "spark_threshold_bytes", "write_mode", "quality.rules", "schema_evolution"} <= set(changes)


def test_describe_reads_as_a_sentence(orders: Contract) -> None:
    narrow = variant(orders, lambda d: column(d, "amount").update(type="string"))
    (change,) = compare(orders, narrow)
    text = change.describe()
    assert text.startswith("schema.amount.type: decimal(12,2) -> string (breaking:")


def test_options_added_later_are_in_the_document_only_when_a_contract_sets_them(orders: Contract) -> None:
    # a contract stored before these options existed keeps its document, so its digest: an upgrade
    # must not make every contract a new version on its next apply
    later = {"decimal_separator", "thousands_separator", "negatives", "skip_footer_rows"}
    assert not later & set(orders.to_document()["source"]["options"])

    def german(doc: Dict[str, Any]) -> None:
        doc["source"]["options"].update(decimal_separator=",", thousands_separator=".", negatives="trailing")

    spelled = variant(orders, german)
    options = spelled.to_document()["source"]["options"]
    assert (options["decimal_separator"], options["thousands_separator"], options["negatives"]) == (
        ",",
        ".",
        "trailing",
    )
    assert load_contract_data(spelled.to_document()) == spelled
    # how numbers are written is not the table's structure: nothing breaks
    assert breaking_changes(compare(orders, spelled)) == []
