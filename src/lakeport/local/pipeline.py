"""lakeport's own code plugged into a :class:`~lakeport.local.stack.LocalStack`: the whole pipeline.

* the ingest queue's consumer is the real dispatcher (:class:`lakeport.orchestration.dispatcher.Dispatcher`);
* the notifier Lambda the state machine invokes is the real notifier;
* the Python-shell Glue job runs the real job body, :func:`lakeport.jobs.entry.run_job`, with the
  python engine, on the emulator;
* the Spark Glue job also runs the python engine: Spark cannot read the emulator's S3 (there is no
  s3a connector on this machine), so locally a run the state machine sends to Spark is done by the
  python engine, which produces the same rows, quarantine and counts. The run record says so: its
  engine is ``python`` and its reason is the state machine's reason for Spark followed by
  :data:`SPARK_RUNS_LOCALLY_AS_PYTHON`.

Between a failed attempt and the next, executions wait ``retry_wait_seconds`` (1 s locally).
"""

from __future__ import annotations

from typing import Dict, Mapping

from lakeport.aws import AwsContext
from lakeport.jobs.entry import run_job
from lakeport.local.glue_runner import JobEntry
from lakeport.local.stack import LocalStack
from lakeport.orchestration.dispatcher import Dispatcher
from lakeport.orchestration.notifier import Notifier

LOCAL_RETRY_WAIT_SECONDS = 1
SPARK_RUNS_LOCALLY_AS_PYTHON = (
    "run by the python engine locally: Spark cannot read the embedded emulator's S3 (no s3a connector)"
)


def job_arguments(arguments: Mapping[str, str]) -> Dict[str, str]:
    """Glue's ``--name value`` arguments as ``run_job`` takes them (names without the dashes)."""
    return {name.lstrip("-"): str(value) for name, value in arguments.items()}


def python_job_entry(aws: AwsContext) -> JobEntry:
    def entry(arguments: Dict[str, str]) -> None:
        run_job(job_arguments(arguments), "python", aws)

    return entry


def spark_job_entry(aws: AwsContext) -> JobEntry:
    def entry(arguments: Dict[str, str]) -> None:
        plain = job_arguments(arguments)
        why = plain.get("engine_reason") or "the state machine chose spark"
        plain["engine"] = "python"
        plain["engine_reason"] = f"{why}; {SPARK_RUNS_LOCALLY_AS_PYTHON}"
        run_job(plain, "python", aws)

    return entry


def wire(stack: LocalStack, retry_wait_seconds: int = LOCAL_RETRY_WAIT_SECONDS) -> Dispatcher:
    """Register the dispatcher, the notifier and both job entries on a started stack."""
    aws = stack.aws
    dispatcher = Dispatcher(aws, stack.resources, retry_wait_seconds=retry_wait_seconds)
    stack.set_notifier(Notifier(aws, stack.resources).handle)
    stack.register_job("python", python_job_entry(aws))
    stack.register_job("spark", spark_job_entry(aws))
    stack.set_dispatcher(dispatcher.handle)
    return dispatcher


__all__ = [
    "LOCAL_RETRY_WAIT_SECONDS",
    "SPARK_RUNS_LOCALLY_AS_PYTHON",
    "job_arguments",
    "python_job_entry",
    "spark_job_entry",
    "wire",
]
