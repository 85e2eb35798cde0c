"""CloudWatch metrics of one ingest run, per dataset (and per dataset and engine).

Alarms and the dashboard read these: rows in and out, quarantined and duplicate rows, bytes,
duration, failed and quarantined files, and the share of rows quarantined (0-1).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from .aws import translate
from .clock import as_utc

_MAX_DATA_PER_CALL = 20  # the conservative PutMetricData limit, valid for every SDK version


def run_metric_data(
    dataset: str,
    *,
    rows_read: int,
    rows_written: int,
    rows_quarantined: int,
    rows_duplicate: int,
    bytes_read: int,
    seconds: float,
    files_failed: int,
    files_quarantined: int,
    engine: Optional[str] = None,
    timestamp: Optional[datetime] = None,
) -> List[Dict[str, Any]]:
    """The ``MetricData`` of one run: every metric with the ``Dataset`` dimension, and again with
    ``Dataset`` + ``Engine`` when the engine is known."""
    ratio = rows_quarantined / rows_read if rows_read else 0.0
    values = [
        ("RowsRead", rows_read, "Count"),
        ("RowsWritten", rows_written, "Count"),
        ("RowsQuarantined", rows_quarantined, "Count"),
        ("RowsDuplicate", rows_duplicate, "Count"),
        ("BytesRead", bytes_read, "Bytes"),
        ("DurationSeconds", seconds, "Seconds"),
        ("FilesFailed", files_failed, "Count"),
        ("FilesQuarantined", files_quarantined, "Count"),
        ("QuarantineRatio", min(max(ratio, 0.0), 1.0), "None"),
    ]
    dimension_sets = [[{"Name": "Dataset", "Value": dataset}]]
    if engine:
        dimension_sets.append([{"Name": "Dataset", "Value": dataset}, {"Name": "Engine", "Value": engine}])
    when = as_utc(timestamp)
    return [
        {"MetricName": name, "Dimensions": dims, "Value": float(value), "Unit": unit, "Timestamp": when}
        for dims in dimension_sets
        for name, value, unit in values
    ]


def publish_run_metrics(
    cloudwatch_client: Any,
    namespace: str,
    dataset: str,
    *,
    rows_read: int,
    rows_written: int,
    rows_quarantined: int,
    rows_duplicate: int,
    bytes_read: int,
    seconds: float,
    files_failed: int,
    files_quarantined: int,
    engine: Optional[str] = None,
    timestamp: Optional[datetime] = None,
) -> int:
    """Put the run's metrics into ``namespace``; returns how many data points were sent."""
    data = run_metric_data(
        dataset,
        rows_read=rows_read,
        rows_written=rows_written,
        rows_quarantined=rows_quarantined,
        rows_duplicate=rows_duplicate,
        bytes_read=bytes_read,
        seconds=seconds,
        files_failed=files_failed,
        files_quarantined=files_quarantined,
        engine=engine,
        timestamp=timestamp,
    )
    for start in range(0, len(data), _MAX_DATA_PER_CALL):
        try:
            cloudwatch_client.put_metric_data(Namespace=namespace, MetricData=data[start : start + _MAX_DATA_PER_CALL])
        except ClientError as exc:
            raise translate(exc, f"publishing the run metrics of dataset {dataset}") from exc
    return len(data)
