# terraform init -backend-config=env/dev.backend.hcl -backend-config="bucket=<state bucket>" -backend-config="dynamodb_table=<lock table>"
key     = "lakeport/dev/terraform.tfstate"
region  = "eu-west-1"
encrypt = true
