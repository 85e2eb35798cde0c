"""The event path and the orchestration (``terraform/orchestration.tf``, ``monitoring.tf``, ``athena.tf``).

Raw bucket → EventBridge rule → ingest queue (+ DLQ) → dispatcher; the ingest state machine; the
notifier; the alerts topic; log groups; the Athena workgroup.

Deliberately not created: the Lambda event source mapping of the ingest queue. moto would invoke
the dispatcher itself on every ``SendMessage`` and ignore ``batchItemFailures``; the local stack's
queue poller plays that part instead. Alarms, the dashboard and the Glue failure rule of
``monitoring.tf`` are not created either (nothing evaluates them locally).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any, Dict, Tuple

from botocore.exceptions import ClientError

from lakeport.aws import AwsContext, error_code
from lakeport.local.provision.common import exists_ok, key_value_tags, policy
from lakeport.local.provision.settings import (
    DISPATCHER_HANDLER,
    DLQ_MESSAGE_RETENTION_SECONDS,
    INGEST_MESSAGE_RETENTION_SECONDS,
    LAMBDA_RUNTIME,
    NOTIFIER_HANDLER,
    Settings,
    log_group_names,
    tags,
)
from lakeport.orchestration.asl import render_ingest
from lakeport.resources import Resources

# --- logs ----------------------------------------------------------------------------------------


def log_groups(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> Dict[str, str]:
    logs = aws.client("logs")
    arns: Dict[str, str] = {}
    for purpose, name in log_group_names(resources).items():
        exists_ok(
            logs.create_log_group,
            ["ResourceAlreadyExistsException"],
            logGroupName=name,
            kmsKeyId=kms_key_arn,
            tags=tags(resources, settings),
        )
        logs.put_retention_policy(logGroupName=name, retentionInDays=settings.log_retention_days)
        arns[purpose] = f"arn:aws:logs:{resources.region}:{resources.account_id}:log-group:{name}"
    return arns


# --- queues, rule, topic ---------------------------------------------------------------------------


def _queue(aws: AwsContext, name: str, attributes: Dict[str, str], queue_tags: Dict[str, str]) -> Tuple[str, str]:
    sqs = aws.client("sqs")
    try:
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=queue_tags)["QueueUrl"]
    except ClientError as exc:
        if error_code(exc) not in ("QueueAlreadyExists", "QueueNameExists"):
            raise
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def _from_rule(queue_arn: str, rule_arn: str, sid: str) -> Dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": "events.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
    }


def events_path(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> Dict[str, str]:
    """Ingest queue, DLQ and the raw bucket's EventBridge rule; URLs and ARNs by name."""
    queue_tags = tags(resources, settings)
    encryption = {"KmsMasterKeyId": kms_key_arn, "KmsDataKeyReusePeriodSeconds": "300"}
    dlq_url, dlq_arn = _queue(
        aws,
        resources.ingest_dlq_name,
        {**encryption, "MessageRetentionPeriod": str(DLQ_MESSAGE_RETENTION_SECONDS)},
        queue_tags,
    )
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.dlq_max_receive_count}
    url, arn = _queue(
        aws,
        resources.ingest_queue_name,
        {
            **encryption,
            "VisibilityTimeout": str(settings.ingest_visibility_timeout_seconds),
            "MessageRetentionPeriod": str(INGEST_MESSAGE_RETENTION_SECONDS),
            "ReceiveMessageWaitTimeSeconds": "20",
            "RedrivePolicy": json.dumps(redrive),
        },
        queue_tags,
    )
    events = aws.client("events")
    rule_name = resources.raw_events_rule_name()
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [resources.raw_bucket]}},
    }
    rule_arn = str(
        events.put_rule(
            Name=rule_name,
            EventPattern=json.dumps(pattern),
            State="ENABLED",
            Description="Every object created in the raw bucket goes to the ingest queue",
            Tags=key_value_tags(tags(resources, settings)),
        )["RuleArn"]
    )
    events.put_targets(
        Rule=rule_name,
        Targets=[
            {
                "Id": "ingest-queue",
                "Arn": arn,
                "RetryPolicy": {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185},
                "DeadLetterConfig": {"Arn": dlq_arn},
            }
        ],
    )
    sqs = aws.client("sqs")
    # The queue policies of terraform/ without their DenyInsecureTransport statement: moto enforces
    # it, and the emulator only speaks plain HTTP.
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": policy(_from_rule(arn, rule_arn, "OnlyTheRawBucketRule"))}
    )
    sqs.set_queue_attributes(
        QueueUrl=dlq_url,
        Attributes={
            "Policy": policy(_from_rule(dlq_arn, rule_arn, "UndeliverableEventsOfTheRawBucketRule")),
            "RedriveAllowPolicy": json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]}),
        },
    )
    return {"queue_url": url, "queue_arn": arn, "dlq_url": dlq_url, "dlq_arn": dlq_arn, "rule_arn": rule_arn}


def alerts_topic(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> str:
    sns = aws.client("sns")
    arn = str(
        sns.create_topic(
            Name=resources.alerts_topic_name,
            Attributes={"KmsMasterKeyId": kms_key_arn},
            Tags=key_value_tags(tags(resources, settings)),
        )["TopicArn"]
    )
    account = f"arn:aws:iam::{resources.account_id}:root"
    topic_policy = policy(
        {
            "Sid": "AccountPublishesAndManages",
            "Effect": "Allow",
            "Principal": {"AWS": account},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
                "sns:SetTopicAttributes",
                "sns:Subscribe",
            ],
            "Resource": arn,
        },
        {
            "Sid": "AlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": resources.account_id}},
        },
    )
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=topic_policy)
    return arn


# --- Lambda functions ----------------------------------------------------------------------------


def _placeholder_package(handler: str) -> bytes:
    """A zip for ``CreateFunction``; locally the registered in-process handler runs instead."""
    module = handler.rsplit(".", 1)[0]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            f"{module.replace('.', '/')}.py",
            "def handler(event, context):\n"
            "    raise RuntimeError('locally, lakeport runs the handler registered in-process')\n",
        )
    return buffer.getvalue()


def _function(
    aws: AwsContext,
    resources: Resources,
    settings: Settings,
    *,
    name: str,
    description: str,
    handler: str,
    role_arn: str,
    memory: int,
    timeout: int,
    kms_key_arn: str,
) -> str:
    client = aws.client("lambda")
    configuration: Dict[str, Any] = {
        "Description": description,
        "Role": role_arn,
        "Handler": handler,
        "Runtime": LAMBDA_RUNTIME,
        "Timeout": timeout,
        "MemorySize": memory,
        "KMSKeyArn": kms_key_arn,
        "TracingConfig": {"Mode": "PassThrough"},
        "Environment": {
            "Variables": {
                "LAKEPORT_NAME_PREFIX": resources.name_prefix,
                "LAKEPORT_ACCOUNT_ID": resources.account_id,
            }
        },
    }
    created = exists_ok(
        client.create_function,
        ["ResourceConflictException"],
        FunctionName=name,
        Code={"ZipFile": _placeholder_package(handler)},
        Architectures=["x86_64"],
        Tags=tags(resources, settings),
        **configuration,
    )
    if created is None:
        client.update_function_configuration(FunctionName=name, **configuration)
    client.put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=settings.lambda_reserved_concurrency
    )
    return resources.function_arn(name)


def functions(
    aws: AwsContext, resources: Resources, settings: Settings, role_arns: Dict[str, str], kms_key_arn: str
) -> Dict[str, str]:
    """The dispatcher and the notifier; their ARNs by purpose."""
    return {
        "dispatcher": _function(
            aws,
            resources,
            settings,
            name=resources.dispatcher_function_name(),
            description="Claims new raw files in the ledger and starts one ingest execution per dataset batch",
            handler=DISPATCHER_HANDLER,
            role_arn=role_arns["dispatcher"],
            memory=512,
            timeout=settings.dispatcher_timeout_seconds,
            kms_key_arn=kms_key_arn,
        ),
        "notifier": _function(
            aws,
            resources,
            settings,
            name=resources.notifier_function_name(),
            description="Records a failed ingest run and writes the alert text",
            handler=NOTIFIER_HANDLER,
            role_arn=role_arns["notifier"],
            memory=256,
            timeout=60,
            kms_key_arn=kms_key_arn,
        ),
    }


# --- state machine, Athena ----------------------------------------------------------------------


def state_machine(
    aws: AwsContext, resources: Resources, role_arn: str, notifier_function_arn: str, log_group_arn: str
) -> str:
    """The ingest state machine from the packaged ASL file (created, or updated to that file)."""
    sfn = aws.client("stepfunctions")
    definition = json.dumps(render_ingest(resources, notifier_function_arn), indent=2)
    logging_configuration = {
        "level": "ERROR",
        "includeExecutionData": False,
        "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": f"{log_group_arn}:*"}}],
    }
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
            loggingConfiguration=logging_configuration,
            tracingConfiguration={"enabled": False},
        )
        return str(created["stateMachineArn"])
    sfn.update_state_machine(
        stateMachineArn=arn,
        definition=definition,
        roleArn=role_arn,
        loggingConfiguration=logging_configuration,
    )
    return arn


def athena_workgroup(aws: AwsContext, resources: Resources, settings: Settings, kms_key_arn: str) -> str:
    exists_ok(
        aws.client("athena").create_work_group,
        ["InvalidRequestException"],
        Name=resources.athena_workgroup,
        Description=f"lakeport curated data ({resources.name_prefix})",
        Configuration={
            "ResultConfiguration": {
                "OutputLocation": f"s3://{resources.athena_results_bucket}/results/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": kms_key_arn},
            },
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "BytesScannedCutoffPerQuery": settings.athena_bytes_scanned_cutoff_per_query,
            "EngineVersion": {"SelectedEngineVersion": "Athena engine version 3"},
        },
        Tags=key_value_tags(tags(resources, settings)),
    )
    return resources.athena_workgroup


__all__ = ["alerts_topic", "athena_workgroup", "events_path", "functions", "log_groups", "state_machine"]
