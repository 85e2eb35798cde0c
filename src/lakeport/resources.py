"""The names of everything lakeport uses in an AWS account.

Terraform creates the resources; lakeport only ever reads their names from here. The same naming
rule is implemented in ``terraform/main.tf`` (``locals``) and in :meth:`Resources.for_deployment`,
so the embedded emulator provisions exactly what Terraform would. On AWS, the Glue jobs receive the
names as job arguments and the CLI can read them from ``terraform output -json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from .errors import ConfigurationError

LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"
LOCAL_NAME_PREFIX = "lakeport-local"
METRICS_NAMESPACE = "Lakeport"


@dataclass(frozen=True)
class Resources:
    """Names of one deployment's buckets, tables, jobs, queues and topics."""

    name_prefix: str
    account_id: str
    region: str
    raw_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    artifacts_bucket: str
    athena_results_bucket: str
    datasets_table: str
    files_table: str
    runs_table: str
    state_machine_name: str
    python_job_name: str
    spark_job_name: str
    ingest_queue_name: str
    ingest_dlq_name: str
    alerts_topic_name: str
    athena_workgroup: str
    metrics_namespace: str = METRICS_NAMESPACE

    @classmethod
    def for_deployment(
        cls,
        name_prefix: str = LOCAL_NAME_PREFIX,
        account_id: str = LOCAL_ACCOUNT_ID,
        region: str = LOCAL_REGION,
    ) -> Resources:
        """The names Terraform gives a deployment called ``name_prefix`` in ``account_id``."""
        bucket = f"{name_prefix}-{account_id}"
        return cls(
            name_prefix=name_prefix,
            account_id=account_id,
            region=region,
            raw_bucket=f"{bucket}-raw",
            curated_bucket=f"{bucket}-curated",
            quarantine_bucket=f"{bucket}-quarantine",
            artifacts_bucket=f"{bucket}-artifacts",
            athena_results_bucket=f"{bucket}-athena",
            datasets_table=f"{name_prefix}-datasets",
            files_table=f"{name_prefix}-files",
            runs_table=f"{name_prefix}-runs",
            state_machine_name=f"{name_prefix}-ingest",
            python_job_name=f"{name_prefix}-ingest-python",
            spark_job_name=f"{name_prefix}-ingest-spark",
            ingest_queue_name=f"{name_prefix}-ingest",
            ingest_dlq_name=f"{name_prefix}-ingest-dlq",
            alerts_topic_name=f"{name_prefix}-alerts",
            athena_workgroup=name_prefix,
        )

    # terraform output name -> field
    _OUTPUTS = {
        "name_prefix": "name_prefix",
        "account_id": "account_id",
        "region": "region",
        "raw_bucket_name": "raw_bucket",
        "curated_bucket_name": "curated_bucket",
        "quarantine_bucket_name": "quarantine_bucket",
        "artifacts_bucket_name": "artifacts_bucket",
        "athena_results_bucket_name": "athena_results_bucket",
        "datasets_table_name": "datasets_table",
        "files_table_name": "files_table",
        "runs_table_name": "runs_table",
        "ingest_state_machine_name": "state_machine_name",
        "python_job_name": "python_job_name",
        "spark_job_name": "spark_job_name",
        "ingest_queue_name": "ingest_queue_name",
        "ingest_dlq_name": "ingest_dlq_name",
        "alerts_topic_name": "alerts_topic_name",
        "athena_workgroup_name": "athena_workgroup",
        "metrics_namespace": "metrics_namespace",
    }

    @classmethod
    def from_terraform_outputs(cls, outputs: Mapping[str, Any]) -> Resources:
        """Build from ``terraform output -json`` (values may be wrapped as ``{"value": ...}``)."""
        values: Dict[str, str] = {}
        for output, field_name in cls._OUTPUTS.items():
            if output not in outputs:
                continue
            value = outputs[output]
            values[field_name] = value["value"] if isinstance(value, dict) and "value" in value else value
        missing = [f.name for f in fields(cls) if f.name not in values and f.name != "metrics_namespace"]
        if missing:
            raise ConfigurationError(
                f"terraform outputs lack {', '.join(missing)}",
                hint="run 'terraform output -json' in terraform/ after 'terraform apply'",
            )
        return cls(**values)

    @classmethod
    def from_outputs_file(cls, path: str) -> Resources:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read deployment outputs from {path}: {exc}") from None
        return cls.from_terraform_outputs(data)

    @classmethod
    def from_environment(
        cls, environ: Optional[Mapping[str, str]] = None, account_id: Optional[str] = None
    ) -> Resources:
        """``LAKEPORT_OUTPUTS`` (a terraform output file) wins; else ``LAKEPORT_NAME_PREFIX`` + account."""
        env = os.environ if environ is None else environ
        if env.get("LAKEPORT_OUTPUTS"):
            return cls.from_outputs_file(env["LAKEPORT_OUTPUTS"])
        return cls.for_deployment(
            name_prefix=env.get("LAKEPORT_NAME_PREFIX", LOCAL_NAME_PREFIX),
            account_id=account_id or env.get("LAKEPORT_ACCOUNT_ID", LOCAL_ACCOUNT_ID),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or LOCAL_REGION,
        )

    def as_dict(self) -> Dict[str, str]:
        return asdict(self)

    def job_arguments(self) -> Dict[str, str]:
        """The ``--name value`` defaults every Glue job run gets (Terraform sets the same)."""
        return {
            "--datasets_table": self.datasets_table,
            "--files_table": self.files_table,
            "--runs_table": self.runs_table,
            "--raw_bucket": self.raw_bucket,
            "--curated_bucket": self.curated_bucket,
            "--quarantine_bucket": self.quarantine_bucket,
            "--artifacts_bucket": self.artifacts_bucket,
            "--metrics_namespace": self.metrics_namespace,
        }

    # Names derived from the prefix by the same rule in terraform/ (no terraform output needed).

    def dispatcher_function_name(self) -> str:
        return f"{self.name_prefix}-dispatcher"

    def notifier_function_name(self) -> str:
        return f"{self.name_prefix}-notifier"

    def function_arn(self, function_name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function_name}"

    def raw_events_rule_name(self) -> str:
        return f"{self.name_prefix}-raw-object-created"

    def kms_key_alias(self) -> str:
        return f"alias/{self.name_prefix}"

    def state_machine_arn(self) -> str:
        return f"arn:aws:states:{self.region}:{self.account_id}:stateMachine:{self.state_machine_name}"

    def alerts_topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{self.alerts_topic_name}"
