"""The monthly cost model: billing rules a reader of the estimate relies on."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Dict, List

import pytest
import yaml

from lakeport.cost import (
    DEFAULT_WORKLOAD,
    INTERFACE_ENDPOINT_SERVICES,
    MINIMUM_BILLED_SECONDS,
    PRICES,
    PYTHON_SHELL_DPU,
    STATE_TRANSITIONS_PER_RUN,
    CostLine,
    Workload,
    estimate,
    glue_run_cost,
)
from lakeport.errors import ConfigurationError

pytestmark = pytest.mark.py39

WORKLOAD_FILE = Path(__file__).resolve().parents[2] / "docs" / "cost-workload.yaml"


def lines(workload: Workload, service: str, words: str = "") -> List[CostLine]:
    return [line for line in estimate(workload).lines if line.service == service and words in line.item]


def usd(workload: Workload, service: str, words: str = "") -> float:
    return sum(line.monthly_usd for line in lines(workload, service, words))


def test_the_documented_workload_is_the_default() -> None:
    data = yaml.safe_load(WORKLOAD_FILE.read_text(encoding="utf-8"))
    assert Workload.from_mapping(data, str(WORKLOAD_FILE)) == DEFAULT_WORKLOAD


def test_short_runs_are_billed_a_full_minute() -> None:
    assert glue_run_cost("python", 5) == glue_run_cost("python", 60) > 0
    assert glue_run_cost("python", 120) == pytest.approx(2 * glue_run_cost("python", 60), abs=1e-6)
    tiny = replace(DEFAULT_WORKLOAD, mb_per_file=0.01, run_overhead_seconds=1, python_mb_per_second=100)
    (runs,) = lines(tiny, "Glue", "Python shell")
    expected_dpu_hours = tiny.runs_per_day * (730 / 24) * MINIMUM_BILLED_SECONDS * PYTHON_SHELL_DPU / 3600
    assert runs.quantity == pytest.approx(expected_dpu_hours)
    assert "(60 s" in runs.item


def test_no_queries_cost_nothing_in_athena() -> None:
    quiet = replace(DEFAULT_WORKLOAD, queries_per_day=0)
    assert usd(quiet, "Athena") == 0
    assert usd(quiet, "S3", "Athena results") == 0
    assert usd(quiet, "S3", "GET") < usd(DEFAULT_WORKLOAD, "S3", "GET")


def test_each_query_is_billed_at_least_ten_megabytes() -> None:
    small = replace(DEFAULT_WORKLOAD, queries_per_day=1000, gb_scanned_per_query=0.001)
    ten_mb = replace(small, gb_scanned_per_query=10 / 1024)
    assert usd(small, "Athena") == pytest.approx(usd(ten_mb, "Athena"))
    assert usd(ten_mb, "Athena") == pytest.approx(1000 * (730 / 24) * (10 / 1024 / 1024) * 5.0)


def test_runs_at_or_above_the_threshold_use_spark() -> None:
    big = replace(DEFAULT_WORKLOAD, mb_per_file=600, files_per_run=10, spark_threshold_mb=5000)
    assert big.routine_engine == "spark"
    assert lines(big, "Glue", "Spark runs") and not lines(big, "Glue", "Python shell")
    assert lines(DEFAULT_WORKLOAD, "Glue", "Python shell") and not lines(DEFAULT_WORKLOAD, "Glue", "Spark runs")


def test_appends_copy_nothing_and_compacted_files_are_kept_for_the_retention() -> None:
    once_a_day = replace(DEFAULT_WORKLOAD, files_per_run=DEFAULT_WORKLOAD.files_per_day / DEFAULT_WORKLOAD.datasets)
    assert usd(once_a_day, "S3", "superseded") == 0
    assert not lines(DEFAULT_WORKLOAD, "S3", "copies")
    forever = usd(replace(DEFAULT_WORKLOAD, snapshot_retention_days=None), "S3", "superseded")
    a_day = usd(replace(DEFAULT_WORKLOAD, snapshot_retention_days=1), "S3", "superseded")
    a_week = usd(DEFAULT_WORKLOAD, "S3", "superseded")  # the contracts' default retention
    live = usd(DEFAULT_WORKLOAD, "S3", "curated, live")
    # one day's volume compacted a day, kept as long as the snapshots that still read it
    assert forever == pytest.approx(live)
    assert a_week == pytest.approx(forever * 7 / DEFAULT_WORKLOAD.history_days)
    assert a_day == pytest.approx(a_week / 7)


def test_batching_more_files_per_run_costs_less() -> None:
    def total(files_per_run: float) -> float:
        return estimate(replace(DEFAULT_WORKLOAD, files_per_run=files_per_run)).total_usd

    assert total(1) > total(5) > total(20) > total(200)


def test_the_private_network_is_priced_only_when_enabled() -> None:
    public = replace(DEFAULT_WORKLOAD, private_network=False, site_to_site_vpn=False)
    assert usd(public, "VPC") == 0
    endpoints = usd(replace(public, private_network=True), "VPC", "interface endpoints")
    assert endpoints == pytest.approx(7 * 2 * 730 * PRICES["vpc.interface_endpoint_hour"].usd)
    assert usd(replace(public, site_to_site_vpn=True), "VPC", "VPN") == pytest.approx(730 * 0.05)


def test_small_files_in_standard_ia_are_billed_at_128_kb() -> None:
    tiny = replace(DEFAULT_WORKLOAD, mb_per_file=0.01)
    (ia,) = lines(tiny, "S3", "raw, Standard-IA")
    assert ia.quantity == pytest.approx(tiny.files_per_day * 60 * 128 / 1024 / 1024)


def test_lifecycle_days_move_storage_between_classes() -> None:
    standard_only = replace(DEFAULT_WORKLOAD, history_days=20)
    assert next(line.item for line in lines(standard_only, "S3", "raw")) == "raw, Standard (20 d)"
    assert usd(standard_only, "S3", "Glacier (") == 0
    assert not lines(standard_only, "S3", "transitions to Glacier")


def test_the_total_is_the_sum_of_the_services() -> None:
    result = estimate(DEFAULT_WORKLOAD)
    assert result.total_usd == pytest.approx(sum(total for _service, total in result.by_service()))
    services = [service for service, _total in result.by_service()]
    for expected in ["S3", "Glue", "Step Functions", "Lambda", "SQS", "DynamoDB", "KMS", "CloudWatch", "Athena"]:
        assert expected in services


def test_every_price_has_a_unit_the_model_scales() -> None:
    result = estimate(DEFAULT_WORKLOAD)
    used = {(line.unit, line.unit_usd) for line in result.lines}
    assert used <= {(price.unit, price.usd) for price in PRICES.values()}


# -- reading workloads --------------------------------------------------------------------------------


def test_a_workload_file_must_state_every_field() -> None:
    data = DEFAULT_WORKLOAD.describe()
    partial = {name: value for name, value, _help in data if name != "queries_per_day"}
    with pytest.raises(ConfigurationError, match="queries_per_day"):
        Workload.from_mapping(partial, "w.yaml")


def test_unknown_fields_and_bad_values_are_named() -> None:
    full: Dict[str, object] = {name: value for name, value, _help in DEFAULT_WORKLOAD.describe()}
    with pytest.raises(ConfigurationError, match="querys_per_day"):
        Workload.from_mapping({**full, "querys_per_day": 3}, "w.yaml")
    with pytest.raises(ConfigurationError, match=r"w.yaml: files_per_day = 'many' is not a valid float"):
        Workload.from_mapping({**full, "files_per_day": "many"}, "w.yaml")
    with pytest.raises(ConfigurationError, match="at least 1"):
        DEFAULT_WORKLOAD.with_values({"files_per_run": "0"})
    with pytest.raises(ConfigurationError, match=r"spark_worker_type = 'G\.3X'") as error:
        DEFAULT_WORKLOAD.with_values({"spark_worker_type": "G.3X"})
    assert "G.1X, G.2X, G.4X, G.8X" in (error.value.hint or "")


def test_command_line_values_are_converted_by_field_type() -> None:
    changed = DEFAULT_WORKLOAD.with_values(
        {"datasets": "3", "private_network": "no", "snapshot_retention_days": "null", "mb_per_file": "2.5"}
    )
    assert (changed.datasets, changed.private_network, changed.snapshot_retention_days, changed.mb_per_file) == (
        3,
        False,
        None,
        2.5,
    )


# -- what lakeport itself does -----------------------------------------------------------------------


def test_state_transitions_per_run_follow_the_state_machine() -> None:
    """The successful path of the ASL: every Choice takes its Default (the python engine by size)."""
    text = resources.files("lakeport.orchestration").joinpath("ingest.asl.json").read_text(encoding="utf-8")
    states = json.loads(text)["States"]
    name, entered = json.loads(text)["StartAt"], 0
    while True:
        entered += 1
        state = states[name]
        if state["Type"] in ("Succeed", "Fail") or state.get("End"):
            break
        name = state["Default"] if state["Type"] == "Choice" else state["Next"]
    assert states[name]["Type"] == "Succeed"
    assert entered == STATE_TRANSITIONS_PER_RUN


def test_interface_endpoint_count_follows_terraform() -> None:
    network = (Path(__file__).resolve().parents[2] / "terraform" / "network.tf").read_text(encoding="utf-8")
    match = re.search(r"interface_endpoint_services\s*=\s*toset\(\[(.*?)\]\)", network, re.S)
    assert match, "terraform/network.tf no longer lists interface_endpoint_services"
    assert len(re.findall(r'"[a-z0-9.-]+"', match.group(1))) == INTERFACE_ENDPOINT_SERVICES
