# The three lakeport tables: dataset contracts, the file ledger and the run history.
# On-demand capacity: traffic is a few writes per file and per run, in bursts.

resource "aws_dynamodb_table" "datasets" {
  name                        = local.names.datasets_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "dataset"
  range_key                   = "version"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "dataset"
    type = "S"
  }
  attribute {
    name = "version"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# One item per S3 object version: object_key = "<bucket>/<key>", object_version = the version id,
# or "etag:<etag>" in an unversioned bucket.
resource "aws_dynamodb_table" "files" {
  name                        = local.names.files_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "object_key"
  range_key                   = "object_version"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "object_key"
    type = "S"
  }
  attribute {
    name = "object_version"
    type = "S"
  }
  attribute {
    name = "dataset"
    type = "S"
  }
  attribute {
    name = "updated_at"
    type = "S"
  }
  attribute {
    name = "run_id"
    type = "S"
  }

  global_secondary_index {
    name            = "by_dataset"
    hash_key        = "dataset"
    range_key       = "updated_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "by_run"
    hash_key        = "run_id"
    range_key       = "object_key"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

resource "aws_dynamodb_table" "runs" {
  name                        = local.names.runs_table
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "dataset"
  range_key                   = "run_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "dataset"
    type = "S"
  }
  attribute {
    name = "run_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}
