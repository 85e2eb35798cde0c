"""LocalStack(attach=True): runs on resources that exist already (as terraform apply leaves them)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from typing import Any, Dict, List

import pytest

from lakeport.errors import ConfigurationError
from lakeport.local.stack import LocalStack
from lakeport.resources import Resources

RESOURCES = Resources.for_deployment()


def _queue_and_dispatcher(aws: Any) -> Dict[str, str]:
    """Only the ingest queue, the dispatcher function and its event source mapping, made by hand."""
    sqs, functions = aws.client("sqs"), aws.client("lambda")
    url = sqs.create_queue(QueueName=RESOURCES.ingest_queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    role = aws.client("iam").create_role(RoleName="dispatcher", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    function = functions.create_function(
        FunctionName=RESOURCES.dispatcher_function_name(),
        Runtime="python3.11",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    mapping = functions.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=function["FunctionArn"],
        BatchSize=100,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return {"queue_url": url, "queue_arn": arn, "function_arn": function["FunctionArn"], "mapping": mapping["UUID"]}


def test_attached_stack_creates_nothing_and_its_poller_feeds_the_dispatcher(aws: Any, emulator: Any) -> None:
    made = _queue_and_dispatcher(aws)
    received: List[Dict[str, Any]] = []
    delivered = threading.Event()

    def dispatcher(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        received.append(event)
        delivered.set()
        return {"batchItemFailures": []}

    stack = LocalStack(emulator=emulator, attach=True)
    stack.start()
    try:
        stack.set_dispatcher(dispatcher)
        aws.client("sqs").send_message(QueueUrl=made["queue_url"], MessageBody=json.dumps({"hello": "world"}))
        assert delivered.wait(10), "the attached stack's poller did not deliver the message"
    finally:
        stack.stop()

    assert stack.provisioned is None
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.client("dynamodb").list_tables()["TableNames"] == []
    [event] = received
    [record] = event["Records"]
    assert (record["eventSourceARN"], json.loads(record["body"])) == (made["queue_arn"], {"hello": "world"})
    # The emulator would have invoked the function itself inside SendMessage; the mapping is off instead.
    mapping = aws.client("lambda").get_event_source_mapping(UUID=made["mapping"])
    assert mapping["State"] == "Disabled"


def test_attaching_to_a_deployment_that_does_not_exist_says_what_to_do(aws: Any, emulator: Any) -> None:
    stack = LocalStack(emulator=emulator, attach=True)
    with pytest.raises(ConfigurationError) as raised:
        stack.start()
    message = str(raised.value)
    assert RESOURCES.ingest_queue_name in message and RESOURCES.dispatcher_function_name() in message
    assert "apply terraform/" in message
