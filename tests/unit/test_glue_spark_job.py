"""The Glue Spark job script: Glue-style arguments in, lakeport's one-line error out."""

from __future__ import annotations

import sys
import types
from typing import Any, Dict, List

import pytest

from lakeport.errors import DatasetBusyError, InputFileError
from lakeport.jobs import glue_spark

ARGV = [
    "glue_spark.py",
    "--dataset", "sales.orders",
    "--run_id", "20260101T000000Z-abc",
    "--manifest", "s3://artifacts/manifests/sales.orders/20260101T000000Z-abc.json",
    "--engine", "spark",
    "--engine_reason", "auto: 6000000000 input bytes >= spark threshold 5368709120 bytes",
    "--datasets_table", "lp-datasets",
    "--JOB_ID", "j_1",
]  # fmt: skip


def test_arguments_without_awsglue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "awsglue", None)  # import fails as outside Glue
    arguments = glue_spark.resolve_arguments(ARGV)
    assert arguments["dataset"] == "sales.orders"
    assert arguments["engine_reason"].startswith("auto: 6000000000 input bytes")
    assert arguments["datasets_table"] == "lp-datasets"


def test_arguments_with_awsglue_ask_only_for_what_was_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: List[List[str]] = []

    def get_resolved_options(argv: List[str], names: List[str]) -> Dict[str, str]:
        asked.append(names)
        return {n: argv[argv.index(f"--{n}") + 1] for n in names}

    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "awsglue", types.ModuleType("awsglue"))
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)

    arguments = glue_spark.resolve_arguments(ARGV)

    assert set(asked[0]) == {"dataset", "run_id", "manifest", "engine", "engine_reason", "datasets_table"}
    assert arguments["run_id"] == "20260101T000000Z-abc"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DatasetBusyError("sales.orders is held by run r0"), "[transient] DatasetBusyError: sales.orders is held"),
        (InputFileError("sales.orders", "s3://raw/x.csv", "cannot be read"), "InputFileError: dataset sales.orders"),
    ],
)
def test_a_failed_run_raises_with_the_one_line_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception, expected: str
) -> None:
    monkeypatch.setitem(sys.modules, "awsglue", None)

    def failing(arguments: Any, engine_name: str) -> None:
        assert engine_name == "spark"
        raise error

    monkeypatch.setattr(glue_spark, "run_job", failing)
    with pytest.raises(glue_spark.JobFailed) as raised:
        glue_spark.main(ARGV)
    assert str(raised.value).startswith(expected)
    assert capsys.readouterr().err.startswith(expected)
