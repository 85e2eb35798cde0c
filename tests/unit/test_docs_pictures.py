"""The architecture and state-machine pictures: drawn from their sources, complete, and current.

The graphs are inspected as data (never the PNG bytes). A committed PNG is current when the graph the
sources give today has the digest recorded when the PNG was rendered (``docs/diagrams/rendered.json``)
and the PNG is the file rendered then. PNG bytes are not compared with a fresh render: graphviz,
cairo and fonts change them without changing the picture.
"""

from __future__ import annotations

import copy
import importlib
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[2]
DIAGRAMS = REPO / "docs" / "diagrams"
MAKE_DOCS = "run `make docs` and commit docs/*.png with docs/diagrams/rendered.json"


@pytest.fixture(scope="module")
def modules() -> Iterator[Dict[str, ModuleType]]:
    sys.path.insert(0, str(DIAGRAMS))
    try:
        yield {name: importlib.import_module(name) for name in ("picture", "architecture", "state_machine")}
    finally:
        sys.path.remove(str(DIAGRAMS))


@pytest.fixture(scope="module")
def architecture(modules: Dict[str, ModuleType]) -> Any:
    return modules["architecture"].build_graph()


@pytest.fixture(scope="module")
def state_machine(modules: Dict[str, ModuleType]) -> Any:
    return modules["state_machine"].build_graph()


@pytest.fixture(scope="module")
def asl(modules: Dict[str, ModuleType]) -> Dict[str, Any]:
    definition: Dict[str, Any] = modules["state_machine"].load_definition()
    return definition


def require_dot() -> None:
    if shutil.which("dot") is None:
        pytest.fail(
            "graphviz's `dot` is not installed, so the pictures cannot be rendered: "
            "install it (Debian/Ubuntu: apt-get install graphviz; .ci/run does this in CI)"
        )


# -- the architecture --------------------------------------------------------------------------------

# (what the brief asks for, the diagrams class the node is drawn with, words its label must contain)
COMPONENTS: List[Tuple[str, str, str]] = [
    ("on-premise file share", "generic.storage.Storage", "file share"),
    ("lakeport upload", "onprem.compute.Server", "lakeport upload"),
    ("Direct Connect", "aws.network.DirectConnect", "Direct Connect"),
    ("Site-to-Site VPN", "aws.network.SiteToSiteVpn", "Site-to-Site VPN"),
    ("raw bucket", "aws.storage.S3", "raw bucket"),
    ("curated bucket", "aws.storage.S3", "curated bucket"),
    ("quarantine bucket", "aws.storage.S3", "quarantine bucket"),
    ("artifacts bucket", "aws.storage.S3", "artifacts bucket"),
    ("Athena results bucket", "aws.storage.S3", "results bucket"),
    ("EventBridge rule", "aws.integration.Eventbridge", "EventBridge"),
    ("SQS ingest queue", "aws.integration.SQS", "ingest queue"),
    ("SQS dead-letter queue", "aws.integration.SQS", "dead-letter"),
    ("dispatcher Lambda", "aws.compute.Lambda", "dispatcher"),
    ("Step Functions state machine", "aws.integration.StepFunctions", "state machine"),
    ("Glue Python shell job", "aws.analytics.Glue", "Python shell"),
    ("Glue Spark job", "aws.analytics.Glue", "Spark"),
    ("datasets table", "aws.database.DynamodbTable", "datasets"),
    ("files table", "aws.database.DynamodbTable", "files"),
    ("runs table", "aws.database.DynamodbTable", "runs"),
    ("Glue Data Catalog", "aws.analytics.GlueDataCatalog", "Data Catalog"),
    ("Athena workgroup", "aws.analytics.Athena", "workgroup"),
    ("CloudWatch alarms and dashboard", "aws.management.Cloudwatch", "alarms, dashboard"),
    ("CloudWatch Logs", "aws.management.CloudwatchLogs", "Logs"),
    ("SNS alerts", "aws.integration.SNS", "alerts"),
    ("notifier Lambda", "aws.compute.Lambda", "notifier"),
    ("KMS key", "aws.security.KMS", "KMS"),
    ("IAM roles", "aws.security.IAMRole", "role per component"),
    ("CloudTrail", "aws.management.Cloudtrail", "CloudTrail"),
    ("S3 and DynamoDB gateway endpoints", "aws.network.Endpoint", "gateway endpoints\nS3, DynamoDB"),
    ("interface endpoints", "aws.network.Endpoint", "interface endpoints"),
    ("Git", "onprem.vcs.Git", "Git"),
    ("CloudFormation", "aws.management.Cloudformation", "CloudFormation"),
    ("CodeBuild project", "aws.devtools.Codebuild", "CodeBuild project"),
    ("Terraform", "onprem.iac.Terraform", "Terraform"),
]


def find(graph: Any, kind: str, words: str) -> Any:
    matches = [n for n in graph.nodes if n.kind == kind and words in n.label]
    assert matches, f"no {kind} node whose label says {words!r}"
    return matches[0]


def has_edge(graph: Any, source: Any, target: Any) -> bool:
    return any(e.source == source.id and e.target == target.id for e in graph.edges)


def test_architecture_graph_is_consistent(architecture: Any) -> None:
    assert architecture.problems() == []


@pytest.mark.parametrize(("component", "kind", "words"), COMPONENTS, ids=[c[0] for c in COMPONENTS])
def test_architecture_shows_every_component(architecture: Any, component: str, kind: str, words: str) -> None:
    find(architecture, kind, words)


def test_every_bucket_sits_in_its_zone(architecture: Any) -> None:
    for words, zone in [
        ("raw bucket", "raw zone"),
        ("curated bucket", "curated zone"),
        ("quarantine bucket", "quarantine zone"),
        ("artifacts bucket", "artifacts zone"),
        ("results bucket", "Athena results zone"),
    ]:
        node = find(architecture, "aws.storage.S3", words)
        assert zone in architecture.cluster_path(node), f"{words} is drawn in {architecture.cluster_path(node)}"


def test_jobs_and_endpoints_sit_in_the_vpc(architecture: Any) -> None:
    for kind, words in [
        ("aws.analytics.Glue", "Python shell"),
        ("aws.analytics.Glue", "Spark"),
        ("aws.network.Endpoint", "gateway endpoints"),
        ("aws.network.Endpoint", "interface endpoints"),
        ("aws.network.Endpoint", "S3 interface endpoint"),
    ]:
        path = architecture.cluster_path(find(architecture, kind, words))
        assert any(label.startswith("VPC") for label in path), f"{words} is drawn outside the VPC: {path}"
    path = architecture.cluster_path(find(architecture, "aws.network.DirectConnect", "Direct Connect"))
    assert not any(label.startswith("VPC") for label in path)


def test_the_ingest_path_is_connected_in_order(architecture: Any) -> None:
    chain = [
        ("generic.storage.Storage", "file share"),
        ("onprem.compute.Server", "lakeport upload"),
        ("aws.network.SiteToSiteVpn", "Site-to-Site VPN"),
        ("aws.network.Endpoint", "S3 interface endpoint"),
        ("aws.storage.S3", "raw bucket"),
        ("aws.integration.Eventbridge", "EventBridge"),
        ("aws.integration.SQS", "ingest queue"),
        ("aws.compute.Lambda", "dispatcher"),
        ("aws.integration.StepFunctions", "state machine"),
        ("aws.analytics.Glue", "Python shell"),
    ]
    nodes = [find(architecture, kind, words) for kind, words in chain]
    for source, target in zip(nodes, nodes[1:]):
        assert has_edge(architecture, source, target), f"no arrow {source.id} -> {target.id}"
    machine = find(architecture, "aws.integration.StepFunctions", "state machine")
    assert has_edge(architecture, machine, find(architecture, "aws.analytics.Glue", "Spark"))
    athena = find(architecture, "aws.analytics.Athena", "workgroup")
    assert has_edge(architecture, athena, find(architecture, "aws.analytics.GlueDataCatalog", "Data Catalog"))
    assert has_edge(architecture, athena, find(architecture, "aws.storage.S3", "curated bucket"))


def test_the_delivery_path_is_git_codebuild_terraform(architecture: Any) -> None:
    git = find(architecture, "onprem.vcs.Git", "Git")
    codebuild = find(architecture, "aws.devtools.Codebuild", "CodeBuild project")
    cloudformation = find(architecture, "aws.management.Cloudformation", "CloudFormation")
    terraform = find(architecture, "onprem.iac.Terraform", "Terraform")
    assert has_edge(architecture, git, codebuild)
    assert has_edge(architecture, cloudformation, codebuild)
    assert has_edge(architecture, codebuild, terraform)


def test_arrows_say_what_flows(architecture: Any, modules: Dict[str, ModuleType]) -> None:
    styles = modules["architecture"].EDGE_STYLES
    visible = [e for e in architecture.edges if e.kind != "layout"]
    assert all(e.kind in styles for e in architecture.edges)
    unlabelled = [f"{e.source} -> {e.target}" for e in visible if not e.label]
    # the only unlabelled arrows continue a labelled path (link -> endpoint, job -> endpoint)
    assert len(unlabelled) <= len(visible) // 4, unlabelled


# -- the state machine -------------------------------------------------------------------------------


def transitions(asl: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    out = []
    for name, state in asl["States"].items():
        if "Next" in state:
            out.append((name, state["Next"], "next"))
        out.extend((name, rule["Next"], "choice") for rule in state.get("Choices", []))
        if "Default" in state:
            out.append((name, state["Default"], "default"))
        out.extend((name, c["Next"], "catch") for c in state.get("Catch", []))
        out.extend((name, name, "retry") for _ in state.get("Retry", []))
    return out


def test_state_machine_graph_has_every_state(state_machine: Any, asl: Dict[str, Any]) -> None:
    assert state_machine.problems() == []
    drawn = {n.id: n for n in state_machine.nodes}
    for name, state in asl["States"].items():
        assert name in drawn, f"state {name} is missing from the picture"
        assert f"[{state['Type']}]" in drawn[name].label


def test_state_machine_graph_has_every_transition(state_machine: Any, asl: Dict[str, Any]) -> None:
    drawn = sorted((e.source, e.target, e.kind) for e in state_machine.edges if e.kind != "start")
    assert drawn == sorted(transitions(asl))
    start = [e for e in state_machine.edges if e.kind == "start"]
    assert [e.target for e in start] == [asl["StartAt"]]


def test_choices_and_catches_are_labelled(state_machine: Any) -> None:
    by_kind: Dict[str, List[Any]] = {}
    for edge in state_machine.edges:
        by_kind.setdefault(edge.kind, []).append(edge)
    assert any(e.label == '$.contract.engine == "spark"' for e in by_kind["choice"])
    assert any(e.label == "$.total_bytes >= $.contract.spark_threshold_bytes" for e in by_kind["choice"])
    assert all(e.label.startswith("catch ") for e in by_kind["catch"])
    glue_retries = [e for e in by_kind["retry"] if e.source == "RunPythonJob"]
    assert glue_retries and "Glue.ConcurrentRunsExceeded" in glue_retries[0].label


def test_state_machine_picture_follows_the_definition(modules: Dict[str, ModuleType], asl: Dict[str, Any]) -> None:
    changed = copy.deepcopy(asl)
    changed["States"]["RecordRun"]["Next"] = "Audit"
    changed["States"]["Audit"] = {"Type": "Pass", "Next": "Succeeded"}
    graph = modules["state_machine"].build_graph(changed)
    assert graph.node_by_id("Audit").kind == "Pass"
    assert ("RecordRun", "Audit") in [(e.source, e.target) for e in graph.edges]
    assert graph.digest() != modules["state_machine"].build_graph(asl).digest()


# -- the committed pictures ----------------------------------------------------------------------------


@pytest.mark.parametrize("picture", ["architecture.png", "state-machine.png"])
def test_committed_picture_is_current(modules: Dict[str, ModuleType], picture: str) -> None:
    script = modules["architecture"] if picture == "architecture.png" else modules["state_machine"]
    record = modules["picture"].read_record().get(picture)
    assert record is not None, f"docs/diagrams/rendered.json has no entry for {picture}: {MAKE_DOCS}"
    assert record["graph_sha256"] == script.build_graph().digest(), (
        f"docs/{picture} was drawn from an older graph: {MAKE_DOCS}"
    )
    png = REPO / "docs" / picture
    assert png.exists(), f"docs/{picture} is missing: {MAKE_DOCS}"
    assert modules["picture"].file_digest(png) == record["png_sha256"], (
        f"docs/{picture} is not the file rendered with the recorded graph: {MAKE_DOCS}"
    )


def test_both_pictures_render(modules: Dict[str, ModuleType], tmp_path: Path) -> None:
    require_dot()
    for name in ("architecture", "state_machine"):
        out = tmp_path / f"{name}.png"
        modules[name].render(modules[name].build_graph(), out)
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{name} did not render a PNG"
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 800 and height > 800, f"{name} rendered a {width}x{height} picture"
