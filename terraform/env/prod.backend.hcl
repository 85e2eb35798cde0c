# terraform init -backend-config=env/prod.backend.hcl -backend-config="bucket=<state bucket>" -backend-config="dynamodb_table=<lock table>"
key     = "lakeport/prod/terraform.tfstate"
region  = "eu-west-1"
encrypt = true
