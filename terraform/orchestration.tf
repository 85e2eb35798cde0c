# Raw bucket → EventBridge → SQS (batching, DLQ) → dispatcher Lambda → Step Functions "ingest"
# → Glue job; failures → notifier Lambda → SNS.

locals {
  lambda_package_path = "${local.artifacts_dir}/${var.lambda_package_file_name}"
  dispatcher_name     = "${local.name_prefix}-dispatcher"
  notifier_name       = "${local.name_prefix}-notifier"
  manifests_prefix    = "manifests/"
  state_machine_arn   = "arn:${local.partition}:states:${var.region}:${local.account_id}:stateMachine:${local.names.state_machine_name}"
  lambda_environment = {
    LAKEPORT_NAME_PREFIX = local.name_prefix
    LAKEPORT_ACCOUNT_ID  = local.account_id
  }
}

# --- state machine ---------------------------------------------------------------------------

resource "aws_sfn_state_machine" "ingest" {
  #checkov:skip=CKV_AWS_284:X-Ray tracing is opt-in (enable_tracing); every run is already recorded in the runs table and the execution history
  #checkov:skip=CKV_AWS_285:execution data is left out of the logs on purpose: it carries object keys and manifests, and the execution history keeps it for 90 days
  name     = local.names.state_machine_name
  role_arn = aws_iam_role.state_machine.arn
  type     = "STANDARD"
  definition = templatefile("${local.repository_root}/src/lakeport/orchestration/ingest.asl.json", {
    datasets_table        = aws_dynamodb_table.datasets.name
    runs_table            = aws_dynamodb_table.runs.name
    files_table           = aws_dynamodb_table.files.name
    python_job_name       = aws_glue_job.python.name
    spark_job_name        = aws_glue_job.spark.name
    alerts_topic_arn      = aws_sns_topic.alerts.arn
    notifier_function_arn = aws_lambda_function.notifier.arn
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = false
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = var.enable_tracing
  }
}

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${local.name_prefix}-state-machine"
  description        = "Step Functions ingest state machine"
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "ingest"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

data "aws_iam_policy_document" "state_machine" {
  statement {
    sid       = "LoadContract"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.datasets.arn]
  }

  statement {
    sid       = "RecordRun"
    actions   = ["dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.runs.arn]
  }

  statement {
    sid       = "RunGlueJobs"
    actions   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
    resources = [aws_glue_job.python.arn, aws_glue_job.spark.arn]
  }

  statement {
    sid       = "InvokeNotifier"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.notifier.arn, "${aws_lambda_function.notifier.arn}:*"]
  }

  statement {
    sid       = "Alert"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  statement {
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid = "DeliverLogs"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"] # these log-delivery actions accept no resource ARN
  }

  dynamic "statement" {
    for_each = var.enable_tracing ? [1] : []
    content {
      sid       = "Trace"
      actions   = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"] # X-Ray actions accept no resource ARN
    }
  }
}

# --- S3 events → queue -----------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "raw_object_created" {
  name        = "${local.name_prefix}-raw-object-created"
  description = "Every object created in the raw bucket goes to the ingest queue"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [aws_s3_bucket.data["raw"].bucket] }
    }
  })
}

resource "aws_cloudwatch_event_target" "raw_object_created" {
  rule      = aws_cloudwatch_event_rule.raw_object_created.name
  target_id = "ingest-queue"
  arn       = aws_sqs_queue.ingest.arn

  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = aws_sqs_queue.ingest_dlq.arn
  }
}

resource "aws_sqs_queue" "ingest" {
  name                              = local.names.ingest_queue_name
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
  visibility_timeout_seconds        = 6 * var.dispatcher_timeout_seconds
  message_retention_seconds         = 345600
  receive_wait_time_seconds         = 20
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.ingest_dlq.arn
    maxReceiveCount     = var.dlq_max_receive_count
  })
}

resource "aws_sqs_queue" "ingest_dlq" {
  name                              = local.names.ingest_dlq_name
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600
}

data "aws_iam_policy_document" "ingest_queue" {
  statement {
    sid = "OnlyTheRawBucketRule"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.raw_object_created.arn]
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.ingest.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "ingest" {
  queue_url = aws_sqs_queue.ingest.id
  policy    = data.aws_iam_policy_document.ingest_queue.json
}

data "aws_iam_policy_document" "ingest_dlq" {
  statement {
    sid = "UndeliverableEventsOfTheRawBucketRule"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.ingest_dlq.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.raw_object_created.arn]
    }
  }

  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.ingest_dlq.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "ingest_dlq" {
  queue_url = aws_sqs_queue.ingest_dlq.id
  policy    = data.aws_iam_policy_document.ingest_dlq.json
}

# --- Lambda functions ------------------------------------------------------------------------

# Built by 'make package'.
resource "aws_s3_object" "lambda_package" {
  bucket      = aws_s3_bucket.data["artifacts"].id
  key         = "lambda/${var.lambda_package_file_name}"
  source      = local.lambda_package_path
  source_hash = filemd5(local.lambda_package_path)
  kms_key_id  = aws_kms_key.main.arn
}

resource "aws_lambda_function" "dispatcher" {
  #checkov:skip=CKV_AWS_116:invoked only through the SQS event source mapping; failed messages go to the ingest queue's dead-letter queue, a function DLQ would never receive anything
  #checkov:skip=CKV_AWS_117:the function only calls AWS APIs over TLS; a VPC would add network interfaces and endpoint costs without narrowing what it can reach
  #checkov:skip=CKV_AWS_272:code comes from the versioned, KMS-encrypted artifacts bucket, written only by the deploy role from the built package
  function_name                  = local.dispatcher_name
  description                    = "Claims new raw files in the ledger and starts one ingest execution per dataset batch"
  role                           = aws_iam_role.dispatcher.arn
  runtime                        = "python3.11"
  architectures                  = ["x86_64"]
  handler                        = "lakeport.orchestration.dispatcher.handler"
  s3_bucket                      = aws_s3_object.lambda_package.bucket
  s3_key                         = aws_s3_object.lambda_package.key
  s3_object_version              = aws_s3_object.lambda_package.version_id
  memory_size                    = 512
  timeout                        = var.dispatcher_timeout_seconds
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = var.enable_tracing ? "Active" : "PassThrough"
  }

  depends_on = [aws_cloudwatch_log_group.dispatcher, aws_iam_role_policy.dispatcher]
}

resource "aws_lambda_event_source_mapping" "dispatcher" {
  event_source_arn                   = aws_sqs_queue.ingest.arn
  function_name                      = aws_lambda_function.dispatcher.arn
  batch_size                         = var.dispatcher_batch_size
  maximum_batching_window_in_seconds = var.dispatcher_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
}

resource "aws_lambda_function" "notifier" {
  #checkov:skip=CKV_AWS_116:invoked synchronously by the state machine, which retries it and falls back to a raw SNS message; a function DLQ only applies to asynchronous calls
  #checkov:skip=CKV_AWS_117:the function only calls AWS APIs over TLS; a VPC would add network interfaces and endpoint costs without narrowing what it can reach
  #checkov:skip=CKV_AWS_272:code comes from the versioned, KMS-encrypted artifacts bucket, written only by the deploy role from the built package
  function_name                  = local.notifier_name
  description                    = "Records a failed ingest run and writes the alert text"
  role                           = aws_iam_role.notifier.arn
  runtime                        = "python3.11"
  architectures                  = ["x86_64"]
  handler                        = "lakeport.orchestration.notifier.handler"
  s3_bucket                      = aws_s3_object.lambda_package.bucket
  s3_key                         = aws_s3_object.lambda_package.key
  s3_object_version              = aws_s3_object.lambda_package.version_id
  memory_size                    = 256
  timeout                        = 60
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  kms_key_arn                    = aws_kms_key.main.arn

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = var.enable_tracing ? "Active" : "PassThrough"
  }

  depends_on = [aws_cloudwatch_log_group.notifier, aws_iam_role_policy.notifier]
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "dispatcher" {
  name               = "${local.name_prefix}-dispatcher"
  description        = "Dispatcher Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "dispatcher" {
  name   = "dispatch"
  role   = aws_iam_role.dispatcher.id
  policy = data.aws_iam_policy_document.dispatcher.json
}

data "aws_iam_policy_document" "dispatcher" {
  statement {
    sid = "ReadContracts"
    # Routing a key to its dataset reads every contract's head item (a filtered Scan).
    actions   = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"]
    resources = [aws_dynamodb_table.datasets.arn]
  }

  statement {
    sid       = "ClaimFiles"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.files.arn]
  }

  statement {
    sid       = "FindClaimsOfAnUnstartedRun"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.files.arn}/index/by_run"]
  }

  statement {
    sid       = "OpenRuns"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.runs.arn]
  }

  statement {
    sid       = "WriteManifests"
    actions   = ["s3:PutObject"]
    resources = ["${local.artifacts_arn}/${local.manifests_prefix}*"]
  }

  statement {
    sid       = "InspectRawFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.data["raw"].arn}/*"]
  }

  statement {
    sid       = "ListDeliveryFolders"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data["raw"].arn]
  }

  statement {
    sid       = "StartIngest"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid       = "CheckIngestStarted"
    actions   = ["states:DescribeExecution"]
    resources = ["arn:${local.partition}:states:${var.region}:${local.account_id}:execution:${local.names.state_machine_name}:*"]
  }

  statement {
    sid       = "ReportUnroutedObjects"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the namespace condition is the scope
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }

  statement {
    sid       = "ConsumeQueue"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.ingest.arn]
  }

  statement {
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dispatcher.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.enable_tracing ? [1] : []
    content {
      sid       = "Trace"
      actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"] # X-Ray actions accept no resource ARN
    }
  }
}

resource "aws_iam_role" "notifier" {
  name               = "${local.name_prefix}-notifier"
  description        = "Notifier Lambda"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "notifier" {
  name   = "notify"
  role   = aws_iam_role.notifier.id
  policy = data.aws_iam_policy_document.notifier.json
}

data "aws_iam_policy_document" "notifier" {
  statement {
    sid       = "RecordFailure"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [aws_dynamodb_table.runs.arn, aws_dynamodb_table.files.arn]
  }

  statement {
    sid       = "FilesOfTheRun"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.files.arn}/index/by_run"]
  }

  statement {
    sid       = "ReadManifests"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifacts_arn}/${local.manifests_prefix}*"]
  }

  statement {
    sid       = "Alert"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
  }

  statement {
    sid       = "UseProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.notifier.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.enable_tracing ? [1] : []
    content {
      sid       = "Trace"
      actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      resources = ["*"] # X-Ray actions accept no resource ARN
    }
  }
}

# --- alerts ----------------------------------------------------------------------------------

resource "aws_sns_topic" "alerts" {
  name              = local.names.alerts_topic_name
  kms_master_key_id = aws_kms_key.main.arn
}

data "aws_iam_policy_document" "alerts" {
  statement {
    sid = "AccountPublishesAndManages"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic",
      "sns:Publish",
      "sns:SetTopicAttributes",
      "sns:Subscribe",
    ]
    resources = [aws_sns_topic.alerts.arn]
  }

  statement {
    sid = "AlarmsOfThisAccount"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid = "JobFailureRule"
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.glue_job_failed.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

resource "aws_sns_topic_subscription" "alert_email" {
  count     = var.alert_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}
