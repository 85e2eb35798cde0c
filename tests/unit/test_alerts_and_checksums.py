"""The alert a failed run sends, and the checksums an upload compares with what S3 reports."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import pytest

from lakeport.errors import ConfigurationError
from lakeport.ledger.files import SourceObject
from lakeport.orchestration.notifier import FailedRun, Recorded, diagnose, message, subject
from lakeport.resources import Resources
from lakeport.upload import UploadSettings, collect_files, default_delivery_id, fingerprint

RESOURCES = Resources.for_deployment()


def failed_run(error: str, cause: str, dataset: str = "sales.orders") -> FailedRun:
    return FailedRun.from_event(
        {
            "dataset": dataset,
            "run_id": "20240601T120005Z-0123456789abcdef",
            "manifest": "s3://artifacts/manifests/sales.orders/r.json",
            "error": {"Error": error, "Cause": cause},
            "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:ingest:r",
        }
    )


def test_the_alert_carries_the_jobs_own_error_message_and_where_to_look() -> None:
    cause = json.dumps(
        {
            "Id": "jr_42",
            "JobName": RESOURCES.python_job_name,
            "JobRunState": "FAILED",
            "ErrorMessage": "InputFileError: dataset sales.orders: s3://raw/a.csv: the header has 3 columns",
        }
    )
    failed = failed_run("States.TaskFailed", cause)
    diagnosis = diagnose(failed)
    recorded = Recorded(
        objects=[SourceObject("raw", "sales/orders/a.csv", "v1", "e", 10)],
        marked_failed=["s3://raw/sales/orders/a.csv"],
        run_recorded=True,
    )

    text = message(failed, diagnosis, recorded, RESOURCES)

    assert (
        subject(failed, diagnosis)
        == "lakeport: sales.orders run 20240601T120005Z-0123456789abcdef failed (InputFileError)"
    )
    assert "error      InputFileError: dataset sales.orders: s3://raw/a.csv: the header has 3 columns" in text
    assert "/aws-glue/python-jobs/* (log stream jr_42)" in text
    assert "lakeport runs sales.orders" in text
    assert "replay: lakeport replay sales.orders --run 20240601T120005Z-0123456789abcdef" in text
    assert "or: lakeport ingest sales.orders s3://raw/sales/orders/a.csv" in text
    assert "files marked FAILED: 1" in text


def test_a_transient_cause_that_outlasted_the_retries_is_called_so() -> None:
    cause = json.dumps({"JobRunState": "FAILED", "ErrorMessage": "[transient] DatasetBusyError: locked by run r0"})
    failed = failed_run("States.TaskFailed", cause)
    diagnosis = diagnose(failed)
    assert diagnosis.transient
    assert subject(failed, diagnosis).endswith("(DatasetBusyError)")
    assert "outlasted the retries" in message(failed, diagnosis, Recorded(), RESOURCES)
    limited = diagnose(failed_run("Glue.ConcurrentRunsExceededException", "Concurrent runs exceeded"))
    assert limited.transient and "stayed at its MaxConcurrentRuns for the whole capacity wait" in limited.message


def test_the_subject_stays_under_the_sns_limit_and_in_ascii() -> None:
    failed = failed_run("States.Runtime", "boom", dataset="a" * 90 + ".é")
    text = subject(failed, diagnose(failed))
    assert len(text) < 100 and text.isascii() and "\n" not in text


def test_a_payload_without_dataset_or_run_is_refused() -> None:
    with pytest.raises(ValueError, match="dataset and run_id"):
        FailedRun.from_event({"error": {}})


def test_the_expected_checksum_matches_s3s_full_and_composite_sha256(tmp_path: Path) -> None:
    data = os.urandom(11 * 1024 * 1024 + 3)
    big, small = tmp_path / "big.bin", tmp_path / "small.bin"
    big.write_bytes(data)
    small.write_bytes(data[:1000])
    settings = UploadSettings(part_size=5 * 1024 * 1024, multipart_threshold=5 * 1024 * 1024)

    one = fingerprint(small, "small.bin", settings)
    parts = fingerprint(big, "big.bin", settings)

    assert one.checksum == base64.b64encode(hashlib.sha256(data[:1000]).digest()).decode()
    chunks = [data[i : i + 5 * 1024 * 1024] for i in range(0, len(data), 5 * 1024 * 1024)]
    composite = hashlib.sha256(b"".join(hashlib.sha256(c).digest() for c in chunks)).digest()
    assert len(chunks) == 3 and parts.checksum == base64.b64encode(composite).decode()
    assert parts.sha256 == hashlib.sha256(data).hexdigest()


def test_a_folder_delivers_its_visible_files_and_the_same_files_give_the_same_delivery(tmp_path: Path) -> None:
    (tmp_path / "day" / ".cache").mkdir(parents=True)
    (tmp_path / "day" / "a.csv").write_text("x\n1\n")
    (tmp_path / "day" / "_tmp.csv").write_text("partial")
    (tmp_path / "day" / ".cache" / "b.csv").write_text("hidden")
    (tmp_path / "top.csv").write_text("y\n2\n")

    found = collect_files([tmp_path / "day", tmp_path / "top.csv"])

    assert [relative for _, relative in found] == ["a.csv", "top.csv"]
    files = [fingerprint(path, relative, UploadSettings()) for path, relative in found]
    assert default_delivery_id(files) == default_delivery_id(list(reversed(files)))
    (tmp_path / "top.csv").write_text("y\n3\n")
    changed = [fingerprint(path, relative, UploadSettings()) for path, relative in found]
    assert default_delivery_id(changed) != default_delivery_id(files)
    with pytest.raises(ConfigurationError, match=r"same key: top\.csv"):
        collect_files([tmp_path / "top.csv", tmp_path / "top.csv"])
