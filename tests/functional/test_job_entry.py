"""The Glue Python-shell entry point (runs on Python 3.9 in Glue): Glue-style arguments -> one run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakeport.jobs.entry import failure_message, main, parse_arguments
from lakeport.ledger.locks import DatasetLock
from lakeport.manifest import Manifest, write_manifest

pytestmark = pytest.mark.py39


def _arguments(lake, manifest_uri: str, run_id: str) -> list:  # type: ignore[no-untyped-def]
    arguments = {k: v for k, v in lake.resources.job_arguments().items()}
    arguments.update(
        {
            "--dataset": "sales.orders",
            "--run_id": run_id,
            "--manifest": manifest_uri,
            "--engine": "python",
            "--engine_reason": "auto: 600 input bytes < spark threshold 5368709120 bytes",
            "--library-set": "analytics",  # Glue's own arguments are ignored
            "--JOB_RUN_ID": "jr_0123",
        }
    )
    return [item for pair in arguments.items() for item in pair]


def test_a_job_run_ingests_its_manifest(lake, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", lake.aws.endpoint_url)
    lake.apply_example("orders")
    obj = lake.put_example("sales/orders/orders-2024-01-02.csv")
    uri = write_manifest(
        lake.aws.client("s3"),
        lake.resources.artifacts_bucket,
        Manifest("sales.orders", "20260101T000000Z-job00001", [obj]),
    )

    status = main(_arguments(lake, uri, "20260101T000000Z-job00001"))

    assert status == 0
    assert "read 12, written 7, quarantined 5" in capsys.readouterr().out
    run = lake.ingestor.runs.get("sales.orders", "20260101T000000Z-job00001")
    assert run is not None and run.state == "SUCCEEDED" and run.job_run_id == "jr_0123"
    assert run.engine_reason.startswith("auto: 600 input bytes")


def test_a_failed_job_run_says_why_and_marks_transient_errors(lake, monkeypatch, capsys):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", lake.aws.endpoint_url)
    lake.apply_example("orders")
    obj = lake.put_example("sales/orders/orders-2024-01-02.csv")
    uri = write_manifest(
        lake.aws.client("s3"), lake.resources.artifacts_bucket, Manifest("sales.orders", "R-busy", [obj])
    )
    DatasetLock(lake.aws.client("dynamodb"), lake.resources.datasets_table).acquire("sales.orders", "other-run", 600)

    status = main(_arguments(lake, uri, "R-busy"))

    assert status == 1
    assert capsys.readouterr().err.startswith("[transient] DatasetBusyError: ")

    assert main(_arguments(lake, "s3://nowhere/x.json", "R-x")) == 1
    message = capsys.readouterr().err
    assert not message.startswith("[transient]") and "manifest" in message


SCRIPT = Path(__file__).resolve().parents[2] / "src" / "lakeport" / "jobs" / "glue_python_shell.py"


def test_the_job_script_run_as_its_own_process_exits_0_after_an_upsert(lake):  # type: ignore[no-untyped-def]
    """As Glue runs it: the script file, a process of its own. The upsert reads the table back with
    pyarrow, which can abort the interpreter at exit (apache/arrow#33975); the status must stay 0."""
    lake.apply_example("accounts")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": lake.aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    outputs = []
    for n, name in enumerate(("accounts-2024-04-01.csv", "accounts-2024-04-02.csv", "accounts-2024-04-02.csv")):
        obj = lake.put_example(f"finance/accounts/{name}")
        run_id = f"20260101T00000{n}Z-proc000{n}"
        manifest = Manifest("finance.accounts", run_id, [obj])
        uri = write_manifest(lake.aws.client("s3"), lake.resources.artifacts_bucket, manifest)
        arguments = [a if a != "sales.orders" else "finance.accounts" for a in _arguments(lake, uri, run_id)]
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *arguments], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    counts = [out.split("SUCCEEDED; ", 1)[1].strip() for out in outputs]
    assert counts == [
        "read 5, written 5, quarantined 0, duplicates 0",
        "read 5, written 3, quarantined 1, duplicates 1",
        # the same bytes uploaded again: a duplicate delivery, recorded and not read (nothing quarantined twice)
        "read 0, written 0, quarantined 0, duplicates 0",
    ]
    assert len(lake.read_curated("finance.accounts")) == 6  # five accounts, one new on the second day


def test_arguments_are_parsed_the_way_glue_passes_them():  # type: ignore[no-untyped-def]
    parsed = parse_arguments(["--dataset", "a.b", "--run_id=r1", "--flag", "--manifest", "s3://x/y"])
    assert parsed == {"dataset": "a.b", "run_id": "r1", "flag": "", "manifest": "s3://x/y"}
    assert failure_message(ValueError("boom")).startswith("LakeportError: ")
