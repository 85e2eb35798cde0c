"""The security posture SECURITY.md promises, read from terraform/ and CFN/ (no wildcard IAM actions on
data services is checked in test_iam_policies.py; checkov runs in test_checkov.py)."""

from __future__ import annotations

from typing import Any, Iterator

from iac import blocks, load_cfn, load_terraform, merged

KEY = "${aws_kms_key.main.arn}"


def _resources(config: dict, kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for _, block_type, name, body in blocks(config, "resource") if block_type == kind}


def _document(config: dict, name: str) -> dict[str, Any]:
    [body] = [b for _, t, n, b in blocks(config, "data") if t == "aws_iam_policy_document" and n == name]
    return body


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Statements, including those of ``dynamic "statement"`` blocks (switched on by default)."""
    yield from document.get("statement", [])
    for dynamic in document.get("dynamic", []):
        yield from dynamic.get("statement", {}).get("content", [])


def _conditions(statement: dict[str, Any]) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(c["test"], c["variable"], tuple(c["values"])) for c in statement.get("condition", [])}


def _denies_plain_http(document: dict[str, Any]) -> bool:
    return any(
        s.get("effect") == "Deny"
        and s.get("actions") == ["s3:*"]
        and len(s.get("resources", [])) == 2
        and s["resources"][1] == s["resources"][0] + "/*"
        and ("Bool", "aws:SecureTransport", ("false",)) in _conditions(s)
        and s["principals"] == [{"type": "*", "identifiers": ["*"]}]
        for s in _statements(document)
    )


def _policy_document_name(policy: dict[str, Any]) -> str:
    # "${data.aws_iam_policy_document.<name>[each.key].json}" or "...<name>.json}"
    return str(policy["policy"]).split("aws_iam_policy_document.")[1].split(".")[0].split("[")[0]


def test_every_bucket_has_a_policy_that_refuses_plain_http() -> None:
    config = load_terraform()
    buckets = _resources(config, "aws_s3_bucket")
    policies = _resources(config, "aws_s3_bucket_policy")
    assert set(buckets) == set(policies) == {"data", "access_logs"}
    for name, policy in policies.items():
        assert f"aws_s3_bucket.{name}" in policy["bucket"] or f"aws_s3_bucket.{name}[" in policy["bucket"]
        assert _denies_plain_http(_document(config, _policy_document_name(policy))), name
    # the Deny statements are on unless switched off for the emulator
    assert merged(config, "variable")["enable_bucket_deny_statements"]["default"] is True


def test_data_buckets_refuse_puts_under_any_other_encryption_or_key() -> None:
    config = load_terraform()
    document = _document(config, "data_bucket")
    by_sid = {s["sid"]: s for s in _statements(document)}
    other_encryption = by_sid["DenyOtherEncryption"]
    assert other_encryption["effect"] == "Deny" and other_encryption["actions"] == ["s3:PutObject"]
    assert _conditions(other_encryption) == {
        ("Null", "s3:x-amz-server-side-encryption", ("false",)),
        ("StringNotEquals", "s3:x-amz-server-side-encryption", ("aws:kms",)),
    }
    other_key = by_sid["DenyOtherKmsKey"]
    assert ("StringNotEquals", "s3:x-amz-server-side-encryption-aws-kms-key-id", (KEY,)) in _conditions(other_key)
    # a put without an encryption header gets the default: SSE-KMS with the project key, bucket keys on
    encryption = _resources(config, "aws_s3_bucket_server_side_encryption_configuration")
    [rule] = encryption["data"]["rule"]
    [default] = rule["apply_server_side_encryption_by_default"]
    assert (default["sse_algorithm"], default["kms_master_key_id"], rule["bucket_key_enabled"]) == (
        "aws:kms",
        KEY,
        True,
    )


def test_the_access_log_bucket_is_encrypted_the_only_way_s3_log_delivery_accepts() -> None:
    # S3 server access logs can only be delivered to a bucket whose default encryption is SSE-S3,
    # so this one bucket uses AES256 and takes no KMS condition; it holds request logs, not data.
    config = load_terraform()
    [rule] = _resources(config, "aws_s3_bucket_server_side_encryption_configuration")["access_logs"]["rule"]
    assert rule["apply_server_side_encryption_by_default"] == [{"sse_algorithm": "AES256"}]
    writers = [s for s in _statements(_document(config, "access_logs")) if s.get("effect", "Allow") == "Allow"]
    assert writers and all(
        ("StringEquals", "aws:SourceAccount", ("${local.account_id}",)) in _conditions(s) for s in writers
    )


def test_every_bucket_blocks_public_access() -> None:
    config = load_terraform()
    blocks_ = _resources(config, "aws_s3_bucket_public_access_block")
    assert set(blocks_) == {"data", "access_logs"}
    for body in blocks_.values():
        assert all(
            body[k] is True
            for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )


def test_the_key_policy_is_scoped() -> None:
    config = load_terraform()
    [key] = _resources(config, "aws_kms_key").values()
    assert key["enable_key_rotation"] is True
    assert key["policy"] == "${data.aws_iam_policy_document.kms.json}"
    statements = list(_statements(_document(config, "kms")))
    root = "arn:${local.partition}:iam::${local.account_id}:root"
    for statement in statements:
        actions = statement["actions"]
        assert all(a.startswith("kms:") and "*" not in a for a in actions), statement["sid"]
        for principal in statement["principals"]:
            assert "*" not in principal["identifiers"], statement["sid"]
            if principal["type"] == "AWS":
                # only the account itself, which hands use on to IAM policies (the reason is in main.tf)
                assert principal["identifiers"] == [root], statement["sid"]
            else:
                assert principal["type"] == "Service"
                assert statement.get("condition"), f"{statement['sid']}: a service principal needs a condition"
    # nobody outside the account may administer or use the key; no statement grants kms:*
    assert {s["sid"] for s in statements} >= {"AccountAdministersKey", "AccountRolesUseKeyThroughIamPolicies"}


def test_queues_and_topics_are_encrypted_with_the_project_key() -> None:
    config = load_terraform()
    queues = _resources(config, "aws_sqs_queue")
    topics = _resources(config, "aws_sns_topic")
    assert queues and topics
    for name, body in {**queues, **topics}.items():
        assert body.get("kms_master_key_id") == KEY, name


def test_the_glue_security_configuration_encrypts_s3_logs_and_bookmarks_and_every_job_uses_it() -> None:
    config = load_terraform()
    [(name, configuration)] = _resources(config, "aws_glue_security_configuration").items()
    [encryption] = configuration["encryption_configuration"]
    assert encryption["s3_encryption"] == [{"s3_encryption_mode": "SSE-KMS", "kms_key_arn": KEY}]
    assert encryption["cloudwatch_encryption"] == [{"cloudwatch_encryption_mode": "SSE-KMS", "kms_key_arn": KEY}]
    assert encryption["job_bookmarks_encryption"] == [{"job_bookmarks_encryption_mode": "CSE-KMS", "kms_key_arn": KEY}]
    jobs = _resources(config, "aws_glue_job")
    assert set(jobs) == {"python", "spark"}
    assert all(
        job["security_configuration"] == f"${{aws_glue_security_configuration.{name}.name}}" for job in jobs.values()
    )


def test_tables_have_point_in_time_recovery_and_the_project_key() -> None:
    tables = _resources(load_terraform(), "aws_dynamodb_table")
    assert set(tables) == {"datasets", "files", "runs"}
    for name, table in tables.items():
        assert table["point_in_time_recovery"] == [{"enabled": True}], name
        assert table["server_side_encryption"] == [{"enabled": True, "kms_key_arn": KEY}], name


def test_log_groups_are_encrypted_and_expire() -> None:
    groups = _resources(load_terraform(), "aws_cloudwatch_log_group")
    assert groups
    for name, group in groups.items():
        assert group["kms_key_id"] == KEY and group["retention_in_days"], name


def test_the_build_stack_keeps_the_same_rules() -> None:
    resources = load_cfn()["Resources"]
    [bucket_policy] = [r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"]
    statements = {s["Sid"]: s for s in bucket_policy["Properties"]["PolicyDocument"]["Statement"]}
    tls = statements["DenyInsecureTransport"]
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    encryption = statements["DenyOtherEncryption"]
    assert encryption["Effect"] == "Deny" and encryption["Action"] == "s3:PutObject"
    assert encryption["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "aws:kms"}
    [key] = [r for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
    assert key["Properties"]["EnableKeyRotation"] is True
    for statement in key["Properties"]["KeyPolicy"]["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement["Sid"]
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS") != "*", statement["Sid"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Logs::LogGroup":
            assert "KmsKeyId" in resource["Properties"]
        if resource["Type"] == "AWS::S3::Bucket":
            [rule] = resource["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
