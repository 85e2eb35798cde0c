# Optional private network for the Glue jobs (enable_private_network) and an optional
# Site-to-Site VPN to the on-premise network (enable_site_to_site_vpn).
#
# The jobs reach S3 and DynamoDB through gateway endpoints and every other AWS API through
# interface endpoints; there is no internet gateway and no NAT. With the VPN, on-premise hosts
# upload to the raw bucket through an S3 interface endpoint, over the tunnel.

locals {
  network_count = var.enable_private_network ? 1 : 0
  vpn_count     = var.enable_site_to_site_vpn && var.enable_private_network && var.customer_gateway_ip != null ? 1 : 0
  interface_endpoint_services = toset([
    "glue", "states", "logs", "monitoring", "sts", "kms", "sqs",
  ])
}

data "aws_availability_zones" "available" {
  count = local.network_count
  state = "available"
}

resource "aws_vpc" "main" {
  count                = local.network_count
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = "${local.name_prefix}-private" }
}

# Nothing may use the default security group.
resource "aws_default_security_group" "main" {
  count  = local.network_count
  vpc_id = aws_vpc.main[0].id
}

resource "aws_flow_log" "main" {
  count                = local.network_count
  vpc_id               = aws_vpc.main[0].id
  traffic_type         = "REJECT"
  log_destination_type = "s3"
  log_destination      = "${aws_s3_bucket.access_logs.arn}/vpc-flow-logs/"
}

resource "aws_subnet" "private" {
  count             = var.enable_private_network ? length(var.private_subnet_cidrs) : 0
  vpc_id            = aws_vpc.main[0].id
  cidr_block        = var.private_subnet_cidrs[count.index]
  availability_zone = data.aws_availability_zones.available[0].names[count.index % length(data.aws_availability_zones.available[0].names)]

  tags = { Name = "${local.name_prefix}-private-${count.index}" }
}

resource "aws_route_table" "private" {
  count  = local.network_count
  vpc_id = aws_vpc.main[0].id

  tags = { Name = "${local.name_prefix}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

# --- security groups -------------------------------------------------------------------------

# Glue workers talk to each other on any TCP port (Glue requires the self-reference) and leave
# the group only towards the VPC endpoints.
resource "aws_security_group" "glue" {
  #checkov:skip=CKV2_AWS_5:attached to the Glue connection (aws_glue_connection.private), which both jobs use; checkov does not follow that link
  count       = local.network_count
  name        = "${local.name_prefix}-glue"
  description = "Glue job workers: each other, and AWS APIs through VPC endpoints only"
  vpc_id      = aws_vpc.main[0].id
}

resource "aws_vpc_security_group_ingress_rule" "glue_self" {
  count                        = local.network_count
  security_group_id            = aws_security_group.glue[0].id
  referenced_security_group_id = aws_security_group.glue[0].id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  description                  = "Glue workers of the same job"
}

resource "aws_vpc_security_group_egress_rule" "glue_self" {
  count                        = local.network_count
  security_group_id            = aws_security_group.glue[0].id
  referenced_security_group_id = aws_security_group.glue[0].id
  ip_protocol                  = "tcp"
  from_port                    = 0
  to_port                      = 65535
  description                  = "Glue workers of the same job"
}

resource "aws_vpc_security_group_egress_rule" "glue_to_interface_endpoints" {
  count                        = local.network_count
  security_group_id            = aws_security_group.glue[0].id
  referenced_security_group_id = aws_security_group.endpoints[0].id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "AWS APIs through interface endpoints"
}

resource "aws_vpc_security_group_egress_rule" "glue_to_gateway_endpoints" {
  for_each = var.enable_private_network ? {
    s3       = aws_vpc_endpoint.s3[0].prefix_list_id
    dynamodb = aws_vpc_endpoint.dynamodb[0].prefix_list_id
  } : {}
  security_group_id = aws_security_group.glue[0].id
  prefix_list_id    = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "${each.key} through its gateway endpoint"
}

resource "aws_security_group" "endpoints" {
  count       = local.network_count
  name        = "${local.name_prefix}-endpoints"
  description = "Interface endpoints: HTTPS from the Glue workers (and on-premise over the VPN)"
  vpc_id      = aws_vpc.main[0].id
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_glue" {
  count                        = local.network_count
  security_group_id            = aws_security_group.endpoints[0].id
  referenced_security_group_id = aws_security_group.glue[0].id
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  description                  = "HTTPS from the Glue workers"
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_from_onprem" {
  count             = local.vpn_count
  security_group_id = aws_security_group.endpoints[0].id
  cidr_ipv4         = var.onprem_cidr
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  description       = "HTTPS from the on-premise network over the VPN"
}

# --- endpoints -------------------------------------------------------------------------------

resource "aws_vpc_endpoint" "s3" {
  count             = local.network_count
  vpc_id            = aws_vpc.main[0].id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private[0].id]
}

resource "aws_vpc_endpoint" "dynamodb" {
  count             = local.network_count
  vpc_id            = aws_vpc.main[0].id
  service_name      = "com.amazonaws.${var.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private[0].id]
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = var.enable_private_network ? local.interface_endpoint_services : toset([])
  vpc_id              = aws_vpc.main[0].id
  service_name        = "com.amazonaws.${var.region}.${each.value}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints[0].id]
}

# Gateway endpoints are not reachable from on-premise; uploads over the VPN use this one.
resource "aws_vpc_endpoint" "s3_interface" {
  count              = local.vpn_count
  vpc_id             = aws_vpc.main[0].id
  service_name       = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type  = "Interface"
  subnet_ids         = aws_subnet.private[*].id
  security_group_ids = [aws_security_group.endpoints[0].id]
}

# --- Glue connection -------------------------------------------------------------------------

resource "aws_glue_connection" "private" {
  count           = local.network_count
  name            = "${local.name_prefix}-private"
  description     = "Runs the lakeport Glue jobs inside the private subnets"
  connection_type = "NETWORK"

  physical_connection_requirements {
    availability_zone      = aws_subnet.private[0].availability_zone
    subnet_id              = aws_subnet.private[0].id
    security_group_id_list = [aws_security_group.glue[0].id]
  }
}

# --- Site-to-Site VPN ------------------------------------------------------------------------

# Refuses a plan that asks for the VPN without what it needs.
resource "terraform_data" "vpn_settings" {
  count = var.enable_site_to_site_vpn ? 1 : 0

  lifecycle {
    precondition {
      condition     = var.enable_private_network
      error_message = "enable_site_to_site_vpn needs enable_private_network = true (the VPN terminates in that VPC)."
    }
    precondition {
      condition     = var.customer_gateway_ip != null
      error_message = "enable_site_to_site_vpn needs customer_gateway_ip, the public address of the on-premise VPN device."
    }
  }
}

resource "aws_customer_gateway" "onprem" {
  count      = local.vpn_count
  bgp_asn    = var.customer_gateway_bgp_asn
  ip_address = var.customer_gateway_ip
  type       = "ipsec.1"

  tags = { Name = "${local.name_prefix}-onprem" }
}

resource "aws_vpn_gateway" "main" {
  count  = local.vpn_count
  vpc_id = aws_vpc.main[0].id

  tags = { Name = "${local.name_prefix}-vgw" }
}

resource "aws_vpn_connection" "onprem" {
  count               = local.vpn_count
  customer_gateway_id = aws_customer_gateway.onprem[0].id
  vpn_gateway_id      = aws_vpn_gateway.main[0].id
  type                = "ipsec.1"
  static_routes_only  = true

  tags = { Name = "${local.name_prefix}-onprem" }
}

resource "aws_vpn_connection_route" "onprem" {
  count                  = local.vpn_count
  vpn_connection_id      = aws_vpn_connection.onprem[0].id
  destination_cidr_block = var.onprem_cidr
}

resource "aws_route" "onprem" {
  count                  = local.vpn_count
  route_table_id         = aws_route_table.private[0].id
  destination_cidr_block = var.onprem_cidr
  gateway_id             = aws_vpn_gateway.main[0].id
}
