"""Every IAM policy Terraform renders is an aws_iam_policy_document (so it can be read here) and
allows no wildcard action on S3, DynamoDB, Glue or KMS (nor "*" or "<service>:*")."""

from __future__ import annotations

from pathlib import Path

from iac import blocks, load_terraform, policy_problems


def test_terraform_policies_are_documents_without_wildcard_actions(terraform_config: dict) -> None:
    assert policy_problems(terraform_config) == []


def test_every_component_role_has_its_own_policy(terraform_config: dict) -> None:
    documents = {name for _, kind, name, _ in blocks(terraform_config, "data") if kind == "aws_iam_policy_document"}
    assert {"dispatcher", "notifier", "state_machine", "glue_job", "kms"} <= documents
    roles = {name for _, kind, name, _ in blocks(terraform_config, "resource") if kind == "aws_iam_role"}
    assert roles == {"dispatcher", "notifier", "state_machine", "python_job", "spark_job"}


def test_the_policy_check_catches_wildcards_and_inline_json(tmp_path: Path) -> None:
    (tmp_path / "bad.tf").write_text(
        """
data "aws_iam_policy_document" "bad" {
  statement {
    sid       = "TooBroad"
    actions   = ["s3:GetObject", "s3:*", "dynamodb:Get*", "sqs:*", "*"]
    resources = ["*"]
  }
  statement {
    sid       = "DenyIsFine"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = [1]
    content {
      sid       = "Hidden"
      actions   = ["kms:*"]
      resources = ["*"]
    }
  }
}

resource "aws_sqs_queue_policy" "inline" {
  queue_url = "q"
  policy    = jsonencode({ Statement = [{ Effect = "Allow", Action = "sqs:*" }] })
}
""",
        encoding="utf-8",
    )
    problems = "\n".join(policy_problems(load_terraform(tmp_path)))
    for expected in (
        "'s3:*'",
        "'dynamodb:Get*'",
        "'sqs:*'",
        "'*'",
        "Hidden: 'kms:*'",
        "aws_sqs_queue_policy.inline",
    ):
        assert expected in problems
    assert "DenyIsFine" not in problems
    assert "'s3:GetObject'" not in problems
