"""``lakeport cost estimate``: a month of a stated workload at list prices, a line per billed item."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
import yaml
from rich.table import Table

from ..cost import (
    DEFAULT_WORKLOAD,
    PRICE_REGION,
    PRICE_SOURCE,
    PRICES_AS_OF,
    Estimate,
    Workload,
    estimate,
)
from ..errors import ConfigurationError
from .app import console, fail

app = typer.Typer(help="What lakeport costs on AWS.", no_args_is_help=True)

OUTPUTS = ("table", "markdown", "csv", "json")


def load_workload(path: Path) -> Workload:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read the workload file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"the workload file {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"the workload file {path} must be a mapping of field: value")
    return Workload.from_mapping(data, source=str(path))


def parse_assignments(items: List[str]) -> Dict[str, str]:
    values: Dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--set {item!r} is not NAME=VALUE", hint="e.g. --set snapshot_retention_days=7")
        values[name.strip()] = value.strip()
    return values


def _quantity(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def _usd(value: float) -> str:
    return f"{value:,.2f}"


def _unit_price(value: float) -> str:
    return f"{value:.7g}"


def _preamble(source: str) -> str:
    return (
        f"Monthly estimate for the workload in {source}. Prices: {PRICE_REGION} on-demand list prices"
        f" as of {PRICES_AS_OF}, {PRICE_SOURCE}."
    )


def _markdown(result: Estimate, source: str) -> str:
    out = [_preamble(source), "", "| service | item | quantity | unit | USD per unit | USD per month |"]
    out.append("|---|---|--:|---|--:|--:|")
    for line in result.lines:
        out.append(
            f"| {line.service} | {line.item} | {_quantity(line.quantity)} | {line.unit} |"
            f" {_unit_price(line.unit_usd)} | {_usd(line.monthly_usd)} |"
        )
    out += ["", "| service | USD per month |", "|---|--:|"]
    out += [f"| {service} | {_usd(usd)} |" for service, usd in result.by_service()]
    out.append(f"| **total** | **{_usd(result.total_usd)}** |")
    return "\n".join(out) + "\n"


def _csv(result: Estimate) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["service", "item", "quantity", "unit", "usd_per_unit", "usd_per_month"])
    for line in result.lines:
        writer.writerow(
            [line.service, line.item, f"{line.quantity:.6g}", line.unit, line.unit_usd, f"{line.monthly_usd:.4f}"]
        )
    writer.writerow(["total", "", "", "", "", f"{result.total_usd:.4f}"])
    return buffer.getvalue()


def _json(result: Estimate, source: str) -> str:
    document: Dict[str, Any] = {
        "workload_source": source,
        "prices": {"as_of": PRICES_AS_OF, "region": PRICE_REGION, "source": PRICE_SOURCE},
        "workload": {name: value for name, value, _help in result.workload.describe()},
        "lines": [
            {
                "service": line.service,
                "item": line.item,
                "quantity": line.quantity,
                "unit": line.unit,
                "usd_per_unit": line.unit_usd,
                "usd_per_month": round(line.monthly_usd, 4),
            }
            for line in result.lines
        ],
        "by_service": {service: round(usd, 4) for service, usd in result.by_service()},
        "total_usd_per_month": round(result.total_usd, 2),
    }
    return json.dumps(document, indent=2) + "\n"


def _print_table(result: Estimate, source: str) -> None:
    console.print(_preamble(source), highlight=False, soft_wrap=True)
    lines = Table(show_lines=False, header_style="bold", title_justify="left")
    for column, justify in [
        ("service", "left"),
        ("item", "left"),
        ("quantity", "right"),
        ("unit", "left"),
        ("USD per unit", "right"),
        ("USD per month", "right"),
    ]:
        lines.add_column(column, justify=justify)  # type: ignore[arg-type]
    previous = None
    for line in result.lines:
        lines.add_row(
            line.service if line.service != previous else "",
            line.item,
            _quantity(line.quantity),
            line.unit,
            _unit_price(line.unit_usd),
            _usd(line.monthly_usd),
        )
        previous = line.service
    console.print(lines)
    totals = Table(header_style="bold")
    totals.add_column("service")
    totals.add_column("USD per month", justify="right")
    for service, usd in result.by_service():
        totals.add_row(service, _usd(usd))
    totals.add_row("[bold]total[/]", f"[bold]{_usd(result.total_usd)}[/]")
    console.print(totals)


@app.command("estimate")
def estimate_command(
    workload: Optional[Path] = typer.Option(
        None, "--workload", help="YAML file stating every workload field (default: docs/cost-workload.yaml's values)"
    ),
    datasets: Optional[int] = typer.Option(None, help="datasets receiving files"),
    files_per_day: Optional[float] = typer.Option(None, help="raw files landing per day"),
    mb_per_file: Optional[float] = typer.Option(None, help="average raw file size in MB"),
    files_per_run: Optional[float] = typer.Option(None, help="files one run ingests (the batching window)"),
    history_days: Optional[int] = typer.Option(None, help="days of history kept"),
    queries_per_day: Optional[float] = typer.Option(None, help="Athena queries per day"),
    gb_per_query: Optional[float] = typer.Option(None, help="GB an average query scans after partition pruning"),
    private_network: Optional[bool] = typer.Option(
        None, "--private-network/--no-private-network", help="Glue jobs in the private VPC (interface endpoints)"
    ),
    assignments: List[str] = typer.Option([], "--set", help="NAME=VALUE for any workload field; repeatable"),
    show_workload: bool = typer.Option(False, "--show-workload", help="list the workload's fields and values"),
    output: str = typer.Option("table", help="table, markdown, csv or json"),
) -> None:
    """Estimate a month of lakeport on AWS for a stated workload, per service, with a total."""
    if output not in OUTPUTS:
        raise typer.BadParameter(f"use one of {', '.join(OUTPUTS)}", param_hint="--output")
    try:
        base = load_workload(workload) if workload is not None else DEFAULT_WORKLOAD
        source = str(workload) if workload is not None else "docs/cost-workload.yaml (the built-in default)"
        flags = {
            "datasets": datasets,
            "files_per_day": files_per_day,
            "mb_per_file": mb_per_file,
            "files_per_run": files_per_run,
            "history_days": history_days,
            "queries_per_day": queries_per_day,
            "gb_scanned_per_query": gb_per_query,
            "private_network": private_network,
        }
        changes: Dict[str, Any] = {k: v for k, v in flags.items() if v is not None}
        changes.update(parse_assignments(assignments))
        chosen = base.with_values(changes, source="command line") if changes else base
        if changes:
            source += " with " + ", ".join(f"{k}={v}" for k, v in changes.items())
    except ConfigurationError as exc:
        fail(exc)
    if show_workload:
        for name, value, help_text in chosen.describe():
            console.print(f"{name} = {value!r}  [dim]# {help_text}[/]", highlight=False)
        return
    result = estimate(chosen)
    if output == "markdown":
        console.out(_markdown(result, source), end="", highlight=False)
    elif output == "csv":
        console.out(_csv(result), end="", highlight=False)
    elif output == "json":
        console.out(_json(result, source), end="", highlight=False)
    else:
        _print_table(result, source)
