"""Provisioning creates the deployment Terraform describes, under the same names, and can run twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lakeport.local.provision import Settings, provision
from lakeport.orchestration.asl import render_ingest
from lakeport.resources import Resources

RESOURCES = Resources.for_deployment()


@pytest.fixture
def provisioned(aws):  # type: ignore[no-untyped-def]
    return provision(aws, RESOURCES)


def test_buckets_are_encrypted_private_and_raw_is_versioned_with_events(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    s3 = aws.client("s3")
    for bucket in (RESOURCES.raw_bucket, RESOURCES.curated_bucket, RESOURCES.athena_results_bucket):
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == provisioned.kms_key_arn
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
    assert s3.get_bucket_versioning(Bucket=RESOURCES.raw_bucket)["Status"] == "Enabled"
    assert "Status" not in s3.get_bucket_versioning(Bucket=RESOURCES.athena_results_bucket)
    rules = s3.get_bucket_lifecycle_configuration(Bucket=RESOURCES.raw_bucket)["Rules"]
    assert {r["ID"] for r in rules} == {"housekeeping", "age-out-ingested-files"}


def test_tables_have_the_keys_and_indexes_the_ledgers_use(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    dynamodb = aws.client("dynamodb")

    def keys(schema: Any) -> list:
        return [(k["AttributeName"], k["KeyType"]) for k in schema]

    datasets = dynamodb.describe_table(TableName=RESOURCES.datasets_table)["Table"]
    assert keys(datasets["KeySchema"]) == [("dataset", "HASH"), ("version", "RANGE")]
    assert datasets["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    files = dynamodb.describe_table(TableName=RESOURCES.files_table)["Table"]
    assert keys(files["KeySchema"]) == [("object_key", "HASH"), ("object_version", "RANGE")]
    indexes = {i["IndexName"]: keys(i["KeySchema"]) for i in files["GlobalSecondaryIndexes"]}
    assert indexes == {
        "by_dataset": [("dataset", "HASH"), ("updated_at", "RANGE")],
        "by_run": [("run_id", "HASH"), ("object_key", "RANGE")],
    }
    runs = dynamodb.describe_table(TableName=RESOURCES.runs_table)["Table"]
    assert keys(runs["KeySchema"]) == [("dataset", "HASH"), ("run_id", "RANGE")]


def test_raw_events_go_to_the_ingest_queue_with_a_dead_letter_queue(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=provisioned.ingest_queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive == {"deadLetterTargetArn": provisioned.ingest_dlq_arn, "maxReceiveCount": 5}
    assert attributes["VisibilityTimeout"] == str(Settings().ingest_visibility_timeout_seconds)
    events = aws.client("events")
    rule = events.describe_rule(Name=RESOURCES.raw_events_rule_name())
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [RESOURCES.raw_bucket]}},
    }
    [target] = events.list_targets_by_rule(Rule=RESOURCES.raw_events_rule_name())["Targets"]
    assert target["Arn"] == provisioned.ingest_queue_arn
    # and the raw bucket sends its events there (moto does not report the bucket's EventBridge
    # setting back, so the event itself is the proof)
    aws.client("s3").put_object(Bucket=RESOURCES.raw_bucket, Key="in/a.csv", Body=b"x")
    [message] = aws.client("sqs").receive_message(QueueUrl=provisioned.ingest_queue_url)["Messages"]
    assert json.loads(message["Body"])["detail"]["object"]["key"] == "in/a.csv"


def test_glue_jobs_get_the_deployment_names_as_default_arguments(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    glue = aws.client("glue")
    for name, command in ((RESOURCES.python_job_name, "pythonshell"), (RESOURCES.spark_job_name, "glueetl")):
        job = glue.get_job(JobName=name)["Job"]
        assert job["Command"]["Name"] == command
        assert job["ExecutionProperty"]["MaxConcurrentRuns"] == 2
        assert RESOURCES.job_arguments().items() <= job["DefaultArguments"].items()


def test_functions_state_machine_topic_and_workgroup_exist(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    functions = aws.client("lambda")
    for name in (RESOURCES.dispatcher_function_name(), RESOURCES.notifier_function_name()):
        assert functions.get_function(FunctionName=name)["Configuration"]["Runtime"] == "python3.11"
    machine = aws.client("stepfunctions").describe_state_machine(stateMachineArn=provisioned.state_machine_arn)
    assert json.loads(machine["definition"]) == render_ingest(RESOURCES, provisioned.notifier_function_arn)
    assert provisioned.alerts_topic_arn == RESOURCES.alerts_topic_arn()
    workgroup = aws.client("athena").get_work_group(WorkGroup=RESOURCES.athena_workgroup)["WorkGroup"]
    assert workgroup["Configuration"]["EnforceWorkGroupConfiguration"] is True


def test_provisioning_twice_is_harmless(aws, provisioned) -> None:  # type: ignore[no-untyped-def]
    aws.client("s3").put_object(Bucket=RESOURCES.raw_bucket, Key="keep/me.csv", Body=b"x")

    again = provision(aws, RESOURCES)

    assert again == provisioned
    assert aws.client("s3").get_object(Bucket=RESOURCES.raw_bucket, Key="keep/me.csv")["Body"].read() == b"x"
