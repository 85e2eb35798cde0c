"""terraform apply of terraform/ against the embedded emulator, one ingest through what it created, destroy.

The recipe of docs/infrastructure.md ("Against the embedded emulator"): the whole root module is
applied with every endpoint pointed at the emulator, then lakeport takes every name it uses from
``terraform output -json`` and ingests a file through the resources Terraform created (EventBridge
rule, ingest queue, dispatcher, state machine, Python-shell Glue job, tables, buckets, catalog), then
``terraform destroy`` removes them. The tests of this module share one deployment and run in order.

Settings that exist only for the emulator (and what covers them instead):

* ``enable_bucket_deny_statements=false`` — the emulator applies a bucket policy's Deny statements
  without evaluating their conditions, so the TLS-only and project-key-only statements would refuse
  every request. ``test_bucket_policies.py`` checks what those statements deny, from the HCL.
* ``force_destroy``, ``dynamodb_deletion_protection=false``, ``kms_deletion_window_days=7`` — so that
  ``terraform destroy`` can remove a deployment that holds data.

What plays a part locally: the Glue job run is executed by the local Glue runner (the Python-shell
job body, in this process), the Lambda functions by in-process handlers registered under the names
Terraform gave them, and the queue's event source mapping by the local queue poller (the mapping
Terraform created is switched off; see ``LocalStack(attach=True)``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
from botocore.exceptions import ClientError
from iac import REPO_ROOT, TERRAFORM_DIR, copy_terraform, init_failure, run, terraform_init

from lakeport.aws import AwsContext
from lakeport.contract import load_contract_file
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ledger.files import FileLedger
from lakeport.ledger.runs import RunLedger
from lakeport.local.lambdas import function_name_of
from lakeport.local.pipeline import wire
from lakeport.local.provision import table_definitions
from lakeport.local.stack import LocalStack
from lakeport.orchestration.asl import render_ingest
from lakeport.packaging import Packages, package
from lakeport.query import LocalQueryEngine
from lakeport.registry import ContractRegistry
from lakeport.resources import LOCAL_ACCOUNT_ID, Resources
from lakeport.s3objects import head_object

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

REGION = "us-east-1"
NAME_PREFIX = "lakeport-local"
ORDERS_FILE = "sales/orders/orders-2024-01-02.csv"
TAIL_LINES = 60
_REPOSITORY_FILE = re.compile(r"\$\{local\.repository_root\}/([A-Za-z0-9_./-]+\.[a-z]+)")


def repository_files_terraform_reads() -> list[str]:
    """Paths relative to the repository that terraform/ reads (job scripts, the ASL template)."""
    found: set[str] = set()
    for path in TERRAFORM_DIR.glob("*.tf"):
        found.update(_REPOSITORY_FILE.findall(path.read_text(encoding="utf-8")))
    return sorted(found)


def log_tail(result: subprocess.CompletedProcess[str], lines: int = TAIL_LINES) -> str:
    """The end of a terraform command's output, where its errors are."""
    return "\n".join(f"{result.stdout}\n{result.stderr}".strip().splitlines()[-lines:])


@dataclass
class Deployment:
    """One applied copy of terraform/ on the emulator."""

    terraform_bin: str
    workdir: Path
    endpoint_url: str
    packages: Packages
    outputs: dict[str, Any] = field(default_factory=dict)
    apply_seconds: float = 0.0
    destroy_seconds: Optional[float] = None

    def variables(self) -> list[str]:
        values = {
            "environment": "local",
            "region": REGION,
            "aws_endpoint_url": self.endpoint_url,
            "skip_credentials_validation": "true",
            # Emulator only: see the module docstring.
            "enable_bucket_deny_statements": "false",
            "force_destroy": "true",
            "dynamodb_deletion_protection": "false",
            "kms_deletion_window_days": "7",
            "repository_root": str(REPO_ROOT),
            "artifacts_dir": str(self.packages.wheel.parent),
            "wheel_file_name": self.packages.wheel.name,
            "lambda_package_file_name": self.packages.lambda_zip.name,
        }
        return [f"-var={name}={value}" for name, value in values.items()]

    def terraform(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        return run(
            [self.terraform_bin, *arguments, "-no-color"],
            cwd=self.workdir,
            env={
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "TF_IN_AUTOMATION": "1",
                "TF_INPUT": "0",
            },
        )

    def apply(self) -> None:
        started = time.monotonic()
        result = self.terraform("apply", "-auto-approve", "-input=false", *self.variables())
        self.apply_seconds = time.monotonic() - started
        if result.returncode != 0:
            pytest.fail(
                f"terraform apply against the emulator failed after {self.apply_seconds:.0f} s:\n{log_tail(result)}"
            )
        result = self.terraform("output", "-json")
        if result.returncode != 0:
            pytest.fail(f"terraform output -json failed:\n{log_tail(result)}")
        self.outputs = json.loads(result.stdout)

    def destroy(self) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = self.terraform("destroy", "-auto-approve", "-input=false", *self.variables())
        self.destroy_seconds = time.monotonic() - started
        return result

    def output(self, name: str) -> Any:
        return self.outputs[name]["value"]

    def resources(self) -> Resources:
        return Resources.from_terraform_outputs(self.outputs)


@pytest.fixture(scope="module")
def deployment(emulator: Any, terraform_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    missing = [path for path in repository_files_terraform_reads() if not (REPO_ROOT / path).is_file()]
    if missing:
        pytest.fail(
            f"terraform/ reads {', '.join(missing)} from the repository (job scripts it uploads, the ASL template),"
            " but the file is missing: plan and apply cannot run without it"
        )
    scratch = tmp_path_factory.mktemp("terraform-apply")
    workdir = copy_terraform(scratch / "terraform")
    initialised = terraform_init(terraform_bin, workdir)
    if initialised.returncode != 0:
        shutil.rmtree(workdir / ".terraform", ignore_errors=True)
        pytest.fail(init_failure(initialised))
    packages = package(REPO_ROOT, scratch / "dist")  # what 'make package' builds
    emulator.reset()
    applied = Deployment(terraform_bin, workdir, emulator.endpoint_url, packages)
    try:
        applied.apply()
        yield applied
    finally:
        # The provider binary is large; the emulator is shared with the other test modules.
        shutil.rmtree(workdir / ".terraform", ignore_errors=True)
        emulator.reset()


@pytest.fixture(scope="module")
def aws(deployment: Deployment, emulator: Any) -> AwsContext:
    """The emulator's context (deliberately not the reset-per-test ``aws`` fixture of tests/)."""
    return emulator.context()  # type: ignore[no-any-return]


# --- (a) the outputs name what lakeport expects ------------------------------------------------


def test_terraform_outputs_give_the_names_lakeport_derives(deployment: Deployment, capsys: Any) -> None:
    with capsys.disabled():
        print(f"\nterraform apply against the emulator: {deployment.apply_seconds:.1f} s")
    resources = deployment.resources()
    assert resources == Resources.for_deployment(NAME_PREFIX, LOCAL_ACCOUNT_ID, REGION)
    assert deployment.output("dispatcher_function_name") == resources.dispatcher_function_name()
    assert function_name_of(deployment.output("notifier_function_arn")) == resources.notifier_function_name()
    assert deployment.output("ingest_state_machine_arn") == resources.state_machine_arn()
    assert deployment.output("alerts_topic_arn") == resources.alerts_topic_arn()
    assert deployment.output("kms_key_alias") == resources.kms_key_alias()
    assert deployment.output("catalog_database_names") == ["finance", "iot", "sales"]


# --- (b) resources exist as configured ----------------------------------------------------------


def test_raw_bucket_is_versioned_encrypted_with_the_project_key_private_and_sends_events(
    deployment: Deployment, aws: AwsContext
) -> None:
    s3, bucket = aws.client("s3"), deployment.output("raw_bucket_name")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": deployment.output("kms_key_arn"),
    }
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    # The emulator stores the bucket's EventBridge switch but leaves it out of
    # GetBucketNotificationConfiguration (moto 5.2.5), so it is read from the emulator's model; the
    # ingest test below shows the events arriving.
    from moto.s3.models import s3_backends

    notification = s3_backends[LOCAL_ACCOUNT_ID]["aws"].get_bucket(bucket).notification_configuration
    assert notification is not None and notification.event_bridge is not None
    events = aws.client("events")
    rule = events.describe_rule(Name=deployment.resources().raw_events_rule_name())
    assert json.loads(rule["EventPattern"])["detail"] == {"bucket": {"name": [bucket]}}
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    queue = aws.client("sqs").get_queue_attributes(
        QueueUrl=deployment.output("ingest_queue_url"), AttributeNames=["QueueArn"]
    )
    assert target["Arn"] == queue["Attributes"]["QueueArn"]


def test_tables_have_the_keys_and_indexes_the_ledgers_use(deployment: Deployment, aws: AwsContext) -> None:
    dynamodb, resources = aws.client("dynamodb"), deployment.resources()
    expected = table_definitions(resources)
    assert set(expected) == {resources.datasets_table, resources.files_table, resources.runs_table}
    for name, definition in expected.items():
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == definition["KeySchema"], name
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(definition["AttributeDefinitions"], key=str)
        indexes = {
            index["IndexName"]: (index["KeySchema"], index["Projection"])
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index["IndexName"]: (index["KeySchema"], index["Projection"])
            for index in definition.get("GlobalSecondaryIndexes", [])
        }, name
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", name


def test_both_glue_jobs_carry_the_deployment_names_and_their_code(deployment: Deployment, aws: AwsContext) -> None:
    glue, s3, resources = aws.client("glue"), aws.client("s3"), deployment.resources()
    artifacts = resources.artifacts_bucket
    wheel_uri = f"s3://{artifacts}/wheels/{deployment.packages.wheel.name}"
    python = glue.get_job(JobName=deployment.output("python_job_name"))["Job"]
    spark = glue.get_job(JobName=deployment.output("spark_job_name"))["Job"]
    dependencies = deployment.packages.glue_wheels
    for job, runtime in ((python, "python-shell"), (spark, "spark")):
        arguments = job["DefaultArguments"]
        assert {name: arguments.get(name) for name in resources.job_arguments()} == resources.job_arguments()
        # lakeport's wheel and every dependency wheel of that runtime, installed without a package index
        expected = [wheel_uri] + [f"s3://{artifacts}/wheels/glue/{runtime}/{w.name}" for w in dependencies[runtime]]
        assert arguments["--additional-python-modules"].split(",") == expected
        assert arguments["--python-modules-installer-option"] == "--no-index"
        for wheel in dependencies[runtime]:
            head = s3.head_object(Bucket=artifacts, Key=f"wheels/glue/{runtime}/{wheel.name}")
            assert head["ContentLength"] == wheel.stat().st_size and head["ServerSideEncryption"] == "aws:kms"
    assert python["Command"] == {
        "Name": "pythonshell",
        "ScriptLocation": f"s3://{artifacts}/glue/scripts/glue_python_shell.py",
        "PythonVersion": "3.9",
    }
    assert spark["Command"]["Name"] == "glueetl"
    assert spark["Command"]["ScriptLocation"] == f"s3://{artifacts}/glue/scripts/glue_spark.py"
    assert spark["GlueVersion"] == "5.0"
    assert spark["DefaultArguments"]["--job-bookmark-option"] == "job-bookmark-disable"
    uploaded = {
        f"wheels/{deployment.packages.wheel.name}": deployment.packages.wheel,
        f"lambda/{deployment.packages.lambda_zip.name}": deployment.packages.lambda_zip,
        "glue/scripts/glue_python_shell.py": REPO_ROOT / "src/lakeport/jobs/glue_python_shell.py",
        "glue/scripts/glue_spark.py": REPO_ROOT / "src/lakeport/jobs/glue_spark.py",
    }
    for key, local in uploaded.items():
        assert s3.get_object(Bucket=artifacts, Key=key)["Body"].read() == local.read_bytes(), key


def test_state_machine_runs_the_rendered_ingest_definition(deployment: Deployment, aws: AwsContext) -> None:
    machine = aws.client("stepfunctions").describe_state_machine(
        stateMachineArn=deployment.output("ingest_state_machine_arn")
    )
    assert json.loads(machine["definition"]) == render_ingest(
        deployment.resources(), deployment.output("notifier_function_arn")
    )


def test_ingest_queue_redrives_to_the_dead_letter_queue(deployment: Deployment, aws: AwsContext) -> None:
    sqs = aws.client("sqs")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=deployment.output("ingest_dlq_url"), AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    attributes = sqs.get_queue_attributes(QueueUrl=deployment.output("ingest_queue_url"), AttributeNames=["All"])[
        "Attributes"
    ]
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5}
    assert dlq_arn.endswith(f":{deployment.output('ingest_dlq_name')}")
    [mapping] = aws.client("lambda").list_event_source_mappings(EventSourceArn=attributes["QueueArn"])[
        "EventSourceMappings"
    ]
    assert function_name_of(mapping["FunctionArn"]) == deployment.output("dispatcher_function_name")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 60)


def test_athena_workgroup_enforces_encrypted_results_and_a_scan_limit(deployment: Deployment, aws: AwsContext) -> None:
    workgroup = aws.client("athena").get_work_group(WorkGroup=deployment.output("athena_workgroup_name"))["WorkGroup"]
    configuration = workgroup["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == 10 * 1024**3
    assert configuration["ResultConfiguration"] == {
        "OutputLocation": f"s3://{deployment.output('athena_results_bucket_name')}/results/",
        "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": deployment.output("kms_key_arn")},
    }


# --- (c) a file travels through the deployment --------------------------------------------------


def test_a_file_put_into_the_raw_bucket_is_ingested_through_the_deployment(
    deployment: Deployment, emulator: Any, aws: AwsContext
) -> None:
    resources = deployment.resources()  # every name below comes from the outputs
    stack = LocalStack(resources, emulator=emulator, attach=True)
    stack.start()
    try:
        wire(stack)
        # The local poller feeds the queue to the dispatcher; the emulator's own delivery is off.
        assert stack.feed is not None
        [mapping] = aws.client("lambda").list_event_source_mappings(EventSourceArn=stack.feed.queue_arn)[
            "EventSourceMappings"
        ]
        assert mapping["State"] == "Disabled"
        assert stack.feed.queue_url == deployment.output("ingest_queue_url")
        dynamodb, s3 = aws.client("dynamodb"), aws.client("s3")
        registry = ContractRegistry(dynamodb, resources.datasets_table)
        registry.apply(load_contract_file(EXAMPLES / "contracts" / "orders.yaml"), applied_by="terraform-apply-test")
        s3.put_object(Bucket=resources.raw_bucket, Key=ORDERS_FILE, Body=(EXAMPLES / "raw" / ORDERS_FILE).read_bytes())
        source = head_object(s3, resources.raw_bucket, ORDERS_FILE)

        stack.wait_idle(timeout=120)

        executions = aws.client("stepfunctions").list_executions(
            stateMachineArn=deployment.output("ingest_state_machine_arn")
        )["executions"]
        assert [e["status"] for e in executions] == ["SUCCEEDED"]
        [run] = RunLedger(dynamodb, resources.runs_table).list("sales.orders")
        assert (run.state, run.rows_read, run.rows_written, run.rows_quarantined) == ("SUCCEEDED", 12, 7, 5)
        assert run.execution_arn == executions[0]["executionArn"]
        assert [r.job_name for r in stack.glue.records()] == [deployment.output("python_job_name")]
        record = FileLedger(dynamodb, resources.files_table).get(source)
        assert record is not None and (record.state, record.run_id) == ("SUCCEEDED", run.run_id)
        engine = LocalQueryEngine.for_context(aws)
        assert engine.execute("SELECT count(*) AS n FROM sales.orders").to_pylist() == [{"n": 7}]
        curated = s3.list_objects_v2(Bucket=deployment.output("curated_bucket_name"), Prefix="sales/orders/")
        assert curated.get("KeyCount", 0) > 0
    finally:
        stack.stop()


def test_a_plan_without_the_glue_dependency_wheels_says_to_package_first(
    deployment: Deployment, tmp_path: Path
) -> None:
    """A build that skipped 'make package' (or half of it) must not deploy jobs that cannot start."""
    partial = tmp_path / "dist"
    partial.mkdir()
    for built in (deployment.packages.wheel, deployment.packages.lambda_zip):
        shutil.copyfile(built, partial / built.name)
    variables = [v for v in deployment.variables() if not v.startswith("-var=artifacts_dir=")]

    planned = deployment.terraform(
        "plan", "-input=false", "-refresh=false", *variables, f"-var=artifacts_dir={partial}"
    )

    assert planned.returncode != 0
    said = " ".join(planned.stderr.split())  # terraform wraps long messages
    assert "No dependency wheels in <artifacts_dir>/glue/python-shell/: run 'make package' first." in said
    assert "No dependency wheels in <artifacts_dir>/glue/spark/: run 'make package' first." in said


# --- (d) destroy --------------------------------------------------------------------------------


def test_terraform_destroy_removes_the_deployment(deployment: Deployment, aws: AwsContext, capsys: Any) -> None:
    resources = deployment.resources()
    destroyed = deployment.destroy()
    with capsys.disabled():
        print(f"\nterraform destroy against the emulator: {deployment.destroy_seconds:.1f} s")
    assert destroyed.returncode == 0, f"terraform destroy failed:\n{log_tail(destroyed)}"

    buckets = {b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]}
    ours = {
        resources.raw_bucket,
        resources.curated_bucket,
        resources.quarantine_bucket,
        resources.artifacts_bucket,
        resources.athena_results_bucket,
        deployment.output("access_logs_bucket_name"),
    }
    assert buckets & ours == set()
    tables = set(aws.client("dynamodb").list_tables()["TableNames"])
    assert tables & {resources.datasets_table, resources.files_table, resources.runs_table} == set()
    assert aws.client("stepfunctions").list_state_machines()["stateMachines"] == []
    assert aws.client("glue").get_jobs()["Jobs"] == []
    assert aws.client("sqs").list_queues().get("QueueUrls", []) == []
    with pytest.raises(ClientError):
        aws.client("lambda").get_function(FunctionName=deployment.output("dispatcher_function_name"))
    state = deployment.terraform("state", "list")
    assert state.returncode == 0 and state.stdout.strip() == "", f"left in the Terraform state:\n{log_tail(state)}"
