"""``lakeport cost estimate``: what a user sees, and the write-up quoting it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from lakeport.cli.main import app
from lakeport.cost import DEFAULT_WORKLOAD, estimate

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_table_output_has_every_service_and_the_total() -> None:
    result = runner.invoke(app, ["cost", "estimate"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for service in ["S3", "Glue", "Step Functions", "Lambda", "SQS", "DynamoDB", "KMS", "CloudWatch", "Athena"]:
        assert service in result.output
    assert f"{estimate(DEFAULT_WORKLOAD).total_usd:,.2f}" in result.output
    assert "as of 2025-06" in result.output


def test_flags_and_set_change_the_workload() -> None:
    result = runner.invoke(
        app, ["cost", "estimate", "--queries-per-day", "0", "--set", "snapshot_retention_days=30", "--output", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["workload"]["queries_per_day"] == 0
    assert document["workload"]["snapshot_retention_days"] == 30
    assert document["by_service"]["Athena"] == 0
    assert document["total_usd_per_month"] < round(estimate(DEFAULT_WORKLOAD).total_usd, 2)


def test_a_workload_file_is_read(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "docs" / "cost-workload.yaml").read_text(encoding="utf-8"))
    data["files_per_day"] = 10
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["cost", "estimate", "--workload", str(path), "--output", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "service,item,quantity,unit,usd_per_unit,usd_per_month"
    assert result.output.splitlines()[-1].startswith("total,")


def test_mistakes_are_reported_without_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("files_per_day: 3\n", encoding="utf-8")
    result = runner.invoke(app, ["cost", "estimate", "--workload", str(bad)])
    assert result.exit_code == 1
    assert "are not given" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["cost", "estimate", "--set", "nonsense"])
    assert result.exit_code == 1 and "NAME=VALUE" in result.output


def test_the_architecture_write_up_quotes_the_command_exactly() -> None:
    result = runner.invoke(app, ["cost", "estimate", "--output", "markdown"])
    assert result.exit_code == 0, result.output
    write_up = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "lakeport cost estimate --output markdown" in write_up
    assert result.output in write_up, "docs/architecture.md no longer quotes `lakeport cost estimate --output markdown`"


def test_the_what_if_totals_in_the_write_up_are_current() -> None:
    write_up = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    what_ifs = [
        {"files_per_run": 1},
        {"files_per_run": 100},
        {"private_network": False, "site_to_site_vpn": False},
        {"snapshot_retention_days": 1},
        {"snapshot_retention_days": None},
        {"queries_per_day": 0},
    ]
    for changes in what_ifs:
        total = estimate(DEFAULT_WORKLOAD.with_values(changes)).total_usd
        assert f"{total:,.0f} USD" in write_up, f"docs/architecture.md: the total for {changes} is now {total:,.0f} USD"
