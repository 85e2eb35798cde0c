# Every name lakeport needs (lakeport.resources.Resources.from_terraform_outputs reads
# 'terraform output -json'), then ARNs and operational details.

# --- names read by lakeport ------------------------------------------------------------------

output "name_prefix" {
  description = "Prefix of every resource name (<project>-<environment>)."
  value       = local.name_prefix
}

output "account_id" {
  description = "AWS account the deployment lives in."
  value       = local.account_id
}

output "region" {
  description = "AWS region the deployment lives in."
  value       = var.region
}

output "raw_bucket_name" {
  description = "Bucket files land in (immutable, versioned)."
  value       = aws_s3_bucket.data["raw"].bucket
}

output "curated_bucket_name" {
  description = "Bucket of the curated Parquet tables."
  value       = aws_s3_bucket.data["curated"].bucket
}

output "quarantine_bucket_name" {
  description = "Bucket of rejected rows and files."
  value       = aws_s3_bucket.data["quarantine"].bucket
}

output "artifacts_bucket_name" {
  description = "Bucket of job scripts, the wheel, the Lambda package and run manifests."
  value       = aws_s3_bucket.data["artifacts"].bucket
}

output "athena_results_bucket_name" {
  description = "Bucket of Athena query results."
  value       = aws_s3_bucket.data["athena"].bucket
}

output "datasets_table_name" {
  description = "DynamoDB table of dataset contracts."
  value       = aws_dynamodb_table.datasets.name
}

output "files_table_name" {
  description = "DynamoDB table of the file ledger."
  value       = aws_dynamodb_table.files.name
}

output "runs_table_name" {
  description = "DynamoDB table of the run history."
  value       = aws_dynamodb_table.runs.name
}

output "ingest_state_machine_name" {
  description = "Step Functions state machine that runs one ingest."
  value       = aws_sfn_state_machine.ingest.name
}

output "python_job_name" {
  description = "Glue Python-shell job."
  value       = aws_glue_job.python.name
}

output "spark_job_name" {
  description = "Glue Spark job."
  value       = aws_glue_job.spark.name
}

output "ingest_queue_name" {
  description = "SQS queue of raw-bucket events."
  value       = aws_sqs_queue.ingest.name
}

output "ingest_dlq_name" {
  description = "Dead-letter queue of the ingest queue."
  value       = aws_sqs_queue.ingest_dlq.name
}

output "alerts_topic_name" {
  description = "SNS topic of alerts."
  value       = aws_sns_topic.alerts.name
}

output "athena_workgroup_name" {
  description = "Athena workgroup for querying the curated tables."
  value       = aws_athena_workgroup.main.name
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the lakeport job metrics."
  value       = local.metrics_namespace
}

# --- ARNs and details ------------------------------------------------------------------------

output "ingest_state_machine_arn" {
  description = "ARN of the ingest state machine."
  value       = aws_sfn_state_machine.ingest.arn
}

output "kms_key_arn" {
  description = "ARN of the project KMS key."
  value       = aws_kms_key.main.arn
}

output "kms_key_alias" {
  description = "Alias of the project KMS key."
  value       = aws_kms_alias.main.name
}

output "raw_bucket_arn" {
  description = "ARN of the raw bucket (grant uploaders s3:PutObject on it)."
  value       = aws_s3_bucket.data["raw"].arn
}

output "access_logs_bucket_name" {
  description = "Bucket of S3 server access logs and VPC flow logs."
  value       = aws_s3_bucket.access_logs.bucket
}

output "ingest_queue_url" {
  description = "URL of the ingest queue."
  value       = aws_sqs_queue.ingest.id
}

output "ingest_dlq_url" {
  description = "URL of the dead-letter queue (for inspection and redrive)."
  value       = aws_sqs_queue.ingest_dlq.id
}

output "alerts_topic_arn" {
  description = "ARN of the alerts topic."
  value       = aws_sns_topic.alerts.arn
}

output "dispatcher_function_name" {
  description = "Dispatcher Lambda function."
  value       = aws_lambda_function.dispatcher.function_name
}

output "notifier_function_arn" {
  description = "ARN of the notifier Lambda function."
  value       = aws_lambda_function.notifier.arn
}

output "python_job_role_arn" {
  description = "ARN of the Python-shell job role."
  value       = aws_iam_role.python_job.arn
}

output "spark_job_role_arn" {
  description = "ARN of the Spark job role."
  value       = aws_iam_role.spark_job.arn
}

output "catalog_database_names" {
  description = "Glue Data Catalog databases of the curated tables."
  value       = sort([for db in aws_glue_catalog_database.this : db.name])
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = aws_cloudwatch_dashboard.main.dashboard_name
}

output "vpc_id" {
  description = "ID of the private VPC (null without enable_private_network)."
  value       = one(aws_vpc.main[*].id)
}

output "vpn_connection_id" {
  description = "ID of the Site-to-Site VPN connection (null without enable_site_to_site_vpn)."
  value       = one(aws_vpn_connection.onprem[*].id)
}
