# Log groups, alarms (to the alerts topic) and one dashboard.

# --- log groups ------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${local.names.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "dispatcher" {
  name              = "/aws/lambda/${local.dispatcher_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "notifier" {
  name              = "/aws/lambda/${local.notifier_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# Continuous logs of the Spark job (the Python-shell job logs to Glue's own groups, encrypted by
# the security configuration).
resource "aws_cloudwatch_log_group" "glue_jobs" {
  name              = "/aws-glue/jobs/${local.name_prefix}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# --- alarms ----------------------------------------------------------------------------------

locals {
  alarm_actions = [aws_sns_topic.alerts.arn]
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  alarm_name          = "${local.name_prefix}-ingest-executions-failed"
  alarm_description   = "An ingest execution failed, timed out or was aborted: see the runs table and the execution history."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "failed"
    expression  = "f + t + a"
    label       = "Unsuccessful executions"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { f = "ExecutionsFailed", t = "ExecutionsTimedOut", a = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        dimensions  = { StateMachineArn = aws_sfn_state_machine.ingest.arn }
        period      = 300
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${local.name_prefix}-ingest-dlq-not-empty"
  alarm_description   = "S3 events the dispatcher could not handle are waiting in the dead-letter queue: inspect them, fix the cause, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.ingest_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "queue_stale" {
  alarm_name          = "${local.name_prefix}-ingest-queue-stale"
  alarm_description   = "The oldest S3 event in the ingest queue is older than expected: is the dispatcher failing or throttled?"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.ingest.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.queue_age_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dispatcher_errors" {
  alarm_name          = "${local.name_prefix}-dispatcher-errors"
  alarm_description   = "The dispatcher Lambda raised errors; its messages will be redelivered and end in the dead-letter queue if it keeps failing."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.dispatcher.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

# Share of quarantined rows per dataset, from the metrics the jobs publish (namespace Lakeport,
# dimension Dataset).
resource "aws_cloudwatch_metric_alarm" "quarantine_ratio" {
  for_each            = toset(var.quarantine_alarm_datasets)
  alarm_name          = "${local.name_prefix}-quarantine-ratio-${replace(each.value, ".", "-")}"
  alarm_description   = "More than ${var.quarantine_ratio_threshold * 100}% of the rows of ${each.value} were quarantined in the last hour: check the source files and the contract."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.quarantine_ratio_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "ratio"
    expression  = "IF(read > 0, quarantined / read, 0)"
    label       = "Quarantined share of ${each.value}"
    return_data = true
  }

  metric_query {
    id = "read"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "RowsRead"
      dimensions  = { Dataset = each.value }
      period      = 3600
      stat        = "Sum"
    }
  }

  metric_query {
    id = "quarantined"
    metric {
      namespace   = local.metrics_namespace
      metric_name = "RowsQuarantined"
      dimensions  = { Dataset = each.value }
      period      = 3600
      stat        = "Sum"
    }
  }
}

# Glue job runs that fail, time out or error, whoever started them (the state machine also
# reports its own failures): straight to the alerts topic with the job's message.
resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  name        = "${local.name_prefix}-glue-job-failed"
  description = "A lakeport Glue job run failed, timed out or errored"
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = [aws_glue_job.python.name, aws_glue_job.spark.name]
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  rule      = aws_cloudwatch_event_rule.glue_job_failed.name
  target_id = "alerts-topic"
  arn       = aws_sns_topic.alerts.arn

  input_transformer {
    input_paths = {
      job     = "$.detail.jobName"
      run     = "$.detail.jobRunId"
      state   = "$.detail.state"
      message = "$.detail.message"
    }
    input_template = "\"Glue job <job> run <run> ended <state>: <message>\""
  }
}

# --- dashboard -------------------------------------------------------------------------------

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Ingest executions"
          region = var.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/States", "ExecutionsStarted", "StateMachineArn", aws_sfn_state_machine.ingest.arn],
            [".", "ExecutionsSucceeded", ".", "."],
            [".", "ExecutionsFailed", ".", "."],
            [".", "ExecutionsTimedOut", ".", "."],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "Ingest queue"
          region = var.region
          stat   = "Maximum"
          period = 300
          metrics = [
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.ingest.name],
            [".", "ApproximateAgeOfOldestMessage", ".", ".", { yAxis = "right" }],
            [".", "ApproximateNumberOfMessagesVisible", ".", aws_sqs_queue.ingest_dlq.name],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Rows per dataset"
          region = var.region
          stat   = "Sum"
          period = 3600
          metrics = [
            [{ expression = "SEARCH('{${local.metrics_namespace},Dataset} MetricName=\"RowsRead\"', 'Sum', 3600)", id = "read" }],
            [{ expression = "SEARCH('{${local.metrics_namespace},Dataset} MetricName=\"RowsWritten\"', 'Sum', 3600)", id = "written" }],
            [{ expression = "SEARCH('{${local.metrics_namespace},Dataset} MetricName=\"RowsQuarantined\"', 'Sum', 3600)", id = "quarantined" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Dispatcher and Glue job failures"
          region = var.region
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", aws_lambda_function.dispatcher.function_name],
            [".", "Errors", ".", "."],
            ["AWS/Events", "TriggeredRules", "RuleName", aws_cloudwatch_event_rule.glue_job_failed.name],
          ]
        }
      },
    ]
  })
}
