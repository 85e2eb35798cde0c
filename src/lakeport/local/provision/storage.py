"""Buckets and tables, with the settings of ``terraform/main.tf`` and ``terraform/dynamodb.tf``.

Not reproduced locally, because moto would then refuse lakeport's own requests: the bucket policies
(moto evaluates ``aws:SecureTransport`` and denies every plain-HTTP call to the emulator; it also
denies every put under the encryption conditions) and server access logging (moto requires log
delivery ACL grants that an ``BucketOwnerEnforced`` bucket cannot have). Everything else is.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from lakeport.aws import AwsContext
from lakeport.local.provision.common import exists_ok, key_value_tags
from lakeport.local.provision.settings import GLUE_TEMP_PREFIX, Settings, access_logs_bucket, tags
from lakeport.resources import Resources

# --- S3 ------------------------------------------------------------------------------------------


def data_buckets(resources: Resources) -> Dict[str, str]:
    """The KMS-encrypted buckets, keyed by zone (as ``local.data_buckets`` in Terraform)."""
    return {
        "raw": resources.raw_bucket,
        "curated": resources.curated_bucket,
        "quarantine": resources.quarantine_bucket,
        "artifacts": resources.artifacts_bucket,
        "athena": resources.athena_results_bucket,
    }


VERSIONED_ZONES = ("raw", "curated", "quarantine", "artifacts")


def _rule(rule_id: str, prefix: Optional[str], **actions: Any) -> Dict[str, Any]:
    return {
        "ID": rule_id,
        "Status": "Enabled",
        "Filter": {} if prefix is None else {"Prefix": prefix},
        **actions,
    }


def lifecycle_rules(zone: str, settings: Settings) -> List[Dict[str, Any]]:
    """The housekeeping rule every data bucket gets, then the zone's own rules."""
    rules = [
        _rule(
            "housekeeping",
            None,
            AbortIncompleteMultipartUpload={"DaysAfterInitiation": 7},
            NoncurrentVersionExpiration={"NoncurrentDays": settings.noncurrent_version_expiration_days},
        )
    ]
    if zone == "raw":
        transitions = [
            {"Days": settings.raw_transition_to_ia_days, "StorageClass": "STANDARD_IA"},
            {"Days": settings.raw_transition_to_glacier_days, "StorageClass": "GLACIER"},
        ]
        rules.append(_rule("age-out-ingested-files", "", Transitions=transitions))
    elif zone == "quarantine":
        rules.append(_rule("expire-quarantine", "", Expiration={"Days": settings.quarantine_expiration_days}))
    elif zone == "artifacts":
        rules.append(_rule("expire-glue-temp", GLUE_TEMP_PREFIX, Expiration={"Days": 7}))
    elif zone == "athena":
        rules.append(_rule("expire-query-results", "", Expiration={"Days": settings.athena_results_expiration_days}))
    return rules


def _bucket(aws: AwsContext, resources: Resources, settings: Settings, name: str, encryption: Dict[str, Any]) -> None:
    s3 = aws.client("s3")
    kwargs: Dict[str, Any] = {"Bucket": name}
    if resources.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": resources.region}
    exists_ok(s3.create_bucket, ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"], **kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [encryption]})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": key_value_tags(tags(resources, settings))})


def buckets(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> Dict[str, str]:
    """Create the five data buckets and the access-logs bucket; returns bucket names by zone."""
    s3 = aws.client("s3")
    kms = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn},
        "BucketKeyEnabled": True,
    }
    zones = data_buckets(resources)
    for zone, name in zones.items():
        _bucket(aws, resources, settings, name, kms)
        if zone in VERSIONED_ZONES:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_lifecycle_configuration(
            Bucket=name, LifecycleConfiguration={"Rules": lifecycle_rules(zone, settings)}
        )
    s3.put_bucket_notification_configuration(
        Bucket=resources.raw_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    logs = access_logs_bucket(resources)
    _bucket(aws, resources, settings, logs, {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}})
    expire_logs = _rule(
        "expire-logs",
        None,
        Expiration={"Days": settings.access_log_expiration_days},
        AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1},
    )
    s3.put_bucket_lifecycle_configuration(Bucket=logs, LifecycleConfiguration={"Rules": [expire_logs]})
    return {**zones, "access_logs": logs}


# --- DynamoDB ------------------------------------------------------------------------------------


def _attributes(*pairs: tuple[str, str]) -> List[Dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in pairs]


def _key(hash_key: str, range_key: str) -> List[Dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def _index(name: str, hash_key: str, range_key: str) -> Dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": _key(hash_key, range_key),
        "Projection": {"ProjectionType": "ALL"},
    }


def table_definitions(resources: Resources) -> Dict[str, Dict[str, Any]]:
    """``CreateTable`` keys and indexes of the three tables, by table name."""
    return {
        resources.datasets_table: {
            "AttributeDefinitions": _attributes(("dataset", "S"), ("version", "N")),
            "KeySchema": _key("dataset", "version"),
        },
        resources.files_table: {
            "AttributeDefinitions": _attributes(
                ("object_key", "S"),
                ("object_version", "S"),
                ("dataset", "S"),
                ("updated_at", "S"),
                ("run_id", "S"),
            ),
            "KeySchema": _key("object_key", "object_version"),
            "GlobalSecondaryIndexes": [
                _index("by_dataset", "dataset", "updated_at"),
                _index("by_run", "run_id", "object_key"),
            ],
        },
        resources.runs_table: {
            "AttributeDefinitions": _attributes(("dataset", "S"), ("run_id", "S")),
            "KeySchema": _key("dataset", "run_id"),
        },
    }


def tables(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> Dict[str, str]:
    """Create the three on-demand tables (PITR, SSE-KMS, deletion protection); returns their ARNs."""
    dynamodb = aws.client("dynamodb")
    arns: Dict[str, str] = {}
    for name, definition in table_definitions(resources).items():
        exists_ok(
            dynamodb.create_table,
            ["ResourceInUseException"],
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn},
            DeletionProtectionEnabled=True,
            Tags=key_value_tags(tags(resources, settings)),
            **definition,
        )
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        arns[name] = str(dynamodb.describe_table(TableName=name)["Table"]["TableArn"])
    return arns


__all__ = ["buckets", "data_buckets", "lifecycle_rules", "table_definitions", "tables"]
