"""Every moto fix applies to the pinned moto and changes what a user of the emulator sees.

If moto is upgraded and a fix no longer matches the code it replaces, ``patches.apply()`` raises
:class:`MotoPatchError` when the emulator starts — and these tests fail with that message.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any, Dict

import pytest
from botocore.exceptions import ClientError

from lakeport.errors import DatasetBusyError
from lakeport.local import lambdas, patches
from lakeport.local.glue_runner import GlueRunner
from lakeport.local.validation import validate_definition
from lakeport.orchestration.asl import render_ingest
from lakeport.resources import Resources

ROLE = "arn:aws:iam::123456789012:role/test"


def test_the_installed_moto_is_the_pinned_version() -> None:
    import moto

    assert moto.__version__ == patches.PINNED_MOTO, (
        f"moto {moto.__version__} is installed but the fixes in lakeport.local.patches were written for "
        f"{patches.PINNED_MOTO}: re-check every fix, then update PINNED_MOTO, pyproject.toml and"
        " requirements/dev.in, and run make lock"
    )


def test_every_fix_applies(emulator) -> None:  # type: ignore[no-untyped-def]
    assert patches.apply() == [name for name, _ in patches.FIXES]


@pytest.mark.parametrize(("name", "fix"), patches.FIXES, ids=[name for name, _ in patches.FIXES])
def test_a_fix_refuses_code_that_does_not_look_like_the_pinned_moto(emulator, name, fix) -> None:  # type: ignore[no-untyped-def]
    # The fixes are applied, so the code each one targets is now lakeport's replacement: exactly the
    # situation of a moto upgrade that changed the code. The guard must refuse it, not patch blindly.
    with pytest.raises(patches.MotoPatchError, match="does not apply to moto"):
        fix()


def test_a_guard_looks_at_the_class_itself_not_at_inherited_methods() -> None:
    glue_task = patches._sfn_service("state_task_service_glue").StateTaskServiceGlue

    assert hasattr(glue_task, "_eval_sync")  # inherited from the callback base class
    with pytest.raises(patches.MotoPatchError, match="no longer defines _eval_sync"):
        patches._own("example", glue_task, "_eval_sync")


# --- behaviour --------------------------------------------------------------------------------


def create_state_machine(aws: Any, name: str, definition: Dict[str, Any], **kwargs: Any) -> str:
    answer = aws.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, **kwargs
    )
    return str(answer["stateMachineArn"])


def run_to_end(aws: Any, state_machine_arn: str, payload: Dict[str, Any], timeout: float = 20) -> Dict[str, Any]:
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: Dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise AssertionError(f"execution {arn} did not finish in {timeout} s")


def test_glue_sync_task_succeeds_and_its_output_is_readable(aws) -> None:  # type: ignore[no-untyped-def]
    aws.client("glue").create_job(
        Name="job", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": "s3://b/s.py"}
    )
    definition = {
        "StartAt": "Run",
        "States": {
            "Run": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Parameters": {"JobName": "job"},
                "End": True,
            }
        },
    }
    with GlueRunner() as runner:
        runner.register("job", lambda arguments: None)
        described = run_to_end(aws, create_state_machine(aws, "glue-sync", definition), {})

    assert described["status"] == "SUCCEEDED", described.get("cause")
    output = json.loads(described["output"])  # DescribeExecution answered: the output is JSON-safe
    assert output["JobRunState"] == "SUCCEEDED"
    assert isinstance(output["StartedOn"], int)


def test_validate_state_machine_definition_reports_ok_and_problems(aws) -> None:  # type: ignore[no-untyped-def]
    sfn = aws.client("stepfunctions")
    resources = Resources.for_deployment()
    good = json.dumps(render_ingest(resources, resources.function_arn(resources.notifier_function_name())))
    broken = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})

    assert sfn.validate_state_machine_definition(definition=good)["result"] == "OK"
    answer = sfn.validate_state_machine_definition(definition=broken)
    assert answer["result"] == "FAIL"
    assert any("Nowhere" in diagnostic["message"] for diagnostic in answer["diagnostics"])
    assert validate_definition(broken)["result"] == "FAIL"


def test_list_state_machine_versions_lists_published_versions(aws) -> None:  # type: ignore[no-untyped-def]
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}
    arn = create_state_machine(aws, "versioned", definition, publish=True)
    unversioned = create_state_machine(aws, "unversioned", definition)
    sfn = aws.client("stepfunctions")

    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:1"]
    assert sfn.list_state_machine_versions(stateMachineArn=unversioned)["stateMachineVersions"] == []


@pytest.fixture
def function(aws) -> Any:  # type: ignore[no-untyped-def]
    aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")
    aws.client("lambda").create_function(
        FunctionName="fn",
        Role="arn:aws:iam::123456789012:role/fn",
        Runtime="python3.12",
        Handler="app.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    yield "fn"
    lambdas.unregister_lambda("fn")


def test_lambda_invoke_runs_the_registered_handler_in_process(aws, function) -> None:  # type: ignore[no-untyped-def]
    lambdas.register_lambda(function, lambda event, context: {"doubled": event["n"] * 2, "name": context.function_name})

    answer = aws.client("lambda").invoke(FunctionName=function, Payload=json.dumps({"n": 21}))

    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"doubled": 42, "name": function}


def test_lambda_invoke_reports_a_raising_handler_as_an_unhandled_function_error(aws, function) -> None:  # type: ignore[no-untyped-def]
    def handler(event: Any, context: Any) -> None:
        raise DatasetBusyError("dataset sales.orders is locked")

    lambdas.register_lambda(function, handler)
    answer = aws.client("lambda").invoke(FunctionName=function, Payload=b"{}")

    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "DatasetBusyError"
    assert "sales.orders is locked" in error["errorMessage"]


def test_lambda_invoke_without_a_registered_handler_says_what_to_do(aws, function) -> None:  # type: ignore[no-untyped-def]
    answer = aws.client("lambda").invoke(FunctionName=function, Payload=b"{}")

    assert answer["FunctionError"] == "Unhandled"
    assert "register_lambda" in json.loads(answer["Payload"].read())["errorMessage"]


def test_state_machine_lambda_task_gets_the_handler_result_and_catches_its_error(aws, function) -> None:  # type: ignore[no-untyped-def]
    def handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
        if event.get("fail"):
            raise ValueError("asked to fail")
        return {"seen": event["value"]}

    lambdas.register_lambda(function, handler)
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": function, "Payload.$": "$"},
                "ResultSelector": {"seen.$": "$.Payload.seen"},
                "Catch": [{"ErrorEquals": ["ValueError"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = create_state_machine(aws, "calls-lambda", definition)

    ok = run_to_end(aws, arn, {"value": "v"})
    failed = run_to_end(aws, arn, {"value": "v", "fail": True})

    assert json.loads(ok["output"]) == {"seen": "v"}
    assert failed["status"] == "SUCCEEDED"
    assert "asked to fail" in json.loads(failed["output"])["error"]["Cause"]


def test_get_job_run_shows_why_a_run_failed(aws) -> None:  # type: ignore[no-untyped-def]
    glue = aws.client("glue")
    glue.create_job(Name="job", Role=ROLE, Command={"Name": "pythonshell", "ScriptLocation": "s3://b/s.py"})

    def busy(arguments: Dict[str, str]) -> None:
        raise DatasetBusyError("dataset sales.orders is locked by run r0")

    with GlueRunner() as runner:
        runner.register("job", busy)
        run_id = glue.start_job_run(JobName="job")["JobRunId"]
        deadline = time.monotonic() + 10
        while runner.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        run = glue.get_job_run(JobName="job", RunId=run_id)["JobRun"]

    assert run["JobRunState"] == "FAILED"
    assert run["ErrorMessage"] == "[transient] DatasetBusyError: dataset sales.orders is locked by run r0"
    assert run["ExecutionTime"] >= 0


def test_string_matches_treats_only_the_asterisk_as_a_wildcard(aws) -> None:  # type: ignore[no-untyped-def]
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.text", "StringMatches": "*[transient]*", "Next": "Yes"}],
                "Default": "No",
            },
            "Yes": {"Type": "Pass", "Result": {"matched": True}, "End": True},
            "No": {"Type": "Pass", "Result": {"matched": False}, "End": True},
        },
    }
    arn = create_state_machine(aws, "matches", definition)

    transient = run_to_end(aws, arn, {"text": "[transient] DatasetBusyError: locked"})
    terminal = run_to_end(aws, arn, {"text": "InputFileError: the header is wrong"})

    assert json.loads(transient["output"]) == {"matched": True}
    assert json.loads(terminal["output"]) == {"matched": False}


def test_eventbridge_object_keys_are_encoded_as_s3_encodes_them(aws) -> None:  # type: ignore[no-untyped-def]
    s3, sqs, events = aws.client("s3"), aws.client("sqs"), aws.client("events")
    s3.create_bucket(Bucket="raw")
    s3.put_bucket_notification_configuration(Bucket="raw", NotificationConfiguration={"EventBridgeConfiguration": {}})
    queue = sqs.create_queue(QueueName="events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="raw", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events.put_targets(Rule="raw", Targets=[{"Id": "q", "Arn": queue_arn}])
    key = "in/2024 01/a+b=c.csv"

    s3.put_object(Bucket="raw", Key=key, Body=b"x")

    body = json.loads(sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"][0]["Body"])
    assert body["detail"]["object"]["key"] == "in/2024+01/a%2Bb%3Dc.csv"
    assert urllib.parse.unquote_plus(body["detail"]["object"]["key"]) == key


def test_validation_errors_are_client_errors_not_server_errors(aws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClientError) as raised:
        aws.client("stepfunctions").list_state_machine_versions(
            stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:missing"
        )
    assert raised.value.response["Error"]["Code"] == "StateMachineDoesNotExist"


def test_a_listing_keeps_to_the_keys_it_copied_when_one_is_deleted_meanwhile(emulator) -> None:  # type: ignore[no-untyped-def]
    from moto.s3.utils import _VersionedKeyStore

    store = _VersionedKeyStore()
    store["a"], store["b"], store["c"] = "a1", "b1", "c1"
    store["a"] = "a2"
    for listing, expected in (
        (store.iterlists, [("a", ["a1", "a2"]), ("b", ["b1"]), ("c", ["c1"])]),
        (store.iteritems, [("a", "a2"), ("b", "b1"), ("c", "c1")]),
        (store.values, ["a2", "b1", "c1"]),
    ):
        started = iter(listing())
        first = next(started)
        dict.pop(store, "c", None)  # deleted by another request while this one lists
        assert [first, *started] == expected
        dict.__setitem__(store, "c", ["c1"])


def test_glue_update_table_refuses_a_stale_version_id(aws) -> None:  # type: ignore[no-untyped-def]
    glue = aws.client("glue")
    glue.create_database(DatabaseInput={"Name": "versions"})
    glue.create_table(DatabaseName="versions", TableInput={"Name": "t", "Parameters": {"v": "1"}})
    read = glue.get_table(DatabaseName="versions", Name="t")["Table"]["VersionId"]
    # two writers read the table at one version; the first update wins
    glue.update_table(DatabaseName="versions", TableInput={"Name": "t", "Parameters": {"v": "a"}}, VersionId=read)
    with pytest.raises(ClientError) as raised:
        glue.update_table(DatabaseName="versions", TableInput={"Name": "t", "Parameters": {"v": "b"}}, VersionId=read)
    assert raised.value.response["Error"]["Code"] == "ConcurrentModificationException"
    assert glue.get_table(DatabaseName="versions", Name="t")["Table"]["Parameters"] == {"v": "a"}
    # without a version id the update is unconditional, as on AWS
    glue.update_table(DatabaseName="versions", TableInput={"Name": "t", "Parameters": {"v": "c"}})
    assert glue.get_table(DatabaseName="versions", Name="t")["Table"]["Parameters"] == {"v": "c"}
