# terraform plan -var-file=env/dev.tfvars
environment = "dev"
region      = "eu-west-1"

dynamodb_deletion_protection = false
force_destroy                = true
kms_deletion_window_days     = 7
log_retention_days           = 30

spark_worker_type       = "G.1X"
spark_number_of_workers = 2
job_max_concurrent_runs = 5

athena_bytes_scanned_cutoff_per_query = 1073741824 # 1 GiB

quarantine_alarm_datasets = ["sales.orders"]

enable_private_network  = false
enable_site_to_site_vpn = false
