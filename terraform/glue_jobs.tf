# The two Glue jobs (one contract, two engines), their code, the catalog databases and one role
# per job. Both jobs get the same table and bucket names as default arguments
# (lakeport.resources.Resources.job_arguments); the state machine adds --dataset, --run_id,
# --manifest and the engine choice per run.

locals {
  job_arguments = {
    "--datasets_table"    = aws_dynamodb_table.datasets.name
    "--files_table"       = aws_dynamodb_table.files.name
    "--runs_table"        = aws_dynamodb_table.runs.name
    "--raw_bucket"        = aws_s3_bucket.data["raw"].bucket
    "--curated_bucket"    = aws_s3_bucket.data["curated"].bucket
    "--quarantine_bucket" = aws_s3_bucket.data["quarantine"].bucket
    "--artifacts_bucket"  = aws_s3_bucket.data["artifacts"].bucket
    "--metrics_namespace" = local.metrics_namespace
  }

  wheel_s3_uri = "s3://${aws_s3_object.wheel.bucket}/${aws_s3_object.wheel.key}"

  # 'make package' puts each runtime's dependency wheels in <artifacts_dir>/glue/<runtime>/.
  glue_runtimes = ["python-shell", "spark"]
  glue_dependency_files = {
    for runtime in local.glue_runtimes : runtime => sort(tolist(fileset("${local.artifacts_dir}/glue/${runtime}", "*.whl")))
  }
  # What each job installs at start, with pip --no-index: lakeport's wheel and those wheels, nothing
  # from a package index (the private network has no route to one).
  python_modules = {
    for runtime, files in local.glue_dependency_files : runtime => join(",", concat(
      [local.wheel_s3_uri],
      [for file in files : "s3://${aws_s3_bucket.data["artifacts"].bucket}/${aws_s3_object.glue_dependency["${runtime}/${file}"].key}"],
    ))
  }

  catalog_arn       = "arn:${local.partition}:glue:${var.region}:${local.account_id}:catalog"
  glue_log_group    = "arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/aws-glue/*"
  artifacts_arn     = aws_s3_bucket.data["artifacts"].arn
  glue_temp_prefix  = "glue-temp/"
  glue_connections  = var.enable_private_network ? [aws_glue_connection.private[0].name] : []
  glue_dynamo_table = [aws_dynamodb_table.datasets.arn, aws_dynamodb_table.files.arn, aws_dynamodb_table.runs.arn]
}

# --- code ------------------------------------------------------------------------------------

resource "aws_s3_object" "python_job_script" {
  bucket      = aws_s3_bucket.data["artifacts"].id
  key         = "glue/scripts/glue_python_shell.py"
  source      = "${local.repository_root}/src/lakeport/jobs/glue_python_shell.py"
  source_hash = filemd5("${local.repository_root}/src/lakeport/jobs/glue_python_shell.py")
  kms_key_id  = aws_kms_key.main.arn
}

resource "aws_s3_object" "spark_job_script" {
  bucket      = aws_s3_bucket.data["artifacts"].id
  key         = "glue/scripts/glue_spark.py"
  source      = "${local.repository_root}/src/lakeport/jobs/glue_spark.py"
  source_hash = filemd5("${local.repository_root}/src/lakeport/jobs/glue_spark.py")
  kms_key_id  = aws_kms_key.main.arn
}

# Built by 'make package'; both jobs install it, and their dependency wheels below, with
# --additional-python-modules.
resource "aws_s3_object" "wheel" {
  bucket      = aws_s3_bucket.data["artifacts"].id
  key         = "wheels/${var.wheel_file_name}"
  source      = "${local.artifacts_dir}/${var.wheel_file_name}"
  source_hash = filemd5("${local.artifacts_dir}/${var.wheel_file_name}")
  kms_key_id  = aws_kms_key.main.arn
}

resource "aws_s3_object" "glue_dependency" {
  for_each = merge([
    for runtime, files in local.glue_dependency_files : { for file in files : "${runtime}/${file}" => file }
  ]...)
  bucket      = aws_s3_bucket.data["artifacts"].id
  key         = "wheels/glue/${each.key}"
  source      = "${local.artifacts_dir}/glue/${each.key}"
  source_hash = filemd5("${local.artifacts_dir}/glue/${each.key}")
  kms_key_id  = aws_kms_key.main.arn
}

# --- catalog ---------------------------------------------------------------------------------

resource "aws_glue_catalog_database" "this" {
  for_each     = toset(var.catalog_databases)
  name         = each.value
  description  = "lakeport curated tables of the ${each.value} domain (${local.name_prefix})"
  location_uri = "s3://${aws_s3_bucket.data["curated"].bucket}/${each.value}/"
}

resource "aws_glue_security_configuration" "jobs" {
  name = "${local.name_prefix}-jobs"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.main.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.main.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.main.arn
    }
  }
}

# --- jobs ------------------------------------------------------------------------------------

resource "aws_glue_job" "python" {
  name                   = local.names.python_job_name
  description            = "lakeport ingest, Python engine (one machine; the default below the contract's spark threshold)"
  role_arn               = aws_iam_role.python_job.arn
  max_capacity           = var.python_job_max_capacity
  max_retries            = 0 # the state machine retries, with backoff and a record of each attempt
  timeout                = var.python_job_timeout_minutes
  security_configuration = aws_glue_security_configuration.jobs.name
  connections            = local.glue_connections

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${aws_s3_object.python_job_script.bucket}/${aws_s3_object.python_job_script.key}"
  }

  execution_property {
    max_concurrent_runs = var.job_max_concurrent_runs
  }

  default_arguments = merge(local.job_arguments, {
    "--library-set"                     = "analytics"
    "--additional-python-modules"       = local.python_modules["python-shell"]
    "--python-modules-installer-option" = "--no-index"
  })

  lifecycle {
    # Execution classes apply to Spark jobs only; a reader that reports "STANDARD" for a
    # Python-shell job (the embedded emulator does) must not cause a change on every plan.
    ignore_changes = [execution_class]
    precondition {
      condition     = length(local.glue_dependency_files["python-shell"]) > 0
      error_message = "No dependency wheels in <artifacts_dir>/glue/python-shell/: run 'make package' first."
    }
  }
}

resource "aws_glue_job" "spark" {
  name                   = local.names.spark_job_name
  description            = "lakeport ingest, Spark engine (inputs above the contract's spark threshold)"
  role_arn               = aws_iam_role.spark_job.arn
  glue_version           = "5.0"
  execution_class        = "STANDARD"
  worker_type            = var.spark_worker_type
  number_of_workers      = var.spark_number_of_workers
  max_retries            = 0 # the state machine retries, with backoff and a record of each attempt
  timeout                = var.spark_job_timeout_minutes
  security_configuration = aws_glue_security_configuration.jobs.name
  connections            = local.glue_connections

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${aws_s3_object.spark_job_script.bucket}/${aws_s3_object.spark_job_script.key}"
  }

  execution_property {
    max_concurrent_runs = var.job_max_concurrent_runs
  }

  default_arguments = merge(local.job_arguments, {
    "--job-language"                     = "python"
    "--additional-python-modules"        = local.python_modules["spark"]
    "--python-modules-installer-option"  = "--no-index"
    "--job-bookmark-option"              = "job-bookmark-disable" # the files ledger decides what is new
    "--enable-metrics"                   = "true"
    "--enable-continuous-cloudwatch-log" = "true"
    "--continuous-log-logGroup"          = aws_cloudwatch_log_group.glue_jobs.name
    "--enable-glue-datacatalog"          = "true"
    "--TempDir"                          = "s3://${aws_s3_bucket.data["artifacts"].bucket}/${local.glue_temp_prefix}"
    "--conf"                             = "spark.sql.parquet.outputTimestampType=TIMESTAMP_MICROS"
  })

  lifecycle {
    precondition {
      condition     = length(local.glue_dependency_files["spark"]) > 0
      error_message = "No dependency wheels in <artifacts_dir>/glue/spark/: run 'make package' first."
    }
  }
}

# --- IAM: one role per job -------------------------------------------------------------------

data "aws_iam_policy_document" "glue_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "python_job" {
  name               = "${local.name_prefix}-python-job"
  description        = "Glue Python-shell ingest job"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

resource "aws_iam_role" "spark_job" {
  name               = "${local.name_prefix}-spark-job"
  description        = "Glue Spark ingest job"
  assume_role_policy = data.aws_iam_policy_document.glue_assume.json
}

resource "aws_iam_role_policy" "python_job" {
  name   = "ingest"
  role   = aws_iam_role.python_job.id
  policy = data.aws_iam_policy_document.glue_job["python"].json
}

resource "aws_iam_role_policy" "spark_job" {
  name   = "ingest"
  role   = aws_iam_role.spark_job.id
  policy = data.aws_iam_policy_document.glue_job["spark"].json
}

data "aws_iam_policy_document" "glue_job" {
  # Both jobs do the same work; the Spark job also uses a temporary directory and publishes
  # Glue's own job metrics.
  for_each = {
    python = { metric_namespaces = [local.metrics_namespace], temp_dir = false }
    spark  = { metric_namespaces = [local.metrics_namespace, "Glue"], temp_dir = true }
  }

  statement {
    sid       = "ReadRawFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.data["raw"].arn}/*"]
  }

  statement {
    sid     = "ListBuckets"
    actions = ["s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation"]
    resources = [
      aws_s3_bucket.data["raw"].arn,
      aws_s3_bucket.data["curated"].arn,
      aws_s3_bucket.data["quarantine"].arn,
      aws_s3_bucket.data["artifacts"].arn,
    ]
  }

  statement {
    sid = "WriteCuratedAndQuarantine"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = [
      "${aws_s3_bucket.data["curated"].arn}/*",
      "${aws_s3_bucket.data["quarantine"].arn}/*",
    ]
  }

  statement {
    sid       = "ReadCodeAndManifests"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifacts_arn}/*"]
  }

  dynamic "statement" {
    for_each = each.value.temp_dir ? [1] : []
    content {
      sid = "SparkTempDir"
      actions = [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ]
      resources = ["${local.artifacts_arn}/${local.glue_temp_prefix}*"]
    }
  }

  statement {
    sid = "LedgersAndContracts"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = concat(local.glue_dynamo_table, [for arn in local.glue_dynamo_table : "${arn}/index/*"])
  }

  # The curated tables are Iceberg tables: a run's commit is one UpdateTable call conditioned on the
  # table's VersionId (pyiceberg's Glue catalog), after writing its data and metadata files to the
  # curated bucket (WriteCuratedAndQuarantine). The partition calls serve the quarantine tables.
  statement {
    sid = "RegisterTablesAndPartitions"
    actions = [
      "glue:GetDatabase",
      "glue:CreateDatabase",
      "glue:UpdateDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:CreatePartition",
      "glue:UpdatePartition",
      "glue:BatchCreatePartition",
      "glue:BatchDeletePartition",
      "glue:BatchGetPartition",
      "glue:BatchUpdatePartition",
    ]
    resources = concat(
      [local.catalog_arn],
      [for db in var.catalog_databases : "arn:${local.partition}:glue:${var.region}:${local.account_id}:database/${db}"],
      [for db in var.catalog_databases : "arn:${local.partition}:glue:${var.region}:${local.account_id}:table/${db}/*"],
    )
  }

  statement {
    sid       = "PublishMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # PutMetricData has no resource type; the namespace condition is the scope
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = each.value.metric_namespaces
    }
  }

  statement {
    sid = "WriteJobLogs"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [local.glue_log_group, "${local.glue_log_group}:log-stream:*"]
  }

  statement {
    sid = "UseProjectKey"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = [aws_kms_key.main.arn]
  }

  dynamic "statement" {
    for_each = var.enable_private_network ? [1] : []
    content {
      sid = "DescribeNetwork"
      actions = [
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
      ]
      resources = ["*"] # EC2 Describe* calls have no resource types
    }
  }

  dynamic "statement" {
    for_each = var.enable_private_network ? [1] : []
    content {
      sid     = "JobNetworkInterfaces"
      actions = ["ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface"]
      resources = concat(
        ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:network-interface/*"],
        aws_subnet.private[*].arn,
        [aws_security_group.glue[0].arn],
      )
    }
  }

  dynamic "statement" {
    for_each = var.enable_private_network ? [1] : []
    content {
      sid       = "TagJobNetworkInterfaces"
      actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
      resources = ["arn:${local.partition}:ec2:${var.region}:${local.account_id}:network-interface/*"]
      condition {
        test     = "ForAllValues:StringEquals"
        variable = "aws:TagKeys"
        values   = ["aws-glue-service-resource"]
      }
    }
  }
}
