# --- deployment ------------------------------------------------------------------------------

variable "project" {
  description = "Project name; the first part of every resource name (name prefix = <project>-<environment>)."
  type        = string
  default     = "lakeport"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.project))
    error_message = "project must be 2-20 characters of lower-case letters, digits and '-', starting with a letter (it becomes part of bucket names)."
  }
}

variable "environment" {
  description = "Deployment stage; the second part of every resource name. 'local' is the embedded emulator."
  type        = string

  validation {
    condition     = contains(["dev", "test", "staging", "prod", "local"], var.environment)
    error_message = "environment must be one of dev, test, staging, prod, local."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Extra tags for every resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

variable "force_destroy" {
  description = "Let 'terraform destroy' delete non-empty buckets and the Athena workgroup's history. Keep false outside throw-away environments."
  type        = bool
  default     = false
}

# --- endpoint override (embedded emulator) ---------------------------------------------------

variable "aws_endpoint_url" {
  description = "Send every AWS API call to this endpoint (e.g. the embedded emulator, http://127.0.0.1:<port>). null means the real AWS endpoints."
  type        = string
  default     = null
}

variable "skip_credentials_validation" {
  description = "Skip the provider's STS credential check (useful only with aws_endpoint_url)."
  type        = bool
  default     = false
}

variable "enable_bucket_deny_statements" {
  description = "Attach the TLS-only and project-key-only Deny statements to the bucket policies. Turn off only against the embedded emulator: it applies a Deny statement without evaluating its conditions and would refuse every object request."
  type        = bool
  default     = true
}

# --- repository files ------------------------------------------------------------------------

variable "repository_root" {
  description = "Path of the lakeport repository (Glue job scripts and the ASL file are read from it). null means the parent of this directory."
  type        = string
  default     = null
}

variable "artifacts_dir" {
  description = "Directory holding the wheel and the Lambda zip built by 'make package'. null means <repository_root>/dist."
  type        = string
  default     = null
}

variable "wheel_file_name" {
  description = "File name of the lakeport wheel inside artifacts_dir."
  type        = string
  default     = "lakeport-0.1.0-py3-none-any.whl"

  validation {
    condition     = endswith(var.wheel_file_name, ".whl")
    error_message = "wheel_file_name must name a .whl file."
  }
}

variable "lambda_package_file_name" {
  description = "File name of the Lambda deployment zip inside artifacts_dir."
  type        = string
  default     = "lakeport-lambda.zip"

  validation {
    condition     = endswith(var.lambda_package_file_name, ".zip")
    error_message = "lambda_package_file_name must name a .zip file."
  }
}

# --- encryption and storage ------------------------------------------------------------------

variable "kms_deletion_window_days" {
  description = "Waiting period before the project KMS key is deleted after 'terraform destroy'."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}

variable "raw_transition_to_ia_days" {
  description = "Days after which raw files move to STANDARD_IA (re-reads are rare once ingested)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_to_ia_days >= 30
    error_message = "raw_transition_to_ia_days must be at least 30 (S3's minimum for STANDARD_IA)."
  }
}

variable "raw_transition_to_glacier_days" {
  description = "Days after which raw files move to GLACIER (a replay then needs a restore first)."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_to_glacier_days >= 60
    error_message = "raw_transition_to_glacier_days must be at least 60 (30 days in STANDARD_IA after the earliest IA transition)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept in the versioned buckets."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "quarantine_expiration_days" {
  description = "Days rejected rows and files stay in the quarantine bucket."
  type        = number
  default     = 180

  validation {
    condition     = var.quarantine_expiration_days >= 1
    error_message = "quarantine_expiration_days must be at least 1."
  }
}

variable "athena_results_expiration_days" {
  description = "Days Athena query results are kept."
  type        = number
  default     = 7

  validation {
    condition     = var.athena_results_expiration_days >= 1
    error_message = "athena_results_expiration_days must be at least 1."
  }
}

variable "access_log_expiration_days" {
  description = "Days S3 server access logs (and VPC flow logs) are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_expiration_days >= 1
    error_message = "access_log_expiration_days must be at least 1."
  }
}

variable "dynamodb_deletion_protection" {
  description = "Protect the datasets, files and runs tables from deletion."
  type        = bool
  default     = true
}

# --- Glue ------------------------------------------------------------------------------------

variable "catalog_databases" {
  description = "Glue Data Catalog databases the jobs may write to (the part before the dot of a dataset name)."
  type        = list(string)
  default     = ["sales", "iot", "finance"]

  validation {
    condition     = length(var.catalog_databases) > 0 && alltrue([for db in var.catalog_databases : can(regex("^[a-z][a-z0-9_]{0,254}$", db))])
    error_message = "catalog_databases must list at least one name of lower-case letters, digits and '_', starting with a letter."
  }
}

variable "python_job_max_capacity" {
  description = "DPUs of the Glue Python-shell job."
  type        = number
  default     = 0.0625

  validation {
    condition     = contains([0.0625, 1], var.python_job_max_capacity)
    error_message = "python_job_max_capacity must be 0.0625 or 1 (the only sizes of a Python-shell job)."
  }
}

variable "spark_worker_type" {
  description = "Worker type of the Glue Spark job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.1X", "G.2X", "G.4X", "G.8X"], var.spark_worker_type)
    error_message = "spark_worker_type must be one of G.1X, G.2X, G.4X, G.8X."
  }
}

variable "spark_number_of_workers" {
  description = "Number of workers of the Glue Spark job (one is the driver)."
  type        = number
  default     = 2

  validation {
    condition     = var.spark_number_of_workers >= 2
    error_message = "spark_number_of_workers must be at least 2."
  }
}

variable "python_job_timeout_minutes" {
  description = "Timeout of one Python-shell job run."
  type        = number
  default     = 60

  validation {
    condition     = var.python_job_timeout_minutes >= 1 && var.python_job_timeout_minutes <= 2880
    error_message = "python_job_timeout_minutes must be between 1 and 2880."
  }
}

variable "spark_job_timeout_minutes" {
  description = "Timeout of one Spark job run."
  type        = number
  default     = 120

  validation {
    condition     = var.spark_job_timeout_minutes >= 1 && var.spark_job_timeout_minutes <= 2880
    error_message = "spark_job_timeout_minutes must be between 1 and 2880."
  }
}

variable "job_max_concurrent_runs" {
  description = "MaxConcurrentRuns of each Glue job (runs of one dataset are serialised by lakeport itself)."
  type        = number
  default     = 10

  validation {
    condition     = var.job_max_concurrent_runs >= 1 && var.job_max_concurrent_runs <= 1000
    error_message = "job_max_concurrent_runs must be between 1 and 1000."
  }
}

# --- orchestration ---------------------------------------------------------------------------

variable "dispatcher_batch_size" {
  description = "Most S3 events the dispatcher receives in one invocation."
  type        = number
  default     = 100

  validation {
    condition     = var.dispatcher_batch_size >= 1 && var.dispatcher_batch_size <= 10000
    error_message = "dispatcher_batch_size must be between 1 and 10000."
  }
}

variable "dispatcher_batching_window_seconds" {
  description = "How long SQS gathers events before invoking the dispatcher: small files that land together are ingested by one run."
  type        = number
  default     = 60

  validation {
    condition     = var.dispatcher_batching_window_seconds >= 1 && var.dispatcher_batching_window_seconds <= 300
    error_message = "dispatcher_batching_window_seconds must be between 1 and 300 (a batch size above 10 needs a window of at least 1 s)."
  }
}

variable "dispatcher_timeout_seconds" {
  description = "Timeout of the dispatcher Lambda; the ingest queue's visibility timeout is six times this."
  type        = number
  default     = 120

  validation {
    condition     = var.dispatcher_timeout_seconds >= 10 && var.dispatcher_timeout_seconds <= 900
    error_message = "dispatcher_timeout_seconds must be between 10 and 900."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrency of each Lambda function (caps how many executions the dispatcher can start at once)."
  type        = number
  default     = 5

  validation {
    condition     = var.lambda_reserved_concurrency >= 1
    error_message = "lambda_reserved_concurrency must be at least 1."
  }
}

variable "dlq_max_receive_count" {
  description = "Deliveries of an ingest message before it moves to the dead-letter queue."
  type        = number
  default     = 5

  validation {
    condition     = var.dlq_max_receive_count >= 1 && var.dlq_max_receive_count <= 1000
    error_message = "dlq_max_receive_count must be between 1 and 1000."
  }
}

variable "enable_tracing" {
  description = "Turn on X-Ray tracing for the state machine and the Lambda functions."
  type        = bool
  default     = false
}

# --- monitoring ------------------------------------------------------------------------------

variable "log_retention_days" {
  description = "Retention of every log group this module creates."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "alert_email" {
  description = "E-mail address subscribed to the alerts topic (the subscription must be confirmed). null for none."
  type        = string
  default     = null
}

variable "quarantine_alarm_datasets" {
  description = "Datasets (<database>.<table>) that get a quarantine-ratio alarm."
  type        = list(string)
  default     = ["sales.orders"]

  validation {
    condition     = alltrue([for d in var.quarantine_alarm_datasets : can(regex("^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$", d))])
    error_message = "quarantine_alarm_datasets entries must look like <database>.<table> in lower case."
  }
}

variable "quarantine_ratio_threshold" {
  description = "Alarm when the share of quarantined rows of a dataset exceeds this in an hour."
  type        = number
  default     = 0.05

  validation {
    condition     = var.quarantine_ratio_threshold > 0 && var.quarantine_ratio_threshold <= 1
    error_message = "quarantine_ratio_threshold must be in (0, 1]."
  }
}

variable "queue_age_alarm_seconds" {
  description = "Alarm when the oldest message of the ingest queue is older than this (the dispatcher is stuck)."
  type        = number
  default     = 900

  validation {
    condition     = var.queue_age_alarm_seconds >= 60
    error_message = "queue_age_alarm_seconds must be at least 60."
  }
}

# --- Athena ----------------------------------------------------------------------------------

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Cancel an Athena query of the workgroup once it has scanned this many bytes."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.athena_bytes_scanned_cutoff_per_query >= 10485760
    error_message = "athena_bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB, Athena's minimum)."
  }
}

# --- network ---------------------------------------------------------------------------------

variable "enable_private_network" {
  description = "Run the Glue jobs in a private VPC that reaches AWS only through VPC endpoints."
  type        = bool
  default     = false
}

variable "vpc_cidr" {
  description = "CIDR block of the private VPC."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, one per availability zone (the first hosts the Glue connection)."
  type        = list(string)
  default     = ["10.42.0.0/20", "10.42.16.0/20"]

  validation {
    condition     = length(var.private_subnet_cidrs) >= 1 && alltrue([for c in var.private_subnet_cidrs : can(cidrhost(c, 0))])
    error_message = "private_subnet_cidrs must list at least one valid IPv4 CIDR block."
  }
}

variable "enable_site_to_site_vpn" {
  description = "Create a customer gateway, a VPN gateway and a Site-to-Site VPN to the on-premise network (needs enable_private_network)."
  type        = bool
  default     = false
}

variable "onprem_cidr" {
  description = "CIDR block of the on-premise network routed through the VPN."
  type        = string
  default     = "192.168.0.0/16"

  validation {
    condition     = can(cidrhost(var.onprem_cidr, 0))
    error_message = "onprem_cidr must be a valid IPv4 CIDR block."
  }
}

variable "customer_gateway_ip" {
  description = "Public IPv4 address of the on-premise VPN device (required with enable_site_to_site_vpn)."
  type        = string
  default     = null
}

variable "customer_gateway_bgp_asn" {
  description = "BGP ASN of the on-premise VPN device (static routing is used; AWS still records it)."
  type        = number
  default     = 65000

  validation {
    condition     = var.customer_gateway_bgp_asn >= 1 && var.customer_gateway_bgp_asn <= 4294967294
    error_message = "customer_gateway_bgp_asn must be a valid 32-bit ASN."
  }
}
