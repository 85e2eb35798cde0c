"""Create every lakeport resource in the embedded emulator, with the names and settings Terraform uses.

Names come from :class:`lakeport.resources.Resources`; settings mirror ``terraform/`` (see
:mod:`.settings` for the two values that differ locally, and the module docstrings of :mod:`.storage`
and :mod:`.flow` for what is deliberately left out because moto would enforce it against lakeport's
own plain-HTTP requests, or because the local stack plays the part itself).

Provisioning is idempotent: run again, it leaves what exists and completes what is missing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Optional

from lakeport.aws import AwsContext
from lakeport.local.provision import flow, iam, jobs, storage
from lakeport.local.provision.settings import (
    LOCAL_MAX_CONCURRENT_RUNS,
    LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    Settings,
)
from lakeport.local.provision.storage import table_definitions
from lakeport.resources import Resources

DEFAULT_MAX_CONCURRENT_RUNS = LOCAL_MAX_CONCURRENT_RUNS


@dataclass(frozen=True)
class Provisioned:
    """What :func:`provision` created (or found), for the local stack and ``lakeport local up``."""

    kms_key_arn: str
    buckets: Dict[str, str]
    table_arns: Dict[str, str]
    ingest_queue_url: str
    ingest_queue_arn: str
    ingest_dlq_url: str
    ingest_dlq_arn: str
    alerts_topic_arn: str
    raw_events_rule_arn: str
    job_names: Dict[str, str]
    dispatcher_function_arn: str
    notifier_function_arn: str
    state_machine_arn: str
    athena_workgroup: str
    role_arns: Dict[str, str]
    log_group_arns: Dict[str, str]

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def provision(
    aws: AwsContext,
    resources: Resources,
    settings: Optional[Settings] = None,
    *,
    max_concurrent_runs: Optional[int] = None,
    visibility_timeout_seconds: Optional[int] = None,
) -> Provisioned:
    """Create (or complete) the deployment ``resources`` names, in the emulator ``aws`` points at.

    ``max_concurrent_runs`` and ``visibility_timeout_seconds`` override the two local settings.
    """
    settings = settings or Settings()
    if max_concurrent_runs is not None:
        settings = replace(settings, job_max_concurrent_runs=max_concurrent_runs)
    if visibility_timeout_seconds is not None:
        settings = replace(settings, ingest_visibility_timeout_seconds=visibility_timeout_seconds)

    key = iam.kms_key(aws, resources, settings)
    roles = iam.roles(aws, resources, settings)
    buckets = storage.buckets(aws, resources, settings, key)
    table_arns = storage.tables(aws, resources, settings, key)
    log_groups = flow.log_groups(aws, resources, settings, key)
    events = flow.events_path(aws, resources, settings, key)
    topic_arn = flow.alerts_topic(aws, resources, settings, key)
    job_names = jobs.glue(aws, resources, settings, roles, key)
    functions = flow.functions(aws, resources, settings, roles, key)
    state_machine_arn = flow.state_machine(
        aws, resources, roles["state-machine"], functions["notifier"], log_groups["state_machine"]
    )
    workgroup = flow.athena_workgroup(aws, resources, settings, key)
    return Provisioned(
        kms_key_arn=key,
        buckets=buckets,
        table_arns=table_arns,
        ingest_queue_url=events["queue_url"],
        ingest_queue_arn=events["queue_arn"],
        ingest_dlq_url=events["dlq_url"],
        ingest_dlq_arn=events["dlq_arn"],
        alerts_topic_arn=topic_arn,
        raw_events_rule_arn=events["rule_arn"],
        job_names=job_names,
        dispatcher_function_arn=functions["dispatcher"],
        notifier_function_arn=functions["notifier"],
        state_machine_arn=state_machine_arn,
        athena_workgroup=workgroup,
        role_arns=roles,
        log_group_arns=log_groups,
    )


__all__ = [
    "DEFAULT_MAX_CONCURRENT_RUNS",
    "LOCAL_VISIBILITY_TIMEOUT_SECONDS",
    "Provisioned",
    "Settings",
    "provision",
    "table_definitions",
]
