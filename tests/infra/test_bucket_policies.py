"""What the bucket policies deny, read from the HCL (the emulator cannot show it: it applies a Deny
statement without evaluating its conditions, so test_terraform_apply.py turns these statements off).

Requests are evaluated against the Deny statements the way IAM evaluates these condition operators:
``Bool`` and ``Null`` on the request's context keys, ``StringNotEquals`` true when the key is absent.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Optional

import pytest
from iac import blocks, merged

pytestmark = pytest.mark.terraform

BUCKET = "arn:aws:s3:::lakeport-dev-111122223333-raw"
LOGS = "arn:aws:s3:::lakeport-dev-111122223333-access-logs"
PROJECT_KEY = "arn:aws:kms:eu-west-1:111122223333:key/project"
OTHER_KEY = "arn:aws:kms:eu-west-1:111122223333:key/other"
EXPRESSIONS = {
    "${each.value.arn}": BUCKET,
    "${aws_s3_bucket.access_logs.arn}": LOGS,
    "${aws_kms_key.main.arn}": PROJECT_KEY,
}
TLS = {"aws:SecureTransport": "true"}
PLAIN_HTTP = {"aws:SecureTransport": "false"}
SSE = "s3:x-amz-server-side-encryption"
SSE_KEY = "s3:x-amz-server-side-encryption-aws-kms-key-id"


def resolve(value: str) -> str:
    for expression, replacement in EXPRESSIONS.items():
        value = value.replace(expression, replacement)
    assert "${" not in value, f"the test does not know the value of {value!r}"
    return value


def condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    test, key, values = condition["test"], condition["variable"], [resolve(v) for v in condition["values"]]
    present: Optional[str] = context.get(key)
    if test == "Bool":
        return present is not None and present.lower() in values
    if test == "Null":
        return (present is None) == (values == ["true"])
    if test == "StringNotEquals":
        return present is None or present not in values
    raise AssertionError(f"the test does not evaluate the condition operator {test}")


def denied(statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]) -> list[str]:
    """The sids of the Deny statements that refuse the request."""
    refusing: list[str] = []
    for statement in statements:
        if statement.get("effect") != "Deny":
            continue
        if not any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in statement["actions"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, resolve(pattern)) for pattern in statement["resources"]):
            continue
        if all(condition_holds(condition, context) for condition in statement.get("condition", [])):
            refusing.append(statement["sid"])
    return refusing


def policy_document(config: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    [body] = [
        body for _, kind, found, body in blocks(config, "data") if (kind, found) == ("aws_iam_policy_document", name)
    ]
    return body


def deny_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements, including the content of ``dynamic "statement"`` blocks."""
    statements = list(document.get("statement", []))
    for dynamic in document.get("dynamic", []):
        statements += dynamic.get("statement", {}).get("content", [])
    return [s for s in statements if s.get("effect") == "Deny"]


@pytest.mark.parametrize(
    ("action", "resource", "context", "refused_by"),
    [
        ("s3:GetObject", f"{BUCKET}/in/a.csv", PLAIN_HTTP, ["DenyInsecureTransport"]),
        ("s3:ListBucket", BUCKET, PLAIN_HTTP, ["DenyInsecureTransport"]),
        (
            "s3:PutObject",
            f"{BUCKET}/in/a.csv",
            {**PLAIN_HTTP, SSE: "aws:kms", SSE_KEY: PROJECT_KEY},
            ["DenyInsecureTransport"],
        ),
        ("s3:PutObject", f"{BUCKET}/in/a.csv", {**TLS, SSE: "AES256"}, ["DenyOtherEncryption"]),
        ("s3:PutObject", f"{BUCKET}/in/a.csv", {**TLS, SSE: "aws:kms", SSE_KEY: OTHER_KEY}, ["DenyOtherKmsKey"]),
        ("s3:PutObject", f"{BUCKET}/in/a.csv", {**TLS, SSE: "aws:kms", SSE_KEY: PROJECT_KEY}, []),
        ("s3:PutObject", f"{BUCKET}/in/a.csv", {**TLS, SSE: "aws:kms"}, []),
        # No encryption header: allowed, and the bucket default (SSE-KMS, project key) encrypts it.
        ("s3:PutObject", f"{BUCKET}/in/a.csv", TLS, []),
        ("s3:GetObject", f"{BUCKET}/in/a.csv", TLS, []),
    ],
)
def test_data_bucket_policy_refuses_plain_http_and_puts_under_other_encryption(
    terraform_config: dict, action: str, resource: str, context: dict[str, str], refused_by: list[str]
) -> None:
    statements = deny_statements(policy_document(terraform_config, "data_bucket"))
    assert denied(statements, action, resource, context) == refused_by


def test_every_data_bucket_gets_the_deny_policy_and_a_project_key_default(terraform_config: dict) -> None:
    assert merged(terraform_config, "variable")["enable_bucket_deny_statements"]["default"] is True
    document = policy_document(terraform_config, "data_bucket")
    assert document["for_each"] == "${var.enable_bucket_deny_statements ? aws_s3_bucket.data : {}}"
    resources = {(kind, name): body for _, kind, name, body in blocks(terraform_config, "resource")}
    policy = resources[("aws_s3_bucket_policy", "data")]
    assert policy["for_each"] == "${data.aws_iam_policy_document.data_bucket}"
    assert policy["policy"] == "${data.aws_iam_policy_document.data_bucket[each.key].json}"
    encryption = resources[("aws_s3_bucket_server_side_encryption_configuration", "data")]
    assert encryption["for_each"] == "${aws_s3_bucket.data}"
    [rule] = encryption["rule"]
    [default] = rule["apply_server_side_encryption_by_default"]
    assert default == {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.main.arn}"}


def test_access_logs_bucket_policy_refuses_plain_http(terraform_config: dict) -> None:
    statements = deny_statements(policy_document(terraform_config, "access_logs"))
    assert denied(statements, "s3:GetObject", f"{LOGS}/s3/x", PLAIN_HTTP) == ["DenyInsecureTransport"]
    assert denied(statements, "s3:GetObject", f"{LOGS}/s3/x", TLS) == []
