"""``lakeport contract ...``: validate, apply, show, diff, history, list."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from ..errors import ContractError

if TYPE_CHECKING:  # the models and the SDK load when a contract command runs, not at every start
    from ..contract import Contract
    from ..registry import ContractRegistry
from .app import console, err_console, guard, state
from .render import print_rows

app = typer.Typer(
    help="Describe datasets: validate contracts and keep them in the datasets table.", no_args_is_help=True
)


def contract_files(paths: List[Path]) -> List[Path]:
    files: List[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


def load_all(paths: List[Path]) -> List[Contract]:
    from ..contract import load_contract_file

    contracts, problems = [], []
    for path in contract_files(paths):
        try:
            contracts.append(load_contract_file(path))
        except ContractError as exc:
            problems.append(exc)
    if problems:
        for error in problems:
            err_console.print(f"[bold red]{error.source}[/]: {len(error.problems)} problem(s)", highlight=False)
            for problem in error.problems:
                err_console.print(f"  - {problem}", highlight=False, soft_wrap=True)
        err_console.print("fix the contract(s) and validate again: lakeport contract validate <files>")
        raise typer.Exit(1)
    return contracts


def registry(ctx: typer.Context) -> ContractRegistry:
    from ..registry import ContractRegistry

    s = state(ctx)
    return ContractRegistry(s.aws.client("dynamodb"), s.resources.datasets_table)


@app.command()
def validate(paths: List[Path] = typer.Argument(..., help="contract files or folders of *.yaml")) -> None:
    """Check contracts without touching AWS; every problem is listed with its field and line."""
    for contract in load_all(paths):
        console.print(f"[green]ok[/] {contract.dataset} ({len(contract.columns)} columns, {contract.write_mode})")


@app.command()
def apply(
    ctx: typer.Context,
    paths: List[Path] = typer.Argument(..., help="contract files or folders of *.yaml"),
    allow_breaking: bool = typer.Option(False, help="apply even a change that existing data cannot follow"),
    applied_by: str = typer.Option("cli", help="who applies (kept in the history)"),
) -> None:
    """Store contracts as new versions in the datasets table (no-op when unchanged)."""
    reg = registry(ctx)
    for contract in load_all(paths):
        result = guard(partial(reg.apply, contract, applied_by=applied_by, allow_breaking=allow_breaking))
        if result.changed:
            console.print(
                f"[green]applied[/] {result.dataset} version {result.version} ({len(result.changes)} change(s))"
            )
        else:
            console.print(f"[dim]unchanged[/] {result.dataset} version {result.version}")


@app.command()
def show(
    ctx: typer.Context,
    dataset: str,
    version: Optional[int] = typer.Option(None, help="a past version (default: the latest)"),
) -> None:
    """Print the applied contract as YAML."""
    contract = guard(lambda: registry(ctx).get(dataset, version))
    console.print(f"# {contract.dataset} version {contract.version}", highlight=False)
    from ..contract import dump_contract_yaml

    console.out(dump_contract_yaml(contract), highlight=False)


@app.command()
def diff(ctx: typer.Context, path: Path) -> None:
    """What applying the file would change, and whether a change breaks the table."""
    (contract,) = load_all([path])
    changes = guard(lambda: registry(ctx).diff(contract))
    if not changes:
        console.print(f"{contract.dataset}: no changes")
        return
    print_rows(
        ["path", "change", "old", "new", "breaking", "why"],
        [[c.path, c.kind, c.old, c.new, "yes" if c.breaking else "", c.why] for c in changes],
        title=f"{contract.dataset}: {len(changes)} change(s)",
    )


@app.command()
def history(ctx: typer.Context, dataset: str) -> None:
    """Every applied version of a dataset's contract, newest first."""
    versions = guard(lambda: registry(ctx).history(dataset))
    print_rows(
        ["version", "applied_at", "applied_by", "digest"],
        [[v.version, v.applied_at, v.applied_by, v.digest[:12]] for v in versions],
        title=dataset,
    )


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """The datasets with an applied contract."""
    datasets = guard(lambda: registry(ctx).list())
    print_rows(
        ["dataset", "version", "format", "write_mode", "prefix", "owner", "updated"],
        [
            [d.dataset, d.latest_version, d.format, d.write_mode, d.source_prefix, d.owner, (d.updated_at or "")[:10]]
            for d in datasets
        ],
        shorten=["dataset"],
        keep=["version", "format", "write_mode", "updated"],
        below=["prefix", "owner"],
    )
