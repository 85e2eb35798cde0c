# The Athena workgroup users query the curated tables through. Its settings are enforced, so a
# client cannot send results elsewhere, unencrypted, or scan without limit.

resource "aws_athena_workgroup" "main" {
  name          = local.names.athena_workgroup
  description   = "lakeport curated data (${local.name_prefix})"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${aws_s3_bucket.data["athena"].bucket}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.main.arn
      }
    }
  }
}
