"""Run metrics land in CloudWatch per dataset (and per dataset and engine)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import pytest

from lakeport.metrics import publish_run_metrics

pytestmark = pytest.mark.py39


def publish(cloudwatch, dataset: str, engine: Optional[str], now: datetime) -> int:  # type: ignore[no-untyped-def]
    return publish_run_metrics(
        cloudwatch,
        "Lakeport",
        dataset,
        rows_read=1000,
        rows_written=940,
        rows_quarantined=50,
        rows_duplicate=10,
        bytes_read=123456,
        seconds=12.5,
        files_failed=1,
        files_quarantined=2,
        engine=engine,
        timestamp=now,
    )


def stat(cloudwatch, name: str, dimensions: List[Dict[str, str]], now: datetime) -> Dict[str, Any]:  # type: ignore[no-untyped-def]
    points = cloudwatch.get_metric_statistics(
        Namespace="Lakeport",
        MetricName=name,
        Dimensions=dimensions,
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Sum", "Maximum"],
    )["Datapoints"]
    assert len(points) == 1, name
    return points[0]  # type: ignore[no-any-return]


def test_run_metrics_per_dataset_can_be_read_back(aws) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cloudwatch = aws.client("cloudwatch")
    assert publish(cloudwatch, "sales.orders", engine=None, now=now) == 9
    dataset = [{"Name": "Dataset", "Value": "sales.orders"}]
    assert stat(cloudwatch, "RowsRead", dataset, now)["Sum"] == 1000
    assert stat(cloudwatch, "RowsWritten", dataset, now)["Sum"] == 940
    assert stat(cloudwatch, "RowsQuarantined", dataset, now)["Sum"] == 50
    assert stat(cloudwatch, "RowsDuplicate", dataset, now)["Sum"] == 10
    bytes_read = stat(cloudwatch, "BytesRead", dataset, now)
    assert (bytes_read["Sum"], bytes_read["Unit"]) == (123456, "Bytes")
    duration = stat(cloudwatch, "DurationSeconds", dataset, now)
    assert (duration["Maximum"], duration["Unit"]) == (12.5, "Seconds")
    assert stat(cloudwatch, "FilesFailed", dataset, now)["Sum"] == 1
    assert stat(cloudwatch, "FilesQuarantined", dataset, now)["Sum"] == 2
    assert stat(cloudwatch, "QuarantineRatio", dataset, now)["Maximum"] == pytest.approx(0.05)


def test_run_metrics_per_dataset_and_engine(aws) -> None:  # type: ignore[no-untyped-def]
    # (the emulator also counts these under the Dataset-only query, CloudWatch does not: not asserted)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    cloudwatch = aws.client("cloudwatch")
    assert publish(cloudwatch, "sales.returns", engine="spark", now=now) == 18
    with_engine = [{"Name": "Dataset", "Value": "sales.returns"}, {"Name": "Engine", "Value": "spark"}]
    assert stat(cloudwatch, "RowsRead", with_engine, now)["Sum"] == 1000
    assert stat(cloudwatch, "QuarantineRatio", with_engine, now)["Maximum"] == pytest.approx(0.05)
