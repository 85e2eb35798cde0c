"""A picture as data: clusters, nodes and labelled edges, built first and rendered second.

Both picture scripts build a :class:`Graph` with a pure function, then render it. Tests inspect the
graph itself (never the PNG), and a picture is *current* when the graph that produced it is the graph
the sources give today. PNG bytes from graphviz are not stable across graphviz, cairo and font
versions, so they are never compared; instead each render records, in ``docs/diagrams/rendered.json``,
the SHA-256 of the graph description (canonical JSON) and of the PNG it wrote. A test then checks
that (a) today's graph has the recorded digest and (b) the committed PNG is the one written with it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

DIAGRAMS_DIR = Path(__file__).resolve().parent
DOCS_DIR = DIAGRAMS_DIR.parent
RECORD_FILE = DIAGRAMS_DIR / "rendered.json"


@dataclass(frozen=True)
class Cluster:
    """A box around nodes; ``parent`` nests it in another cluster."""

    id: str
    label: str
    parent: Optional[str] = None
    style: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Node:
    """``kind`` says how to draw it: a ``diagrams`` class path (``aws.storage.S3``) or a state type."""

    id: str
    label: str
    kind: str
    cluster: Optional[str] = None


@dataclass(frozen=True)
class Edge:
    """``kind`` groups edges by what flows (data, control, alert, deploy; next, catch, retry, ...)."""

    source: str
    target: str
    label: str = ""
    kind: str = ""
    constraint: bool = True  # False: the edge does not pull its ends into left-to-right order


@dataclass
class Graph:
    name: str
    attributes: Dict[str, str] = field(default_factory=dict)
    clusters: List[Cluster] = field(default_factory=list)
    nodes: List[Node] = field(default_factory=list)
    edges: List[Edge] = field(default_factory=list)
    same_rank: List[List[str]] = field(default_factory=list)  # node ids drawn side by side (one column in LR)

    # -- building ---------------------------------------------------------------------------------

    def cluster(self, id: str, label: str, parent: Optional[str] = None, **style: str) -> str:
        self.clusters.append(Cluster(id, label, parent, dict(style)))
        return id

    def node(self, id: str, label: str, kind: str, cluster: Optional[str] = None) -> str:
        self.nodes.append(Node(id, label, kind, cluster))
        return id

    def edge(self, source: str, target: str, label: str = "", kind: str = "", constraint: bool = True) -> None:
        self.edges.append(Edge(source, target, label, kind, constraint))

    def align(self, *ids: str) -> None:
        self.same_rank.append(list(ids))

    # -- reading ----------------------------------------------------------------------------------

    def node_by_id(self, id: str) -> Node:
        for node in self.nodes:
            if node.id == id:
                return node
        raise KeyError(id)

    def children(self, cluster: Optional[str]) -> List[Cluster]:
        return [c for c in self.clusters if c.parent == cluster]

    def nodes_in(self, cluster: Optional[str]) -> List[Node]:
        return [n for n in self.nodes if n.cluster == cluster]

    def cluster_path(self, node: Node) -> List[str]:
        """Labels of the clusters around a node, outermost first."""
        by_id = {c.id: c for c in self.clusters}
        path: List[str] = []
        current = node.cluster
        while current is not None:
            path.insert(0, by_id[current].label)
            current = by_id[current].parent
        return path

    def problems(self) -> List[str]:
        """Dangling references and duplicate ids: a graph with problems is not rendered."""
        out: List[str] = []
        ids = [n.id for n in self.nodes]
        cluster_ids = [c.id for c in self.clusters]
        for name, seen in (("node", ids), ("cluster", cluster_ids)):
            dupes = sorted({i for i in seen if seen.count(i) > 1})
            if dupes:
                out.append(f"duplicate {name} ids: {', '.join(dupes)}")
        for c in self.clusters:
            if c.parent is not None and c.parent not in cluster_ids:
                out.append(f"cluster {c.id} sits in unknown cluster {c.parent}")
        for n in self.nodes:
            if n.cluster is not None and n.cluster not in cluster_ids:
                out.append(f"node {n.id} sits in unknown cluster {n.cluster}")
        for e in self.edges:
            for end in (e.source, e.target):
                if end not in ids:
                    out.append(f"edge {e.source} -> {e.target} names unknown node {end}")
        for group in self.same_rank:
            for end in group:
                if end not in ids:
                    out.append(f"rank group {group} names unknown node {end}")
        return out

    def description(self) -> str:
        """Canonical JSON of everything that decides the picture."""
        return json.dumps(asdict(self), sort_keys=True, indent=1, ensure_ascii=False)

    def digest(self) -> str:
        return hashlib.sha256(self.description().encode("utf-8")).hexdigest()


# -- the render record ------------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_record() -> Dict[str, Any]:
    if not RECORD_FILE.exists():
        return {}
    data: Dict[str, Any] = json.loads(RECORD_FILE.read_text(encoding="utf-8"))
    return data


def write_record(picture: str, graph: Graph, png: Path, renderer: str) -> None:
    """Record which graph produced ``png`` (kept sorted, so re-rendering one picture is a small diff)."""
    record = read_record()
    record[picture] = {"graph_sha256": graph.digest(), "png_sha256": file_digest(png), "renderer": renderer}
    RECORD_FILE.write_text(json.dumps(record, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def check_graph(graph: Graph) -> None:
    problems = graph.problems()
    if problems:
        raise ValueError(f"the graph {graph.name!r} is inconsistent:\n  " + "\n  ".join(problems))
