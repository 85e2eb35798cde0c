"""Terraform and lakeport agree: resource names, outputs, job arguments and the ASL placeholders."""

from __future__ import annotations

import re
from typing import Any

from iac import REPO_ROOT, blocks, merged

from lakeport.packaging import GLUE_RUNTIMES
from lakeport.resources import Resources

ASL_FILE = REPO_ROOT / "src" / "lakeport" / "orchestration" / "ingest.asl.json"
ASL_VARIABLES = {
    "datasets_table",
    "runs_table",
    "files_table",
    "python_job_name",
    "spark_job_name",
    "alerts_topic_arn",
    "notifier_function_arn",
}
_REFERENCE = re.compile(r"\$\{(local|var)\.([a-z0-9_]+)\}")


def resolve(value: str, local_values: dict[str, Any], variables: dict[str, str], account_id: str) -> str:
    """Evaluate the plain string interpolations of a naming local."""
    value = value.replace("${data.aws_caller_identity.current.account_id}", account_id)
    for _ in range(10):
        match = _REFERENCE.search(value)
        if match is None:
            return value
        kind, name = match.groups()
        if kind == "var":
            replacement = variables[name]
        else:
            replacement = resolve(local_values[name], local_values, variables, account_id)
        value = value[: match.start()] + replacement + value[match.end() :]
    raise AssertionError(f"cannot resolve {value!r}")


def test_resource_names_follow_the_lakeport_naming_rule(terraform_config: dict) -> None:
    local_values = merged(terraform_config, "locals")
    variables = {"project": "lakeport", "environment": "dev", "region": "eu-west-1"}
    names = {
        field: resolve(value, local_values, variables, "111122223333") for field, value in local_values["names"].items()
    }
    assert names == Resources.for_deployment("lakeport-dev", "111122223333", "eu-west-1").as_dict()


def test_project_variable_default_is_lakeport(terraform_config: dict) -> None:
    assert merged(terraform_config, "variable")["project"]["default"] == "lakeport"


def test_outputs_carry_what_lakeport_reads(terraform_config: dict) -> None:
    outputs = set(merged(terraform_config, "output"))
    missing = set(Resources._OUTPUTS) - outputs
    assert missing == set(), f"Resources.from_terraform_outputs needs these outputs: {sorted(missing)}"
    assert {"ingest_state_machine_arn", "kms_key_arn", "alerts_topic_arn"} <= outputs


def test_both_glue_jobs_get_the_job_arguments(terraform_config: dict) -> None:
    job_arguments = merged(terraform_config, "locals")["job_arguments"]
    assert set(job_arguments) == set(Resources.for_deployment().job_arguments())
    jobs = {name: body for _, kind, name, body in blocks(terraform_config, "resource") if kind == "aws_glue_job"}
    assert set(jobs) == {"python", "spark"}
    for name, body in jobs.items():
        assert body["default_arguments"].startswith("${merge(local.job_arguments,"), name


def test_terraform_uploads_the_dependency_wheels_of_every_runtime_packaging_builds(terraform_config: dict) -> None:
    assert merged(terraform_config, "locals")["glue_runtimes"] == [runtime.name for runtime in GLUE_RUNTIMES]


def test_state_machine_template_fills_every_asl_placeholder(terraform_config: dict) -> None:
    [definition] = [
        body["definition"]
        for _, kind, _, body in blocks(terraform_config, "resource")
        if kind == "aws_sfn_state_machine"
    ]
    assert "ingest.asl.json" in definition
    passed = set(re.findall(r"([a-z_]+) = ", definition))
    assert passed == ASL_VARIABLES
    placeholders = set(re.findall(r"\$\{([a-z_]+)\}", ASL_FILE.read_text(encoding="utf-8")))
    assert placeholders <= passed, f"the ASL uses placeholders Terraform does not fill: {placeholders - passed}"
