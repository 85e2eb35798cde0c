"""Every contract mistake is reported with the field path, the line and a reason a person can act on."""

from __future__ import annotations

import pytest

from lakeport.contract import load_contract_file, load_contract_text, normalise_name
from lakeport.errors import ContractError

pytestmark = pytest.mark.py39

BASE = """\
dataset: sales.orders
owner: sales@example.com
source:
  prefix: sales/orders/
  format: csv
schema:
  - {name: order_id, type: bigint, nullable: false}
  - {name: order_ts, type: timestamp}
  - {name: amount, type: "decimal(12,2)"}
  - {name: note, type: string}
"""


def problems(text: str) -> list:
    with pytest.raises(ContractError) as caught:
        load_contract_text(text, source="orders.yaml")
    return [(p.path, p.reason, p.line) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("extra", "path", "reason_part", "line"),
    [
        (
            "primary_key: [order_id]\npartition_by: [{name: d, from: nope, transform: day}]\n",
            "partition_by.0.from",
            "'nope' is not a column",
            12,
        ),
        ("primary_key: [amount]\n", "primary_key.0", "'amount' is nullable", 11),
        ("primary_key: [missing]\n", "primary_key.0", "'missing' is not a column", 11),
        (
            "quality:\n  rules: [{not_null: ghost}]\n",
            "quality.rules.0.not_null",
            "'ghost' is not a column",
            12,
        ),
        (
            "quality:\n  rules: [{regex: {column: amount, pattern: 'x'}}]\n",
            "quality.rules.0.regex",
            "applies to text columns",
            12,
        ),
        (
            "quality:\n  rules: [{range: {column: amount, min: cheap}}]\n",
            "quality.rules.0.range.min",
            "is not a number",
            12,
        ),
        (
            "quality:\n  rules: [{range: {column: amount, min: 5, max: 1}}]\n",
            "quality.rules.0.range",
            "min 5 is greater than max 1",
            12,
        ),
        (
            "quality:\n  rules: [{regex: {column: note, pattern: '(unclosed'}}]\n",
            "quality.rules.0",
            "not a valid regular expression",
            12,
        ),
        ("quality:\n  rules: [{shiny: note}]\n", "quality.rules.0", "unknown rule 'shiny'", 12),
        ("quality:\n  max_bad_ratio: 1.5\n", "quality.max_bad_ratio", "less than or equal to 1", 12),
        ("write_mode: upsert\n", "write_mode", "declare primary_key", 11),
        ("write_mode: merge\n", "write_mode", "'merge' is not allowed", 11),
        ("engine: gpu\n", "engine", "'gpu' is not allowed", 11),
        (
            "partition_by: [{name: m, from: note, transform: month}]\n",
            "partition_by.0.transform",
            "needs a date or timestamp",
            11,
        ),
        (
            "partition_by: [{name: amount, from: order_ts, transform: day}]\n",
            "partition_by.0.name",
            "already a column",
            11,
        ),
        ("partition_by: [{name: order_ts}]\n", "partition_by.0", "one partition per value", 11),
        ("colour: blue\n", "colour", "not a known field", 11),
        ("spark_threshold_bytes: lots\n", "spark_threshold_bytes", "is not a size", 11),
    ],
)
def test_a_mistake_is_named_by_field_line_and_reason(extra, path, reason_part, line):  # type: ignore[no-untyped-def]
    found = problems(BASE + extra)
    assert any(p == path and reason_part in r and ln == line for p, r, ln in found), found


@pytest.mark.parametrize(
    ("old", "new", "path", "reason_part"),
    [
        ("type: bigint", "type: bigintt", "schema.0.type", "'bigintt' is not a type"),
        ('type: "decimal(12,2)"', "type: decimal(12,2)", "schema.2.type", "quote a type that holds a comma"),
        (
            'type: "decimal(12,2)"',
            'type: "decimal(40,2)"',
            "schema.2.type",
            "precision must be between 1 and 38",
        ),
        (
            "type: string}",
            "type: string, format: '%Y'}",
            "schema.3",
            "'format' applies to date and timestamp",
        ),
        ("{name: amount", "{name: order_id", "schema.2.name", "duplicate column 'order_id'"),
        ("{name: note", "{name: lakeport_note", "schema.3.name", "reserved prefix"),
        ("format: csv", "format: xml", "source.format", "'xml' is not allowed"),
        ("prefix: sales/orders/", "prefix: s3://bucket/sales/", "source.prefix", "no bucket"),
        ("dataset: sales.orders", "dataset: Sales-Orders", "dataset", "'<database>.<table>'"),
        ("format: csv", "format: jsonl\n  options: {delimiter: ';'}", "source", "do not apply to jsonl (only to csv)"),
    ],
)
def test_schema_and_source_mistakes(old, new, path, reason_part):  # type: ignore[no-untyped-def]
    found = problems(BASE.replace(old, new, 1))
    assert any(p == path and reason_part in r and ln is not None for p, r, ln in found), found


def test_all_problems_are_reported_at_once_with_the_file_name():  # type: ignore[no-untyped-def]
    text = BASE.replace("format: csv", "format: xml") + "write_mode: merge\ncolour: blue\n"
    with pytest.raises(ContractError) as caught:
        load_contract_text(text, source="orders.yaml")
    message = str(caught.value)
    assert message.startswith("orders.yaml: 3 problem(s)")
    assert "source.format (line 5)" in message and "write_mode (line 11)" in message and "colour (line 12)" in message


def test_not_yaml_and_not_a_mapping():  # type: ignore[no-untyped-def]
    assert problems("dataset: [unclosed\n")[0][1].startswith("not valid YAML")
    assert "a contract is a YAML mapping" in problems("- just\n- a list\n")[0][1]


def test_names_are_made_athena_safe_and_the_source_header_is_kept():  # type: ignore[no-untyped-def]
    contract = load_contract_text(BASE.replace("{name: note", "{name: Unit-Price (EUR)"))
    column = contract.columns[3]
    assert (column.name, column.source_name) == ("unit_price_eur", "Unit-Price (EUR)")
    assert contract.rename_map == {"Unit-Price (EUR)": "unit_price_eur"}
    assert [normalise_name(n) for n in ("orderId", "ORDER_ID", "1st value", "  ", "Größe", "Café Crème", "Ærø")] == [
        "order_id",
        "order_id",
        "c_1st_value",
        "col",
        "grosse",
        "cafe_creme",
        "aero",
    ]


def test_the_examples_are_valid(tmp_path):  # type: ignore[no-untyped-def]
    from lakeport.examples import FOLDER

    folder = FOLDER / "contracts"
    datasets = sorted(load_contract_file(p).dataset for p in folder.glob("*.yaml"))
    assert datasets == ["finance.accounts", "iot.readings", "sales.orders"]


WEATHER = """
dataset: wx.hourly
owner: t@example.com
source: {prefix: wx/hourly/, format: csv}
schema:
  - {name: month, type: int}
  - {name: time_hour, type: timestamp}
partition_by: [{name: month, from: time_hour, transform: month}]
"""


def test_a_partition_named_like_a_file_column_says_how_to_keep_both():  # type: ignore[no-untyped-def]
    with pytest.raises(ContractError) as raised:
        load_contract_text(WEATHER, "wx.yaml")
    text = str(raised.value)
    assert "'month' is already a column of the schema" in text
    fix = "{name: month_in_file, source: month, type: int}"
    assert fix in text
    # the suggested fix, pasted in, is a valid contract: the partition is 'month', the file's column still read
    contract = load_contract_text(WEATHER.replace("{name: month, type: int}", fix), "wx.yaml")
    assert [p.name for p in contract.partition_by] == ["month"]
    first = contract.columns[0]
    assert (first.name, first.source_name) == ("month_in_file", "month")


@pytest.mark.parametrize(
    ("column", "reason_part"),
    [
        ("{name: x, type: int, expression: 'amount + nope'}", "could not be resolved"),
        ("{name: x, type: int, expression: 'amount + nope'}", "(it can read: order_id, order_ts, amount, note)"),
        ("{name: x, type: bigint, expression: 'sum(order_id)'}", "uses an aggregate (SUM(order_id))"),
        ("{name: x, type: bigint, expression: 'row_number() over ()'}", "uses a window function"),
        ("{name: x, type: string, expression: 'frobnicate(note)'}", "uses frobnicate, which is not an Athena function"),
        ("{name: x, type: string, expression: 'note,'}", "is not an Athena SQL expression"),
        (
            "{name: x, type: string, expression: 'upper(note)', source: NOTE}",
            "computed, not read from the file: drop source",
        ),
        ("{name: x, type: string, expression: 'upper(note)', null_values: [NA]}", "drop null_values"),
    ],
)
def test_an_expression_that_cannot_run_per_row_is_named_with_its_column(column, reason_part):  # type: ignore[no-untyped-def]
    found = problems(BASE + f"  - {column}\n")
    assert any(path.startswith("schema.4") and reason_part in reason for path, reason, _ in found), found


def test_an_expression_reads_file_columns_not_other_derived_ones():  # type: ignore[no-untyped-def]
    text = (
        BASE
        + "  - {name: day, type: date, expression: 'date(order_ts)'}\n"
        + "  - {name: later, type: date, expression: 'day'}\n"
    )
    [(path, reason, _)] = problems(text)
    assert path == "schema.5.expression" and "could not be resolved" in reason and "day" in reason


def test_a_derived_column_can_be_partitioned_on_and_is_not_expected_in_the_file():  # type: ignore[no-untyped-def]
    contract = load_contract_text(
        BASE
        + "  - {name: order_day, type: date, nullable: false, expression: 'date(order_ts)'}\n"
        + "partition_by: [{name: order_month, from: order_day, transform: month}]\n"
    )
    assert [c.name for c in contract.derived_columns] == ["order_day"]
    assert "order_day" not in [c.name for c in contract.read_columns]
