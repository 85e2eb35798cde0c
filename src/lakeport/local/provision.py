"""Create every lakeport resource in the embedded emulator, with the names and settings Terraform uses.

The names come from :class:`lakeport.resources.Resources`; the settings mirror ``terraform/``. Two
deliberate local differences: the ingest queue's visibility timeout is short (so redelivery happens
in seconds), and there is no Lambda event source mapping on the ingest queue — moto would invoke the
function itself on every send and ignore partial batch failures; :class:`lakeport.local.stack.LocalStack`
polls the queue instead, the way the Lambda service does.

Provisioning is idempotent: running it again against the same emulator changes nothing that exists
and fills in what is missing.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional

from botocore.exceptions import ClientError

from lakeport.aws import AwsContext, error_code
from lakeport.orchestration.asl import render_ingest
from lakeport.resources import Resources

DEFAULT_MAX_CONCURRENT_RUNS = 2
LOCAL_VISIBILITY_TIMEOUT_SECONDS = 3
DLQ_MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
ATHENA_BYTES_SCANNED_CUTOFF = 10 * 1024**3
PYTHON_SHELL_SCRIPT_KEY = "glue/python_shell_entry.py"
SPARK_SCRIPT_KEY = "glue/spark_entry.py"
LAMBDA_RUNTIME = "python3.12"


@dataclass(frozen=True)
class Provisioned:
    """What :func:`provision` created (or found), for the stack and for ``lakeport local up``."""

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

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def _tags(resources: Resources) -> Dict[str, str]:
    return {"project": "lakeport", "deployment": resources.name_prefix}


def _exists_ok(call: Callable[..., Any], codes: Iterable[str], **kwargs: Any) -> Optional[Any]:
    """Call and return the answer; ``None`` when it fails with one of ``codes`` (already exists)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) in set(codes):
            return None
        raise


# --- IAM and KMS ---------------------------------------------------------------------------------


def _role(aws: AwsContext, name: str, service: str) -> str:
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    created = _exists_ok(
        iam.create_role, ["EntityAlreadyExists"], RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )
    if created is not None:
        return str(created["Role"]["Arn"])
    return str(iam.get_role(RoleName=name)["Role"]["Arn"])


def _roles(aws: AwsContext, resources: Resources) -> Dict[str, str]:
    prefix = resources.name_prefix
    return {
        "glue": _role(aws, f"{prefix}-glue", "glue.amazonaws.com"),
        "lambda": _role(aws, f"{prefix}-lambda", "lambda.amazonaws.com"),
        "states": _role(aws, f"{prefix}-states", "states.amazonaws.com"),
    }


def _kms_key(aws: AwsContext, resources: Resources) -> str:
    kms = aws.client("kms")
    alias = resources.kms_key_alias()
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == alias and entry.get("TargetKeyId"):
                return str(kms.describe_key(KeyId=entry["TargetKeyId"])["KeyMetadata"]["Arn"])
    key = kms.create_key(
        Description=f"lakeport {resources.name_prefix}: buckets, tables, queues, topic, Glue",
        Tags=[{"TagKey": k, "TagValue": v} for k, v in _tags(resources).items()],
    )["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


# --- S3 ------------------------------------------------------------------------------------------


def _bucket(aws: AwsContext, resources: Resources, name: str, kms_key_arn: str) -> None:
    s3 = aws.client("s3")
    kwargs: Dict[str, Any] = {"Bucket": name}
    if resources.region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": resources.region}
    _exists_ok(s3.create_bucket, ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"], **kwargs)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": kms_key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_tagging(
        Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in _tags(resources).items()]}
    )


def _buckets(aws: AwsContext, resources: Resources, kms_key_arn: str) -> Dict[str, str]:
    buckets = {
        "raw": resources.raw_bucket,
        "curated": resources.curated_bucket,
        "quarantine": resources.quarantine_bucket,
        "artifacts": resources.artifacts_bucket,
        "athena_results": resources.athena_results_bucket,
    }
    for name in buckets.values():
        _bucket(aws, resources, name, kms_key_arn)
    s3 = aws.client("s3")
    s3.put_bucket_versioning(Bucket=resources.raw_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket=resources.raw_bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    return buckets


# --- DynamoDB ------------------------------------------------------------------------------------


def _attributes(*pairs: tuple[str, str]) -> List[Dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in pairs]


def _key(hash_key: str, range_key: str) -> List[Dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def table_definitions(resources: Resources) -> Dict[str, Dict[str, Any]]:
    """``CreateTable`` arguments of the three tables (keys, indexes), without encryption and tags."""
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
                {
                    "IndexName": "by_dataset",
                    "KeySchema": _key("dataset", "updated_at"),
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "by_run",
                    "KeySchema": _key("run_id", "object_key"),
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
        },
        resources.runs_table: {
            "AttributeDefinitions": _attributes(("dataset", "S"), ("run_id", "S")),
            "KeySchema": _key("dataset", "run_id"),
        },
    }


def _tables(aws: AwsContext, resources: Resources, kms_key_arn: str) -> Dict[str, str]:
    dynamodb = aws.client("dynamodb")
    arns: Dict[str, str] = {}
    for name, definition in table_definitions(resources).items():
        _exists_ok(
            dynamodb.create_table,
            ["ResourceInUseException"],
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": kms_key_arn},
            Tags=[{"Key": k, "Value": v} for k, v in _tags(resources).items()],
            **definition,
        )
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        arns[name] = str(dynamodb.describe_table(TableName=name)["Table"]["TableArn"])
    return arns


# --- SQS, SNS, EventBridge ---------------------------------------------------------------------


def _queue(aws: AwsContext, name: str, attributes: Dict[str, str]) -> tuple[str, str]:
    sqs = aws.client("sqs")
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as exc:
        if error_code(exc) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _queues(
    aws: AwsContext, resources: Resources, kms_key_arn: str, visibility_timeout_seconds: int
) -> tuple[str, str, str, str]:
    encryption = {"KmsMasterKeyId": kms_key_arn, "KmsDataKeyReusePeriodSeconds": "300"}
    dlq_url, dlq_arn = _queue(
        aws, resources.ingest_dlq_name, {**encryption, "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS)}
    )
    url, arn = _queue(
        aws,
        resources.ingest_queue_name,
        {
            **encryption,
            "VisibilityTimeout": str(visibility_timeout_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": DLQ_MAX_RECEIVE_COUNT}
            ),
        },
    )
    return url, arn, dlq_url, dlq_arn


def _raw_events_rule(aws: AwsContext, resources: Resources, queue_url: str, queue_arn: str) -> str:
    events = aws.client("events")
    rule_name = resources.raw_events_rule_name()
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [resources.raw_bucket]}},
    }
    rule_arn = events.put_rule(
        Name=rule_name,
        EventPattern=json.dumps(pattern),
        State="ENABLED",
        Description="raw zone Object Created -> ingest queue",
    )["RuleArn"]
    events.put_targets(Rule=rule_name, Targets=[{"Id": "ingest-queue", "Arn": queue_arn}])
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "raw-object-created-events",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }
    aws.client("sqs").set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
    return str(rule_arn)


def _topic(aws: AwsContext, resources: Resources, kms_key_arn: str) -> str:
    sns = aws.client("sns")
    arn = sns.create_topic(
        Name=resources.alerts_topic_name,
        Attributes={"KmsMasterKeyId": kms_key_arn},
        Tags=[{"Key": k, "Value": v} for k, v in _tags(resources).items()],
    )["TopicArn"]
    return str(arn)


# --- Glue, Lambda, Step Functions, Athena -------------------------------------------------------


def _glue_jobs(
    aws: AwsContext, resources: Resources, role_arn: str, max_concurrent_runs: int
) -> Dict[str, str]:
    glue = aws.client("glue")
    scripts = f"s3://{resources.artifacts_bucket}"
    common: Dict[str, Any] = {
        "Role": role_arn,
        "DefaultArguments": resources.job_arguments(),
        "ExecutionProperty": {"MaxConcurrentRuns": max_concurrent_runs},
        "MaxRetries": 0,
    }
    jobs: Dict[str, Dict[str, Any]] = {
        resources.python_job_name: {
            **common,
            "Command": {
                "Name": "pythonshell",
                "ScriptLocation": f"{scripts}/{PYTHON_SHELL_SCRIPT_KEY}",
                "PythonVersion": "3.9",
            },
            "GlueVersion": "3.0",
            "MaxCapacity": 1.0,
            "Timeout": 120,
        },
        resources.spark_job_name: {
            **common,
            "Command": {
                "Name": "glueetl",
                "ScriptLocation": f"{scripts}/{SPARK_SCRIPT_KEY}",
                "PythonVersion": "3",
            },
            "GlueVersion": "5.0",
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "Timeout": 480,
        },
    }
    for name, settings in jobs.items():
        created = _exists_ok(
            glue.create_job,
            ["AlreadyExistsException", "IdempotentParameterMismatchException"],
            Name=name,
            Tags=_tags(resources),
            **settings,
        )
        if created is None:
            glue.update_job(JobName=name, JobUpdate=settings)
    return {"python": resources.python_job_name, "spark": resources.spark_job_name}


def _placeholder_package(handler_module: str) -> bytes:
    """A zip for ``CreateFunction``; locally the registered in-process handler runs instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            f"{handler_module.replace('.', '/')}.py",
            "def handler(event, context):\n    raise RuntimeError('the lakeport package was not deployed')\n",
        )
    return buffer.getvalue()


def _function(
    aws: AwsContext,
    resources: Resources,
    name: str,
    handler: str,
    role_arn: str,
    timeout: int,
    kms_key_arn: str,
) -> str:
    client = aws.client("lambda")
    settings: Dict[str, Any] = {
        "Role": role_arn,
        "Handler": handler,
        "Runtime": LAMBDA_RUNTIME,
        "Timeout": timeout,
        "MemorySize": 512,
        "Environment": {"Variables": {"LAKEPORT_NAME_PREFIX": resources.name_prefix}},
        "KMSKeyArn": kms_key_arn,
    }
    module = handler.rsplit(".", 1)[0]
    created = _exists_ok(
        client.create_function,
        ["ResourceConflictException"],
        FunctionName=name,
        Code={"ZipFile": _placeholder_package(module)},
        Tags=_tags(resources),
        **settings,
    )
    if created is not None:
        return str(created["FunctionArn"])
    return str(client.update_function_configuration(FunctionName=name, **settings)["FunctionArn"])


def _state_machine(aws: AwsContext, resources: Resources, role_arn: str, notifier_function_arn: str) -> str:
    sfn = aws.client("stepfunctions")
    definition = json.dumps(render_ingest(resources, notifier_function_arn), indent=2)
    arn = resources.state_machine_arn()
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        if error_code(exc) != "StateMachineDoesNotExist":
            raise
        created = sfn.create_state_machine(
            name=resources.state_machine_name,
            definition=definition,
            roleArn=role_arn,
            type="STANDARD",
            tags=[{"key": k, "value": v} for k, v in _tags(resources).items()],
        )
        return str(created["stateMachineArn"])
    sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role_arn)
    return arn


def _workgroup(aws: AwsContext, resources: Resources, kms_key_arn: str) -> str:
    athena = aws.client("athena")
    configuration = {
        "ResultConfiguration": {
            "OutputLocation": f"s3://{resources.athena_results_bucket}/results/",
            "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": kms_key_arn},
        },
        "EnforceWorkGroupConfiguration": True,
        "PublishCloudWatchMetricsEnabled": True,
        "BytesScannedCutoffPerQuery": ATHENA_BYTES_SCANNED_CUTOFF,
    }
    _exists_ok(
        athena.create_work_group,
        ["InvalidRequestException"],
        Name=resources.athena_workgroup,
        Configuration=configuration,
        Description=f"lakeport {resources.name_prefix} queries",
        Tags=[{"Key": k, "Value": v} for k, v in _tags(resources).items()],
    )
    return resources.athena_workgroup


def provision(
    aws: AwsContext,
    resources: Resources,
    *,
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS,
    visibility_timeout_seconds: int = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
) -> Provisioned:
    """Create (or complete) every resource of the deployment ``resources`` names, in the emulator."""
    roles = _roles(aws, resources)
    kms_key_arn = _kms_key(aws, resources)
    buckets = _buckets(aws, resources, kms_key_arn)
    table_arns = _tables(aws, resources, kms_key_arn)
    queue_url, queue_arn, dlq_url, dlq_arn = _queues(aws, resources, kms_key_arn, visibility_timeout_seconds)
    rule_arn = _raw_events_rule(aws, resources, queue_url, queue_arn)
    topic_arn = _topic(aws, resources, kms_key_arn)
    jobs = _glue_jobs(aws, resources, roles["glue"], max_concurrent_runs)
    dispatcher_arn = _function(
        aws,
        resources,
        resources.dispatcher_function_name(),
        "lakeport.handlers.dispatcher.handler",
        roles["lambda"],
        60,
        kms_key_arn,
    )
    notifier_arn = _function(
        aws,
        resources,
        resources.notifier_function_name(),
        "lakeport.handlers.notifier.handler",
        roles["lambda"],
        30,
        kms_key_arn,
    )
    state_machine_arn = _state_machine(aws, resources, roles["states"], notifier_arn)
    workgroup = _workgroup(aws, resources, kms_key_arn)
    return Provisioned(
        kms_key_arn=kms_key_arn,
        buckets=buckets,
        table_arns=table_arns,
        ingest_queue_url=queue_url,
        ingest_queue_arn=queue_arn,
        ingest_dlq_url=dlq_url,
        ingest_dlq_arn=dlq_arn,
        alerts_topic_arn=topic_arn,
        raw_events_rule_arn=rule_arn,
        job_names=jobs,
        dispatcher_function_arn=dispatcher_arn,
        notifier_function_arn=notifier_arn,
        state_machine_arn=state_machine_arn,
        athena_workgroup=workgroup,
        role_arns=roles,
    )


__all__ = [
    "DEFAULT_MAX_CONCURRENT_RUNS",
    "DLQ_MAX_RECEIVE_COUNT",
    "LOCAL_VISIBILITY_TIMEOUT_SECONDS",
    "Provisioned",
    "provision",
    "table_definitions",
]
