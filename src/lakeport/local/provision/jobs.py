"""The two Glue jobs, their security configuration and the catalog databases (``terraform/glue_jobs.tf``).

The job scripts and the wheel are not uploaded: locally the Glue runner calls the registered
Python entry instead of running the script the job points at.
"""

from __future__ import annotations

from typing import Any, Dict

from lakeport.aws import AwsContext
from lakeport.local.provision.common import exists_ok
from lakeport.local.provision.settings import (
    GLUE_TEMP_PREFIX,
    PYTHON_SHELL_SCRIPT_KEY,
    SPARK_SCRIPT_KEY,
    Settings,
    log_group_names,
    tags,
)
from lakeport.resources import Resources


def security_configuration_name(resources: Resources) -> str:
    return f"{resources.name_prefix}-jobs"


def _security_configuration(aws: AwsContext, resources: Resources, kms_key_arn: str) -> str:
    name = security_configuration_name(resources)
    exists_ok(
        aws.client("glue").create_security_configuration,
        ["AlreadyExistsException"],
        Name=name,
        EncryptionConfiguration={
            "S3Encryption": [{"S3EncryptionMode": "SSE-KMS", "KmsKeyArn": kms_key_arn}],
            "CloudWatchEncryption": {"CloudWatchEncryptionMode": "SSE-KMS", "KmsKeyArn": kms_key_arn},
            "JobBookmarksEncryption": {"JobBookmarksEncryptionMode": "CSE-KMS", "KmsKeyArn": kms_key_arn},
        },
    )
    return name


def _databases(aws: AwsContext, resources: Resources, settings: Settings) -> None:
    glue = aws.client("glue")
    for database in settings.catalog_databases:
        exists_ok(
            glue.create_database,
            ["AlreadyExistsException"],
            DatabaseInput={
                "Name": database,
                "Description": f"lakeport curated tables of the {database} domain ({resources.name_prefix})",
                "LocationUri": f"s3://{resources.curated_bucket}/{database}/",
            },
        )


def job_settings(
    resources: Resources, settings: Settings, role_arns: Dict[str, str], security_configuration: str
) -> Dict[str, Dict[str, Any]]:
    """``CreateJob`` arguments of both jobs (without ``Name`` and tags), keyed by job name."""
    artifacts = f"s3://{resources.artifacts_bucket}"
    wheel = f"{artifacts}/wheels/{settings.wheel_file_name}"
    common: Dict[str, Any] = {
        "MaxRetries": 0,  # the state machine retries, with backoff and a record of each attempt
        "SecurityConfiguration": security_configuration,
        "ExecutionProperty": {"MaxConcurrentRuns": settings.job_max_concurrent_runs},
    }
    python_arguments = {
        **resources.job_arguments(),
        "--library-set": "analytics",
        "--additional-python-modules": wheel,
    }
    spark_arguments = {
        **resources.job_arguments(),
        "--job-language": "python",
        "--additional-python-modules": wheel,
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--continuous-log-logGroup": log_group_names(resources)["glue_jobs"],
        "--enable-glue-datacatalog": "true",
        "--TempDir": f"{artifacts}/{GLUE_TEMP_PREFIX}",
        "--conf": "spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS",
    }
    return {
        resources.python_job_name: {
            **common,
            "Description": "lakeport ingest, Python engine (one machine; the default below the "
            "contract's spark threshold)",
            "Role": role_arns["python-job"],
            "Command": {
                "Name": "pythonshell",
                "PythonVersion": "3.9",
                "ScriptLocation": f"{artifacts}/{PYTHON_SHELL_SCRIPT_KEY}",
            },
            "MaxCapacity": settings.python_job_max_capacity,
            "Timeout": settings.python_job_timeout_minutes,
            "DefaultArguments": python_arguments,
        },
        resources.spark_job_name: {
            **common,
            "Description": "lakeport ingest, Spark engine (inputs above the contract's spark threshold)",
            "Role": role_arns["spark-job"],
            "Command": {
                "Name": "glueetl",
                "PythonVersion": "3",
                "ScriptLocation": f"{artifacts}/{SPARK_SCRIPT_KEY}",
            },
            "GlueVersion": "5.0",
            "WorkerType": settings.spark_worker_type,
            "NumberOfWorkers": settings.spark_number_of_workers,
            "Timeout": settings.spark_job_timeout_minutes,
            "DefaultArguments": spark_arguments,
        },
    }


def glue(
    aws: AwsContext, resources: Resources, settings: Settings, role_arns: Dict[str, str], kms_key_arn: str
) -> Dict[str, str]:
    """Create or update both jobs (and their security configuration and databases)."""
    client = aws.client("glue")
    security_configuration = _security_configuration(aws, resources, kms_key_arn)
    _databases(aws, resources, settings)
    for name, job in job_settings(resources, settings, role_arns, security_configuration).items():
        created = exists_ok(
            client.create_job, ["AlreadyExistsException"], Name=name, Tags=tags(resources, settings), **job
        )
        if created is None:
            client.update_job(JobName=name, JobUpdate=job)
    return {"python": resources.python_job_name, "spark": resources.spark_job_name}


__all__ = ["glue", "job_settings", "security_configuration_name"]
