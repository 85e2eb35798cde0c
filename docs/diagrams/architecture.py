"""The lakeport architecture picture (``docs/architecture.png``), drawn with the ``diagrams`` package.

``build_graph()`` returns the picture as data (clusters, nodes, labelled edges); ``render()`` draws it.
Run ``make docs`` (or ``python docs/diagrams/architecture.py``) after changing the graph, and commit
the PNG together with ``docs/diagrams/rendered.json``.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from picture import DOCS_DIR, Graph, check_graph, write_record

PICTURE = "architecture.png"

# What flows along an edge decides its colour and line.
EDGE_STYLES: Dict[str, Dict[str, str]] = {
    "data": {"color": "#1B6AC9", "style": "bold"},
    "control": {"color": "#2D3436", "style": "solid"},
    "metadata": {"color": "#7D3C98", "style": "solid"},
    "alert": {"color": "#C0392B", "style": "dashed"},
    "deploy": {"color": "#7B8894", "style": "dashed"},
    "layout": {"style": "invis"},  # only places nodes
}


def build_graph() -> Graph:
    """The architecture as data: every component, grouped by zone, and what flows between them."""
    g = Graph(
        name="lakeport: on-premise files to an AWS data lake",
        attributes={
            "rankdir": "LR",
            "splines": "spline",
            "nodesep": "0.35",
            "ranksep": "1.0",
            "fontsize": "22",
            "pad": "0.4",
            "newrank": "true",
            "labelloc": "t",
            "labeljust": "l",
            "label": (
                "lakeport: on-premise files to an AWS data lake\\l"
                "arrows: blue = data, black = control, purple = contracts, ledgers, catalog, metrics,"
                " red dashed = failures and alerts, grey dashed = delivery\\l"
            ),
        },
    )

    # -- on premise and the link ------------------------------------------------------------------
    onprem = g.cluster("onprem", "On-premise site", bgcolor="#F4F6F7")
    g.node("share", "file share\n(ERP, historian exports)", "generic.storage.Storage", onprem)
    g.node("upload", "lakeport upload\n(or any S3 client)", "onprem.compute.Server", onprem)

    link = g.cluster("link", "Private link (TLS inside)", bgcolor="#FEF9E7")
    g.node("dx", "Direct Connect", "aws.network.DirectConnect", link)
    g.node("vpn", "Site-to-Site VPN\n(IPsec)", "aws.network.SiteToSiteVpn", link)

    # -- AWS ---------------------------------------------------------------------------------------
    aws = g.cluster("aws", "AWS account (one per environment)", bgcolor="#FFFFFF")

    vpc = g.cluster("vpc", "VPC: private subnets, no internet or NAT gateway", aws, bgcolor="#EBF5FB")
    g.node("s3_interface", "S3 interface endpoint\n(uploads over the link)", "aws.network.Endpoint", vpc)
    jobs = g.cluster("jobs", "Glue jobs (security group: HTTPS to endpoints)", vpc, bgcolor="#D6EAF8")
    g.node("python_job", "Glue Python shell job\n0.0625 DPU, small inputs", "aws.analytics.Glue", jobs)
    g.node("spark_job", "Glue Spark job (Glue 5)\ninputs above threshold", "aws.analytics.Glue", jobs)
    g.node("gateway_endpoints", "gateway endpoints\nS3, DynamoDB", "aws.network.Endpoint", vpc)
    g.node(
        "interface_endpoints",
        "interface endpoints\nGlue, Step Functions, STS,\nKMS, SQS, Logs, Monitoring",
        "aws.network.Endpoint",
        vpc,
    )

    zone_style = {"bgcolor": "#E9F7EF"}
    raw_zone = g.cluster("raw_zone", "raw zone", aws, **zone_style)
    g.node("raw", "raw bucket\nas delivered, versioned\nIA 30 d, Glacier 90 d", "aws.storage.S3", raw_zone)
    curated_zone = g.cluster("curated_zone", "curated zone", aws, **zone_style)
    g.node("curated", "curated bucket\nParquet, Hive partitions,\na generation per run", "aws.storage.S3", curated_zone)
    quarantine_zone = g.cluster("quarantine_zone", "quarantine zone", aws, **zone_style)
    g.node("quarantine", "quarantine bucket\nrejected rows + reasons\nexpire 180 d", "aws.storage.S3", quarantine_zone)
    artifacts_zone = g.cluster("artifacts_zone", "artifacts zone", aws, **zone_style)
    g.node(
        "artifacts", "artifacts bucket\nscripts, wheels, Lambda zip,\nrun manifests", "aws.storage.S3", artifacts_zone
    )
    results_zone = g.cluster("results_zone", "Athena results zone", aws, **zone_style)
    g.node("athena_results", "results bucket\nexpire after 7 d", "aws.storage.S3", results_zone)

    intake = g.cluster("intake", "Event intake", aws, bgcolor="#FDEDEC")
    g.node("eventbridge", "EventBridge rule\nObject Created (raw)", "aws.integration.Eventbridge", intake)
    g.node("queue", "SQS ingest queue\nbatching window 60 s", "aws.integration.SQS", intake)
    g.node("dlq", "SQS dead-letter queue", "aws.integration.SQS", intake)
    g.node("dispatcher", "dispatcher Lambda\nroute, claim, batch", "aws.compute.Lambda", intake)

    orchestration = g.cluster("orchestration", "Orchestration", aws, bgcolor="#F5EEF8")
    g.node("state_machine", "Step Functions\ningest state machine", "aws.integration.StepFunctions", orchestration)
    g.node("notifier", "notifier Lambda\nrecord failure, alert text", "aws.compute.Lambda", orchestration)

    tables = g.cluster("tables", "DynamoDB: on-demand, PITR", aws, bgcolor="#FEF5E7")
    g.node("datasets_table", "datasets\ncontracts: settings + structure", "aws.database.DynamodbTable", tables)
    g.node("files_table", "files\nledger: once per object version", "aws.database.DynamodbTable", tables)
    g.node("runs_table", "runs\nhistory, counts, cost", "aws.database.DynamodbTable", tables)

    query = g.cluster("query", "Catalog and query", aws, bgcolor="#E8F8F5")
    g.node("catalog", "Glue Data Catalog\ntables + partitions\n(no crawler)", "aws.analytics.GlueDataCatalog", query)
    g.node("athena", "Athena workgroup\nenforced settings,\nbytes-scanned cutoff", "aws.analytics.Athena", query)

    monitoring = g.cluster("monitoring", "Monitoring and alerts", aws, bgcolor="#FBEEE6")
    g.node("cloudwatch", "CloudWatch\nmetrics, alarms, dashboard", "aws.management.Cloudwatch", monitoring)
    g.node("logs", "CloudWatch Logs", "aws.management.CloudwatchLogs", monitoring)
    g.node("alerts", "SNS alerts topic", "aws.integration.SNS", monitoring)

    security = g.cluster("security", "Security and audit", aws, bgcolor="#F2F3F4")
    g.node(
        "kms", "KMS project key (rotated)\nbuckets, tables, queues,\ntopic, logs, Glue", "aws.security.KMS", security
    )
    g.node("iam", "IAM: a role per component,\nleast privilege", "aws.security.IAMRole", security)
    g.node("cloudtrail", "CloudTrail\n(account trail)", "aws.management.Cloudtrail", security)
    g.node("access_logs", "access-logs bucket\nS3 access + VPC flow logs", "aws.storage.S3", security)

    delivery = g.cluster("delivery", "Delivery (CI/CD)", aws, bgcolor="#F8F9F9")
    g.node("cloudformation", "CloudFormation\nCFN/seed.yaml", "aws.management.Cloudformation", delivery)
    g.node("codebuild", "CodeBuild project\ntest, package, plan, apply", "aws.devtools.Codebuild", delivery)
    g.node("terraform", "Terraform\nterraform/*.tf", "onprem.iac.Terraform", delivery)

    # -- outside AWS -------------------------------------------------------------------------------
    source_control = g.cluster("source_control", "Source control", bgcolor="#F4F6F7")
    g.node("git", "Git repository\ncode, contracts, terraform", "onprem.vcs.Git", source_control)
    consumers = g.cluster("consumers", "Consumers", bgcolor="#F4F6F7")
    g.node("analysts", "analysts, BI tools", "onprem.client.Users", consumers)
    on_call = g.cluster("on_call", "On call", bgcolor="#F4F6F7")
    g.node("oncall", "data platform\non-call e-mail", "onprem.client.User", on_call)

    # -- what flows (the spine, left to right) -------------------------------------------------------
    g.edge("share", "upload", "exports", "data")
    g.edge("upload", "dx", "HTTPS", "data")
    g.edge("upload", "vpn", "or HTTPS", "data")
    g.edge("dx", "s3_interface", "", "data")
    g.edge("vpn", "s3_interface", "", "data")
    g.edge("s3_interface", "raw", "PutObject", "data")
    g.edge("raw", "eventbridge", "Object Created", "control")
    g.edge("eventbridge", "queue", "event", "control")
    g.edge("queue", "dlq", "after 5 tries", "alert")
    g.edge("queue", "dispatcher", "batch", "control")
    g.edge("dispatcher", "state_machine", "one execution\nper dataset batch", "control")
    g.edge("state_machine", "python_job", "below threshold", "control")
    g.edge("state_machine", "spark_job", "at/above threshold", "control")
    for job in ("python_job", "spark_job"):
        g.edge(job, "gateway_endpoints", "", "data")
        g.edge(job, "interface_endpoints", "", "control")
    g.edge("gateway_endpoints", "curated", "Parquet generations", "data")
    g.edge("gateway_endpoints", "quarantine", "bad rows + reasons", "data")
    g.edge("gateway_endpoints", "raw", "read files", "data", constraint=False)
    g.edge("interface_endpoints", "catalog", "tables, partition switch", "metadata")
    g.edge("analysts", "athena", "SQL", "control", constraint=False)
    g.edge("athena", "catalog", "schema, partitions", "metadata", constraint=False)
    g.edge("athena", "curated", "scan (pruned)", "data", constraint=False)
    g.edge("athena", "athena_results", "results", "data")
    g.edge("catalog", "athena", "", "layout")
    g.edge("athena", "analysts", "", "layout")

    # -- contracts and ledgers -----------------------------------------------------------------------
    g.edge("dispatcher", "datasets_table", "prefix to contract", "metadata")
    g.edge("dispatcher", "files_table", "claim (conditional)", "metadata")
    g.edge("dispatcher", "runs_table", "", "layout")
    g.edge("dispatcher", "artifacts", "run manifest", "metadata")
    g.edge("state_machine", "datasets_table", "LoadContract", "metadata", constraint=False)
    g.edge("state_machine", "runs_table", "RecordRun", "metadata", constraint=False)
    g.edge("gateway_endpoints", "files_table", "file + run ledgers", "metadata", constraint=False)

    # -- monitoring and alerts -----------------------------------------------------------------------
    g.edge("interface_endpoints", "cloudwatch", "run metrics", "metadata")
    g.edge("interface_endpoints", "logs", "job logs", "metadata")
    g.edge("state_machine", "notifier", "on failure", "alert", constraint=False)
    g.edge("notifier", "alerts", "alert text", "alert", constraint=False)
    g.edge("cloudwatch", "alerts", "alarm", "alert")
    g.edge("alerts", "oncall", "e-mail", "alert")

    # -- security, audit and delivery ------------------------------------------------------------------
    for node in ("kms", "iam", "cloudtrail", "access_logs"):
        g.edge("s3_interface", node, "", "layout")
    g.edge("git", "codebuild", "push", "deploy")
    g.edge("cloudformation", "codebuild", "creates", "deploy")
    g.edge("codebuild", "terraform", "plan / apply", "deploy")
    g.edge("terraform", "artifacts", "scripts, wheels, zip", "deploy", constraint=False)

    # -- columns -----------------------------------------------------------------------------------------
    g.align("share", "upload")
    g.align("eventbridge", "queue", "dlq")
    g.align("state_machine", "notifier")
    g.align("datasets_table", "files_table", "runs_table")
    g.align("gateway_endpoints", "interface_endpoints")
    g.align("kms", "iam", "cloudtrail", "access_logs")
    return g


# -- rendering --------------------------------------------------------------------------------------


def _icon(kind: str) -> Any:
    module_name, _, class_name = kind.rpartition(".")
    return getattr(importlib.import_module(f"diagrams.{module_name}"), class_name)


def render(graph: Graph, out_png: Path) -> None:
    """Draw ``graph`` into ``out_png`` (needs graphviz's ``dot``)."""
    from diagrams import Cluster, Diagram, Edge

    check_graph(graph)
    drawn: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / "picture"

        def fill(cluster_id: Optional[str]) -> None:
            for node in graph.nodes_in(cluster_id):
                drawn[node.id] = _icon(node.kind)(node.label, nodeid=node.id)
            for child in graph.children(cluster_id):
                with Cluster(child.label, graph_attr={"fontsize": "18", "margin": "20", **child.style}):
                    fill(child.id)

        with Diagram(
            graph.name,
            filename=str(target),
            outformat="png",
            show=False,
            graph_attr=graph.attributes,
            node_attr={"fontsize": "13", "width": "1.5", "height": "1.2"},
            edge_attr={"fontsize": "13"},
        ) as diagram:
            fill(None)
            for group in graph.same_rank:
                ids = "; ".join(f'"{drawn[n]._id}"' for n in group)
                diagram.dot.body.append(f"{{rank=same; {ids}}}")
            for edge in graph.edges:
                style = dict(EDGE_STYLES.get(edge.kind, {}))
                style.setdefault("fontcolor", style.get("color", "#2D3436"))
                if not edge.constraint:
                    style["constraint"] = "false"
                drawn[edge.source] >> Edge(label=edge.label, **style) >> drawn[edge.target]
        shutil.copyfile(target.with_suffix(".png"), out_png)


def renderer_version() -> str:
    from importlib.metadata import version

    return f"diagrams {version('diagrams')}"


def main() -> int:
    graph = build_graph()
    out = DOCS_DIR / PICTURE
    render(graph, out)
    write_record(PICTURE, graph, out, renderer_version())
    print(f"wrote {out.relative_to(DOCS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
