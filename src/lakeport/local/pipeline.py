"""lakeport's own code plugged into a :class:`~lakeport.local.stack.LocalStack`: the whole pipeline.

* the ingest queue's consumer is the real dispatcher (:class:`lakeport.orchestration.dispatcher.Dispatcher`);
* the notifier Lambda the state machine invokes is the real notifier;
* the Python-shell Glue job runs the real job body, :func:`lakeport.jobs.entry.run_job`, with the
  python engine, on the emulator;
* the Spark Glue job runs the same job body with the Spark engine in a local Spark session: the
  Spark engine reads raw objects and writes its output through the AWS SDK from its tasks, so it
  needs no Hadoop S3 connector to reach the emulator. Where pyspark or Java is missing, or
  ``LAKEPORT_LOCAL_SPARK=off`` is set (a Spark session takes seconds to start), the python engine
  does the run instead (same rows, quarantine and counts) and the run record says so: its engine is
  ``python`` and its reason is the state machine's reason for Spark followed by why.

Between a failed attempt and the next, executions wait ``retry_wait_seconds`` (1 s locally).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Dict, Mapping, Optional

from lakeport.aws import AwsContext
from lakeport.jobs.entry import run_job
from lakeport.local.glue_runner import JobEntry
from lakeport.local.stack import LocalStack
from lakeport.orchestration.dispatcher import Dispatcher
from lakeport.orchestration.notifier import Notifier

LOCAL_RETRY_WAIT_SECONDS = 1
LOCAL_SPARK_VARIABLE = "LAKEPORT_LOCAL_SPARK"


def local_spark_unavailable() -> Optional[str]:
    """Why the Spark job cannot run Spark here, or ``None`` when it can."""
    if os.environ.get(LOCAL_SPARK_VARIABLE, "").strip().lower() in ("off", "0", "false", "no"):
        return f"run by the python engine locally: {LOCAL_SPARK_VARIABLE}=off"
    if importlib.util.find_spec("pyspark") is None:
        return "run by the python engine locally: pyspark is not installed"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and os.path.exists(os.path.join(java_home, "bin", "java"))):
        return "run by the python engine locally: no Java runtime for Spark"
    return None


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
        why_not = local_spark_unavailable()
        if why_not is None:
            run_job(plain, "spark", aws)
            return
        why = plain.get("engine_reason") or "the state machine chose spark"
        plain["engine"] = "python"
        plain["engine_reason"] = f"{why}; {why_not}"
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
    "LOCAL_SPARK_VARIABLE",
    "job_arguments",
    "local_spark_unavailable",
    "python_job_entry",
    "spark_job_entry",
    "wire",
]
