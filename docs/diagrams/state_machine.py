"""The ingest state machine picture (``docs/state-machine.png``), drawn from the ASL file itself.

``build_graph()`` reads ``src/lakeport/orchestration/ingest.asl.json`` (the same file Terraform and
local mode render) and returns one node per state and one edge per transition: ``Next``, each
``Choices`` rule (labelled with its condition), ``Default``, each ``Catch`` (labelled with its
errors) and each ``Retry`` (a self-loop labelled with its errors and attempts). Nothing is typed in
by hand, so the picture cannot drift from the definition; a test checks that it is current.
"""

from __future__ import annotations

import html
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from picture import DOCS_DIR, Graph, check_graph, write_record

PICTURE = "state-machine.png"
ASL_FILE = DOCS_DIR.parent / "src" / "lakeport" / "orchestration" / "ingest.asl.json"
START = "(start)"
END = "(end)"

NODE_STYLES: Dict[str, Dict[str, str]] = {
    "start": {"shape": "circle", "style": "filled", "fillcolor": "#2D3436", "label": "", "width": "0.25"},
    "end": {"shape": "doublecircle", "style": "filled", "fillcolor": "#2D3436", "label": "", "width": "0.2"},
    "Task": {"shape": "box", "style": "rounded,filled", "fillcolor": "#D6EAF8"},
    "Choice": {"shape": "diamond", "style": "filled", "fillcolor": "#FCF3CF"},
    "Pass": {"shape": "box", "style": "filled", "fillcolor": "#F2F3F4"},
    "Wait": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#F2F3F4"},
    "Succeed": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#D5F5E3"},
    "Fail": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#FADBD8"},
    "Parallel": {"shape": "box3d", "style": "filled", "fillcolor": "#E8DAEF"},
    "Map": {"shape": "box3d", "style": "filled", "fillcolor": "#E8DAEF"},
}
EDGE_STYLES: Dict[str, Dict[str, str]] = {
    "start": {"color": "#2D3436"},
    "next": {"color": "#2D3436"},
    "choice": {"color": "#B7950B", "fontcolor": "#7D6608"},
    "default": {"color": "#B7950B", "fontcolor": "#7D6608", "style": "dashed"},
    "catch": {"color": "#C0392B", "fontcolor": "#C0392B", "style": "dashed"},
    "retry": {"color": "#1B6AC9", "fontcolor": "#1B6AC9", "style": "dotted"},
}

_OPERATORS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}
_TYPES = ("String", "Numeric", "Boolean", "Timestamp")


def load_definition(path: Path = ASL_FILE) -> Dict[str, Any]:
    """The ASL template as JSON (its placeholders are quoted, so the template is valid JSON)."""
    definition: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


def describe_condition(rule: Dict[str, Any]) -> str:
    """A Choice rule in a few words: ``$.contract.engine == "spark"``, ``A and B``, ``not A``."""
    if "And" in rule:
        return " and\n".join(describe_condition(r) for r in rule["And"])
    if "Or" in rule:
        return " or\n".join(describe_condition(r) for r in rule["Or"])
    if "Not" in rule:
        return f"not ({describe_condition(rule['Not'])})"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key in ("IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"):
            test = key[2:].lower()
            return f"{variable} is {'' if value else 'not '}{test}"
        for kind in _TYPES:
            if key.startswith(kind):
                operator = key[len(kind) :]
                is_path = operator.endswith("Path")
                operator = operator[: -len("Path")] if is_path else operator
                shown = value if is_path else json.dumps(value)
                return f"{variable} {_OPERATORS.get(operator, operator)} {shown}"
    return json.dumps({k: v for k, v in rule.items() if k != "Next"}, sort_keys=True)


def short_error(name: str) -> str:
    return name[: -len("Exception")] if name.endswith("Exception") else name


def describe_retry(retrier: Dict[str, Any]) -> str:
    attempts = retrier.get("MaxAttempts", 3)
    interval = retrier.get("IntervalSeconds", 1)
    backoff = retrier.get("BackoffRate", 2.0)
    errors = "\n".join(short_error(e) for e in retrier.get("ErrorEquals", []))
    return f"retry up to {attempts}x, {interval} s x{backoff:g}:\n{errors}"


def task_detail(state: Dict[str, Any]) -> Optional[str]:
    resource = str(state.get("Resource", ""))
    if resource.startswith("arn:aws:states:::"):
        return resource[len("arn:aws:states:::") :]
    return resource or None


def build_graph(definition: Optional[Dict[str, Any]] = None) -> Graph:
    """One node per state and one edge per transition of the ingest state machine."""
    asl = definition if definition is not None else load_definition()
    g = Graph(
        name="lakeport ingest state machine (from src/lakeport/orchestration/ingest.asl.json)",
        attributes={"rankdir": "TB", "nodesep": "0.5", "ranksep": "0.55", "fontsize": "18", "labelloc": "t"},
    )
    states: Dict[str, Dict[str, Any]] = asl["States"]
    g.node(START, "start", "start")
    g.edge(START, asl["StartAt"], "", "start")
    needs_end = False
    for name, state in states.items():
        kind = state["Type"]
        label = f"{name}\n[{kind}]"
        detail = task_detail(state) if kind == "Task" else None
        if detail:
            label += f"\n{detail}"
        if kind == "Wait":
            label += f"\n{state.get('SecondsPath') or state.get('Seconds', '')}".rstrip()
        g.node(name, label, kind)

        if "Next" in state:
            g.edge(name, state["Next"], "", "next")
        if state.get("End"):
            needs_end = True
            g.edge(name, END, "", "next")
        for rule in state.get("Choices", []):
            g.edge(name, rule["Next"], describe_condition(rule), "choice")
        if "Default" in state:
            g.edge(name, state["Default"], "default", "default")
        for catcher in state.get("Catch", []):
            errors = ", ".join(short_error(e) for e in catcher.get("ErrorEquals", []))
            g.edge(name, catcher["Next"], f"catch {errors}", "catch")
        for retrier in state.get("Retry", []):
            g.edge(name, name, describe_retry(retrier), "retry")
    if needs_end:
        g.node(END, "end", "end")
    return g


def state_names(definition: Optional[Dict[str, Any]] = None) -> List[str]:
    asl = definition if definition is not None else load_definition()
    return list(asl["States"])


def render(graph: Graph, out_png: Path) -> None:
    """Draw ``graph`` into ``out_png`` with graphviz's ``dot``."""
    import graphviz

    check_graph(graph)
    dot = graphviz.Digraph(graph.name, format="png")
    dot.attr(label=graph.name, fontname="Sans-Serif", **graph.attributes)
    dot.attr("node", fontname="Sans-Serif", fontsize="12", margin="0.15,0.06")
    dot.attr("edge", fontname="Sans-Serif", fontsize="10")
    # A retry is drawn as an unlabelled loop; its text goes into the state's box, where it cannot
    # collide with other edges.
    retries: Dict[str, List[str]] = {}
    for edge in graph.edges:
        if edge.kind == "retry":
            retries.setdefault(edge.source, []).append(edge.label)
    for node in graph.nodes:
        style = dict(NODE_STYLES.get(node.kind, {}))
        if "label" in style:
            dot.node(node.id, style.pop("label"), **style)
            continue
        dot.node(node.id, _html_label(node.label, retries.get(node.id, [])), **style)
    for edge in graph.edges:
        attrs = dict(EDGE_STYLES.get(edge.kind, {}))
        label = edge.label
        if edge.kind == "retry":
            attrs.update(headport="ne", tailport="se")
            label = ""
        dot.edge(edge.source, edge.target, label=label, **attrs)
    with tempfile.TemporaryDirectory() as work:
        written = dot.render(filename="picture", directory=work, cleanup=True)
        shutil.copyfile(written, out_png)


def _html_label(text: str, retries: List[str]) -> str:
    first, *rest = [html.escape(line) for line in text.split("\n")]
    rows = [f"<B>{first}</B>", *rest]
    retry_colour = EDGE_STYLES["retry"]["fontcolor"]
    for retry in retries:
        lines = "<BR/>".join(html.escape(line) for line in retry.split("\n"))
        rows.append(f'<FONT POINT-SIZE="9" COLOR="{retry_colour}">{lines}</FONT>')
    return "<" + "<BR/>".join(rows) + ">"


def renderer_version() -> str:
    from importlib.metadata import version

    return f"graphviz (python) {version('graphviz')}"


def main() -> int:
    graph = build_graph()
    out = DOCS_DIR / PICTURE
    render(graph, out)
    write_record(PICTURE, graph, out, renderer_version())
    print(f"wrote {out.relative_to(DOCS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
