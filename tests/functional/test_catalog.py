"""The Glue Data Catalog against the emulator: tables from contracts, additive evolution, partitions."""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict

import pytest

from lakeport.catalog import PARQUET_SERDE, Catalog
from lakeport.contract import LINEAGE_COLUMNS, Contract, load_contract_data, load_contract_file
from lakeport.errors import ContractConflictError
from lakeport.examples import FOLDER as EXAMPLES

pytestmark = pytest.mark.py39

ORDERS = EXAMPLES / "contracts" / "orders.yaml"
ROOT = "s3://curated/sales/orders/"


@pytest.fixture
def catalog(aws) -> Catalog:  # type: ignore[no-untyped-def]
    return Catalog(aws.client("glue"), backoff_seconds=0.01)


@pytest.fixture
def orders() -> Contract:
    return load_contract_file(ORDERS).model_copy(update={"version": 1})


def variant(base: Contract, edit: Callable[[Dict[str, Any]], None], version: int = 2) -> Contract:
    doc = copy.deepcopy(base.to_document())
    edit(doc)
    return load_contract_data(doc).model_copy(update={"version": version})


def unpartitioned(base: Contract) -> Contract:
    return variant(base, lambda d: d.update(partition_by=[]), version=1)


def test_a_table_is_created_from_the_contract(aws, catalog: Catalog, orders: Contract) -> None:  # type: ignore[no-untyped-def]
    state = catalog.ensure_table(orders, ROOT)
    assert state.created
    assert (state.database, state.table) == ("sales", "orders")
    table = aws.client("glue").get_table(DatabaseName="sales", Name="orders")["Table"]
    sd = table["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert sd["InputFormat"].endswith("MapredParquetInputFormat")
    assert sd["OutputFormat"].endswith("MapredParquetOutputFormat")
    assert sd["Location"] == ROOT
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["classification"] == "parquet"
    assert table["Parameters"]["lakeport.dataset"] == "sales.orders"
    assert table["Parameters"]["lakeport.contract_version"] == "1"
    columns = [(c["Name"], c["Type"]) for c in sd["Columns"]]
    assert columns[:6] == [
        ("order_id", "bigint"),
        ("order_date", "timestamp"),
        ("customer", "varchar(40)"),
        ("country", "char(2)"),
        ("amount", "decimal(12,2)"),
        ("status", "string"),
    ]
    assert columns[6:] == list(LINEAGE_COLUMNS)
    assert sd["Columns"][0]["Comment"] == "ERP order number"
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("order_day", "date")]


def test_ensure_table_again_changes_nothing(catalog: Catalog, orders: Contract) -> None:
    catalog.ensure_table(orders, ROOT)
    state = catalog.ensure_table(orders, "s3://elsewhere/")
    assert not state.created
    assert not state.updated
    assert state.location == ROOT


def test_additive_evolution_appends_columns_and_widens_types(catalog: Catalog, orders: Contract) -> None:
    catalog.ensure_table(orders, ROOT)

    def evolve(doc: Dict[str, Any]) -> None:
        doc["schema"].append({"name": "channel", "type": "varchar(10)", "comment": "web or store"})
        next(c for c in doc["schema"] if c["name"] == "amount")["type"] = "decimal(18,2)"

    state = catalog.ensure_table(variant(orders, evolve), ROOT)
    assert state.updated
    assert state.added_columns == ["channel"]
    assert state.widened_columns == ["amount: decimal(12,2) -> decimal(18,2)"]
    table = catalog.get_table("sales", "orders")
    assert table is not None
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns[-1] == ("channel", "varchar(10)")
    assert ("amount", "decimal(18,2)") in columns
    assert table["Parameters"]["lakeport.contract_version"] == "2"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["schema"].pop(), "status (string) is in the catalog but not in the contract"),
        (
            lambda d: next(c for c in d["schema"] if c["name"] == "amount").update(type="string"),
            "amount is decimal(12,2) in the catalog and string in the contract",
        ),
        (lambda d: d["partition_by"][0].update(transform="month"), "partition keys are order_day date"),
    ],
    ids=["dropped column", "narrowed type", "new partitioning"],
)
def test_a_non_additive_change_is_refused(catalog: Catalog, orders: Contract, edit: Any, reason: str) -> None:
    catalog.ensure_table(orders, ROOT)

    def apply(doc: Dict[str, Any]) -> None:
        edit(doc)
        doc["quality"]["rules"] = [r for r in doc["quality"]["rules"] if "allowed_values" not in r]

    with pytest.raises(ContractConflictError) as caught:
        catalog.ensure_table(variant(orders, apply), ROOT)
    assert "sales.orders" in str(caught.value)
    assert reason in str(caught.value)
    assert catalog.table_location("sales", "orders") == ROOT


def test_the_quarantine_table_has_text_columns_by_run(catalog: Catalog, orders: Contract) -> None:
    columns = ["order_id", "order_date", ("lakeport_reason", "string", "why the row was rejected")]
    state = catalog.ensure_table(orders, "s3://quarantine/sales/orders/rows/", columns=columns, table_type="quarantine")
    assert state.table == "orders_quarantine"
    table = catalog.get_table("sales", "orders_quarantine")
    assert table is not None
    assert {c["Type"] for c in table["StorageDescriptor"]["Columns"]} == {"string"}
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("lakeport_run_id", "string")]


def test_partitions_are_created_then_switched(catalog: Catalog, orders: Contract) -> None:
    catalog.ensure_table(orders, ROOT)
    first = {(f"2026-01-{d:02d}",): f"{ROOT}order_day=2026-01-{d:02d}/run=r1/" for d in range(1, 4)}
    changes = catalog.set_partitions("sales", "orders", first)
    assert (changes.created, changes.updated, changes.unchanged) == (3, 0, 0)
    assert catalog.get_partitions("sales", "orders") == first

    second = {("2026-01-02",): f"{ROOT}order_day=2026-01-02/run=r2/", ("2026-01-03",): first[("2026-01-03",)]}
    changes = catalog.set_partitions("sales", "orders", second)
    assert (changes.created, changes.updated, changes.unchanged) == (0, 1, 1)
    now = catalog.get_partitions("sales", "orders")
    assert now[("2026-01-02",)].endswith("/run=r2/")
    assert now[("2026-01-01",)].endswith("/run=r1/")
    partition = catalog._glue.get_partition(DatabaseName="sales", TableName="orders", PartitionValues=["2026-01-02"])
    sd = partition["Partition"]["StorageDescriptor"]
    assert sd["SerdeInfo"]["SerializationLibrary"] == PARQUET_SERDE
    assert sd["Columns"]


def test_hundreds_of_partitions_in_batches(catalog: Catalog, orders: Contract) -> None:
    catalog.ensure_table(orders, ROOT)
    days = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 26)]  # 300 partitions
    changes = catalog.set_partitions("sales", "orders", {(d,): f"{ROOT}order_day={d}/run=r1/" for d in days})
    assert changes.created == 300
    switched = {(d,): f"{ROOT}order_day={d}/run=r2/" for d in days[:250]}
    changes = catalog.set_partitions("sales", "orders", {**switched, ("2026-01-01",): f"{ROOT}x/"})
    assert (changes.created, changes.updated) == (1, 250)
    found = catalog.get_partitions("sales", "orders")
    assert len(found) == 301
    assert sum(loc.endswith("/run=r2/") for loc in found.values()) == 250


def test_an_unpartitioned_table_keeps_its_location_when_it_evolves(catalog: Catalog, orders: Contract) -> None:
    contract = unpartitioned(orders)
    state = catalog.ensure_table(contract, f"{ROOT}rows/")
    assert state.partition_keys == []
    evolved = variant(contract, lambda d: d["schema"].append({"name": "channel", "type": "string"}))
    assert catalog.ensure_table(evolved, f"{ROOT}elsewhere/").location == f"{ROOT}rows/"
    assert catalog.table_location("sales", "orders") == f"{ROOT}rows/"


def test_database_is_created_once(catalog: Catalog) -> None:
    assert catalog.ensure_database("finance", "money") is True
    assert catalog.ensure_database("finance") is False
    assert not catalog.table_exists("finance", "ledger")


def test_a_replay_with_an_older_contract_leaves_the_grown_table_alone(catalog: Catalog, orders: Contract) -> None:
    def grow(doc: Dict[str, Any]) -> None:
        doc["schema"].append({"name": "channel", "type": "string"})
        next(c for c in doc["schema"] if c["name"] == "amount")["type"] = "decimal(18,2)"

    catalog.ensure_table(orders, ROOT)
    catalog.ensure_table(variant(orders, grow, version=2), ROOT)
    state = catalog.ensure_table(orders, ROOT)  # version 1 again, as a pinned replay
    assert not state.updated
    table = catalog.get_table("sales", "orders")
    assert table is not None
    assert table["Parameters"]["lakeport.contract_version"] == "2"
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]][-1] == "channel"


def test_a_column_named_like_a_partition_key_is_refused(catalog: Catalog, orders: Contract) -> None:
    with pytest.raises(ValueError, match="lakeport_run_id named twice"):
        catalog.ensure_table(orders, "s3://q/", columns=["lakeport_run_id", "order_id"], table_type="quarantine")
