# Provider, naming, the project KMS key and the S3 buckets.

provider "aws" {
  region = var.region

  # Against the embedded emulator (aws_endpoint_url set) every service is redirected below; the
  # account id is still looked up through the STS endpoint, so names match a real deployment.
  skip_credentials_validation = var.skip_credentials_validation
  skip_requesting_account_id  = false
  skip_metadata_api_check     = var.aws_endpoint_url != null
  s3_use_path_style           = var.aws_endpoint_url != null
  # Against the emulator: few retries, so an unsupported call fails in seconds, but more than one,
  # so that a loopback connection reset on a loaded machine is retried as the SDK retries it on AWS.
  max_retries = var.aws_endpoint_url != null ? 4 : null

  default_tags {
    tags = local.tags
  }

  dynamic "endpoints" {
    for_each = var.aws_endpoint_url == null ? [] : [var.aws_endpoint_url]
    content {
      athena     = endpoints.value
      cloudwatch = endpoints.value
      dynamodb   = endpoints.value
      ec2        = endpoints.value
      events     = endpoints.value
      glue       = endpoints.value
      iam        = endpoints.value
      kms        = endpoints.value
      lambda     = endpoints.value
      logs       = endpoints.value
      s3         = endpoints.value
      sfn        = endpoints.value
      sns        = endpoints.value
      sqs        = endpoints.value
      sts        = endpoints.value
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name_prefix       = "${var.project}-${var.environment}"
  account_id        = data.aws_caller_identity.current.account_id
  partition         = data.aws_partition.current.partition
  bucket_prefix     = "${local.name_prefix}-${local.account_id}"
  metrics_namespace = "Lakeport"

  # The same rule as lakeport.resources.Resources.for_deployment; the keys are its field names.
  names = {
    name_prefix           = local.name_prefix
    account_id            = local.account_id
    region                = var.region
    raw_bucket            = "${local.bucket_prefix}-raw"
    curated_bucket        = "${local.bucket_prefix}-curated"
    quarantine_bucket     = "${local.bucket_prefix}-quarantine"
    artifacts_bucket      = "${local.bucket_prefix}-artifacts"
    athena_results_bucket = "${local.bucket_prefix}-athena"
    datasets_table        = "${local.name_prefix}-datasets"
    files_table           = "${local.name_prefix}-files"
    runs_table            = "${local.name_prefix}-runs"
    state_machine_name    = "${local.name_prefix}-ingest"
    python_job_name       = "${local.name_prefix}-ingest-python"
    spark_job_name        = "${local.name_prefix}-ingest-spark"
    ingest_queue_name     = "${local.name_prefix}-ingest"
    ingest_dlq_name       = "${local.name_prefix}-ingest-dlq"
    alerts_topic_name     = "${local.name_prefix}-alerts"
    athena_workgroup      = local.name_prefix
    metrics_namespace     = local.metrics_namespace
  }

  # Buckets that only this module knows about (not part of lakeport's runtime names).
  access_logs_bucket = "${local.bucket_prefix}-access-logs"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  repository_root = coalesce(var.repository_root, abspath("${path.module}/.."))
  artifacts_dir   = coalesce(var.artifacts_dir, "${local.repository_root}/dist")

  # KMS-encrypted buckets, keyed by zone.
  data_buckets = {
    raw        = local.names.raw_bucket
    curated    = local.names.curated_bucket
    quarantine = local.names.quarantine_bucket
    artifacts  = local.names.artifacts_bucket
    athena     = local.names.athena_results_bucket
  }
  # Server access logs pay for themselves where people and jobs touch data or code; Athena
  # results are short-lived copies of query output, already audited through the workgroup.
  logged_buckets = { for zone, name in local.data_buckets : zone => name if zone != "athena" }
  # Replaced or deleted objects stay recoverable here (raw is the system of record; curated and
  # quarantine are rewritten by overwrite/upsert runs; artifacts hold the deployed code).
  versioned_buckets = local.logged_buckets
}

# --- KMS -------------------------------------------------------------------------------------

resource "aws_kms_key" "main" {
  description             = "${local.name_prefix}: buckets, tables, queues, topic, logs and Glue job data"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}

data "aws_iam_policy_document" "kms" {
  # In a key policy "*" as resource means "this key".
  #checkov:skip=CKV_AWS_356:in a key policy the resource "*" is the key itself; nothing wider can be named
  #checkov:skip=CKV_AWS_109:key administration is granted to the account only, which delegates it to IAM policies (the deploy role)
  #checkov:skip=CKV_AWS_111:key administration is granted to the account only, which delegates it to IAM policies (the deploy role)
  statement {
    sid = "AccountAdministersKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]
  }

  statement {
    sid = "AccountRolesUseKeyThroughIamPolicies"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]
  }

  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid = "ServicesDeliverToEncryptedQueuesAndTopic"
    principals {
      type = "Service"
      # EventBridge sends S3 events to the ingest queue and job failures to the topic;
      # CloudWatch alarms publish to the topic.
      identifiers = ["events.amazonaws.com", "cloudwatch.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# --- buckets ---------------------------------------------------------------------------------

resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_144:cross-region replication doubles storage cost; raw files can be re-sent from the on-premise source and curated data rebuilt from raw
  #checkov:skip=CKV2_AWS_62:only the raw bucket needs event notifications (aws_s3_bucket_notification.raw); lakeport itself writes the other buckets and knows what it wrote
  for_each      = local.data_buckets
  bucket        = each.value
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each                = aws_s3_bucket.data
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = local.versioned_buckets
  bucket   = aws_s3_bucket.data[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = local.logged_buckets
  bucket        = aws_s3_bucket.data[each.key].id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "s3/${each.value}/"

  # S3 checks that the target bucket's policy lets the logging service write.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

data "aws_iam_policy_document" "data_bucket" {
  for_each = var.enable_bucket_deny_statements ? aws_s3_bucket.data : {}

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # Puts without an encryption header get the bucket default (SSE-KMS with the project key);
  # a put that asks for anything else is refused, so every object ends up under the project key.
  statement {
    sid    = "DenyOtherEncryption"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${each.value.arn}/*"]
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid    = "DenyOtherKmsKey"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${each.value.arn}/*"]
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.main.arn]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  for_each = data.aws_iam_policy_document.data_bucket
  bucket   = aws_s3_bucket.data[each.key].id
  policy   = data.aws_iam_policy_document.data_bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.data]
}

resource "aws_s3_bucket_notification" "raw" {
  bucket      = aws_s3_bucket.data["raw"].id
  eventbridge = true
}

# --- lifecycle -------------------------------------------------------------------------------

locals {
  # Per bucket, the rules on top of the housekeeping rule every bucket gets.
  # transitions: storage class => days; expiration_days: null for "never".
  lifecycle_rules = {
    raw = [{
      id              = "age-out-ingested-files"
      prefix          = ""
      transitions     = { STANDARD_IA = var.raw_transition_to_ia_days, GLACIER = var.raw_transition_to_glacier_days }
      expiration_days = null
    }]
    curated = []
    quarantine = [{
      id              = "expire-quarantine"
      prefix          = ""
      transitions     = {}
      expiration_days = var.quarantine_expiration_days
    }]
    artifacts = [{
      id              = "expire-glue-temp"
      prefix          = local.glue_temp_prefix
      transitions     = {}
      expiration_days = 7
    }]
    athena = [{
      id              = "expire-query-results"
      prefix          = ""
      transitions     = {}
      expiration_days = var.athena_results_expiration_days
    }]
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id

  rule {
    id     = "housekeeping"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  dynamic "rule" {
    for_each = local.lifecycle_rules[each.key]
    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        prefix = rule.value.prefix
      }

      dynamic "transition" {
        for_each = rule.value.transitions
        content {
          storage_class = transition.key
          days          = transition.value
        }
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days == null ? [] : [rule.value.expiration_days]
        content {
          days = expiration.value
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

# --- access logs -----------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_145:S3 server access logging can only deliver to a bucket encrypted with SSE-S3, so this bucket cannot use the KMS key
  #checkov:skip=CKV_AWS_21:log objects are written once and expire; versions would only add cost
  #checkov:skip=CKV_AWS_144:access logs are an audit trail of this region; replicating them doubles cost without protecting data
  #checkov:skip=CKV2_AWS_62:nothing reacts to new log objects
  bucket        = local.access_logs_bucket
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  dynamic "statement" {
    for_each = var.enable_bucket_deny_statements ? [1] : []
    content {
      sid    = "DenyInsecureTransport"
      effect = "Deny"
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      actions   = ["s3:*"]
      resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }

  statement {
    sid = "S3ServerAccessLogs"
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for bucket in aws_s3_bucket.data : bucket.arn]
    }
  }

  statement {
    sid = "VpcFlowLogsWrite"
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/vpc-flow-logs/AWSLogs/${local.account_id}/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid = "VpcFlowLogsCheckBucket"
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.access_logs.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs.json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
