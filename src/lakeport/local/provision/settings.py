"""The deployment settings provisioning uses: ``terraform/variables.tf`` defaults, plus local ones.

Only two values differ from Terraform on purpose, both to keep local runs fast: the Glue jobs'
``MaxConcurrentRuns`` (2 instead of 10, so the concurrency limit is easy to reach in tests) and the
ingest queue's visibility timeout (3 s instead of six times the dispatcher timeout, so a message the
dispatcher reported as failed comes back in seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Tuple

from lakeport.resources import Resources

LOCAL_MAX_CONCURRENT_RUNS = 2
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class Settings:
    """Values Terraform takes from variables (same names, same defaults unless noted)."""

    job_max_concurrent_runs: int = LOCAL_MAX_CONCURRENT_RUNS  # terraform default: 10
    ingest_visibility_timeout_seconds: int = LOCAL_VISIBILITY_TIMEOUT_SECONDS  # terraform: 6 x 120
    python_job_max_capacity: float = 0.0625
    python_job_timeout_minutes: int = 60
    spark_job_timeout_minutes: int = 120
    spark_worker_type: str = "G.1X"
    spark_number_of_workers: int = 2
    dispatcher_timeout_seconds: int = 120
    dispatcher_batch_size: int = 100
    dispatcher_batching_window_seconds: int = 60
    lambda_reserved_concurrency: int = 5
    dlq_max_receive_count: int = 5
    raw_transition_to_ia_days: int = 30
    raw_transition_to_glacier_days: int = 90
    noncurrent_version_expiration_days: int = 90
    quarantine_expiration_days: int = 180
    athena_results_expiration_days: int = 7
    access_log_expiration_days: int = 365
    log_retention_days: int = 365
    athena_bytes_scanned_cutoff_per_query: int = 10 * 1024**3
    catalog_databases: Tuple[str, ...] = ("sales", "iot", "finance")
    wheel_file_name: str = "lakeport-0.1.0-py3-none-any.whl"
    lambda_package_file_name: str = "lakeport-lambda.zip"
    environment: str = "local"
    extra_tags: Dict[str, str] = field(default_factory=dict)


# Fixed names and values from terraform/ that are not variables.
GLUE_TEMP_PREFIX = "glue-temp/"
PYTHON_SHELL_SCRIPT_KEY = "glue/scripts/glue_python_shell.py"
SPARK_SCRIPT_KEY = "glue/scripts/glue_spark.py"
LAMBDA_RUNTIME = "python3.11"
DISPATCHER_HANDLER = "lakeport.orchestration.dispatcher.handler"
NOTIFIER_HANDLER = "lakeport.orchestration.notifier.handler"
INGEST_MESSAGE_RETENTION_SECONDS = 345600
DLQ_MESSAGE_RETENTION_SECONDS = 1209600


def tags(resources: Resources, settings: Settings) -> Dict[str, str]:
    """The provider's ``default_tags``."""
    return {
        **settings.extra_tags,
        "Project": "lakeport",
        "Environment": settings.environment,
        "ManagedBy": "lakeport-local",
    }


def access_logs_bucket(resources: Resources) -> str:
    return f"{resources.name_prefix}-{resources.account_id}-access-logs"


def role_name(resources: Resources, purpose: str) -> str:
    """``python-job``, ``spark-job``, ``state-machine``, ``dispatcher``, ``notifier``."""
    return f"{resources.name_prefix}-{purpose}"


def log_group_names(resources: Resources) -> Dict[str, str]:
    return {
        "state_machine": f"/aws/vendedlogs/states/{resources.state_machine_name}",
        "dispatcher": f"/aws/lambda/{resources.dispatcher_function_name()}",
        "notifier": f"/aws/lambda/{resources.notifier_function_name()}",
        "glue_jobs": f"/aws-glue/jobs/{resources.name_prefix}",
    }


__all__ = [
    "LOCAL_MAX_CONCURRENT_RUNS",
    "LOCAL_VISIBILITY_TIMEOUT_SECONDS",
    "Settings",
    "access_logs_bucket",
    "log_group_names",
    "role_name",
    "tags",
]
