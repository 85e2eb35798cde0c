# terraform plan -var-file=env/prod.tfvars
environment = "prod"
region      = "eu-west-1"

dynamodb_deletion_protection = true
force_destroy                = false
kms_deletion_window_days     = 30
log_retention_days           = 365

spark_worker_type       = "G.2X"
spark_number_of_workers = 10
job_max_concurrent_runs = 20

athena_bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB

alert_email               = "data-platform-alerts@example.com"
quarantine_alarm_datasets = ["sales.orders"]

enable_private_network = true
vpc_cidr               = "10.42.0.0/16"
private_subnet_cidrs   = ["10.42.0.0/20", "10.42.16.0/20"]

enable_site_to_site_vpn = true
onprem_cidr             = "192.168.0.0/16"
customer_gateway_ip     = "203.0.113.10" # the on-premise VPN device (documentation address: replace)
