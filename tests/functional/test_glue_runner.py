"""The local Glue runner executes the registered entry for each job run and reports the outcome."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List

import pytest
from botocore.exceptions import ClientError

from lakeport.errors import InputFileError
from lakeport.local.glue_runner import GlueRunner

ROLE = "arn:aws:iam::123456789012:role/glue"


def create_job(aws: Any, name: str = "job", max_concurrent_runs: int = 1) -> None:
    aws.client("glue").create_job(
        Name=name,
        Role=ROLE,
        Command={"Name": "pythonshell", "ScriptLocation": "s3://artifacts/job.py"},
        DefaultArguments={"--runs_table": "runs", "--mode": "default"},
        ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
    )


def wait_for(runner: GlueRunner, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while runner.busy():
        assert time.monotonic() < deadline, "the job runs did not finish"
        time.sleep(0.05)


def test_a_run_calls_the_entry_with_glue_style_arguments_and_succeeds(aws) -> None:  # type: ignore[no-untyped-def]
    create_job(aws)
    calls: List[Dict[str, str]] = []
    glue = aws.client("glue")

    with GlueRunner() as runner:
        runner.register("job", calls.append)
        run_id = glue.start_job_run(JobName="job", Arguments={"--dataset": "sales.orders", "--mode": "run"})["JobRunId"]
        wait_for(runner)
        run = glue.get_job_run(JobName="job", RunId=run_id)["JobRun"]

    assert run["JobRunState"] == "SUCCEEDED"
    assert "ErrorMessage" not in run
    [arguments] = calls
    assert arguments["--dataset"] == "sales.orders"
    assert arguments["--runs_table"] == "runs"  # from the job's DefaultArguments
    assert arguments["--mode"] == "run"  # the run's own argument wins
    assert arguments["--JOB_NAME"] == "job"
    assert arguments["--JOB_RUN_ID"] == run_id


def test_a_failing_entry_fails_the_run_with_its_message(aws) -> None:  # type: ignore[no-untyped-def]
    create_job(aws)
    glue = aws.client("glue")

    def entry(arguments: Dict[str, str]) -> None:
        raise InputFileError("sales.orders", "in/a.csv", "the file is empty")

    with GlueRunner() as runner:
        runner.register("job", entry)
        run_id = glue.start_job_run(JobName="job")["JobRunId"]
        wait_for(runner)

    run = glue.get_job_run(JobName="job", RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "InputFileError: dataset sales.orders: in/a.csv: the file is empty"
    [record] = runner.records()
    assert (record.state, record.error_message) == ("FAILED", run["ErrorMessage"])


def test_an_entry_named_as_text_is_imported(aws) -> None:  # type: ignore[no-untyped-def]
    create_job(aws)
    glue = aws.client("glue")

    with GlueRunner() as runner:
        runner.register("job", "json:loads")  # called with a dict: raises TypeError, proving it ran
        run_id = glue.start_job_run(JobName="job")["JobRunId"]
        wait_for(runner)

    run = glue.get_job_run(JobName="job", RunId=run_id)["JobRun"]
    assert run["ErrorMessage"].startswith("TypeError: the JSON object must be str")


def test_a_job_without_an_entry_fails_and_says_how_to_register_one(aws) -> None:  # type: ignore[no-untyped-def]
    create_job(aws, name="unregistered")
    glue = aws.client("glue")

    with GlueRunner() as runner:
        run_id = glue.start_job_run(JobName="unregistered")["JobRunId"]
        wait_for(runner)

    run = glue.get_job_run(JobName="unregistered", RunId=run_id)["JobRun"]
    assert run["JobRunState"] == "FAILED"
    assert "no local entry point is registered for Glue job unregistered" in run["ErrorMessage"]


def test_max_concurrent_runs_is_enforced_while_a_run_is_active(aws) -> None:  # type: ignore[no-untyped-def]
    create_job(aws, max_concurrent_runs=1)
    glue = aws.client("glue")
    release = threading.Event()

    with GlueRunner() as runner:
        runner.register("job", lambda arguments: release.wait(10) and None)
        glue.start_job_run(JobName="job")
        with pytest.raises(ClientError) as raised:
            glue.start_job_run(JobName="job")
        release.set()
        wait_for(runner)
        glue.start_job_run(JobName="job")  # accepted again once the first run ended
        wait_for(runner)

    assert raised.value.response["Error"]["Code"] == "ConcurrentRunsExceededException"
    assert [r.state for r in runner.records()] == ["SUCCEEDED", "SUCCEEDED"]
