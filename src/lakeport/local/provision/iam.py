"""IAM roles and the project KMS key.

moto needs a role behind every Glue job, Lambda function and state machine; the roles carry the
names and trust policies of ``terraform/``. Their permission policies are not reproduced: the
emulator does not enforce IAM.
"""

from __future__ import annotations

from typing import Any, Dict

from lakeport.aws import AwsContext
from lakeport.local.provision.common import exists_ok, key_value_tags, policy
from lakeport.local.provision.settings import Settings, role_name, tags
from lakeport.resources import Resources

ROLES = {
    "python-job": ("glue.amazonaws.com", "Glue Python-shell ingest job"),
    "spark-job": ("glue.amazonaws.com", "Glue Spark ingest job"),
    "state-machine": ("states.amazonaws.com", "Step Functions ingest state machine"),
    "dispatcher": ("lambda.amazonaws.com", "Dispatcher Lambda"),
    "notifier": ("lambda.amazonaws.com", "Notifier Lambda"),
}


def _role(aws: AwsContext, resources: Resources, settings: Settings, purpose: str) -> str:
    iam = aws.client("iam")
    service, description = ROLES[purpose]
    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": resources.account_id}},
        }
    )
    name = role_name(resources, purpose)
    created = exists_ok(
        iam.create_role,
        ["EntityAlreadyExists"],
        RoleName=name,
        AssumeRolePolicyDocument=trust,
        Description=description,
        Tags=key_value_tags(tags(resources, settings)),
    )
    if created is not None:
        return str(created["Role"]["Arn"])
    return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def roles(aws: AwsContext, resources: Resources, settings: Settings) -> Dict[str, str]:
    """Role ARNs keyed by purpose (``python-job``, ``spark-job``, ``state-machine``, ...)."""
    return {purpose: _role(aws, resources, settings, purpose) for purpose in ROLES}


def kms_key(aws: AwsContext, resources: Resources, settings: Settings) -> str:
    """The project key (found by its alias, or created with rotation on); returns its ARN."""
    kms = aws.client("kms")
    alias = resources.kms_key_alias()
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == alias and entry.get("TargetKeyId"):
                return str(kms.describe_key(KeyId=entry["TargetKeyId"])["KeyMetadata"]["Arn"])
    key: Dict[str, Any] = kms.create_key(
        Description=f"{resources.name_prefix}: buckets, tables, queues, topic, logs and Glue job data",
        Tags=key_value_tags(tags(resources, settings), "TagKey", "TagValue"),
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


__all__ = ["ROLES", "kms_key", "roles"]
