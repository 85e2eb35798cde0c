"""``lakeport replay`` and the ``lakeport quarantine`` group (``show``, the default, and ``reprocess``)."""

from __future__ import annotations

from typing import Any, List, Optional

import typer
from typer.core import TyperGroup

from .app import console, guard, state
from .data import OUTPUT_HELP, _check_output, print_summary
from .data import quarantine as show_quarantine
from .render import print_rows


class _ShowByDefault(TyperGroup):
    """``lakeport quarantine <dataset>`` keeps meaning ``lakeport quarantine show <dataset>``."""

    def parse_args(self, ctx: Any, args: List[str]) -> List[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


quarantine_app = typer.Typer(
    cls=_ShowByDefault,
    help="Rejected rows: show them (the default: 'lakeport quarantine <dataset>') or reprocess them after a fix.",
    no_args_is_help=True,
)
quarantine_app.command("show")(show_quarantine)


def replay(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    objects: Optional[List[str]] = typer.Option(
        None, "--object", help="an s3:// object or prefix to replay (repeatable); default: chosen from the ledger"
    ),
    since: Optional[str] = typer.Option(None, help="ledger objects updated at or after this ISO time"),
    until: Optional[str] = typer.Option(None, help="ledger objects updated at or before this ISO time"),
    state_: Optional[str] = typer.Option(
        None, "--state", help="ledger objects in this state: FAILED, QUARANTINED or SUCCEEDED"
    ),
    allow_duplicates: bool = typer.Option(
        False, help="append datasets only: replay objects whose rows are already in the table (adds them again)"
    ),
    run_id: Optional[str] = typer.Option(
        None, "--run", help="run this run id again with its own objects (finishes a run stopped part-way)"
    ),
    engine: str = typer.Option("python", help="python or spark"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """Ingest objects again: named ones, or those the files ledger shows in a time range or state.

    append adds the rows again (refused for objects that already wrote rows unless --allow-duplicates);
    overwrite_partitions and upsert are idempotent, and replace what the table holds now.
    """
    s = state(ctx)
    from ..recovery import Recovery

    recovery = Recovery(s.aws, s.resources)
    if run_id:
        summary = guard(lambda: recovery.resume(dataset, run_id, engine=engine))
    else:
        bound = {"since": _iso(since, "--since"), "until": _iso(until, "--until")}
        summary = guard(
            lambda: recovery.replay(
                dataset,
                objects or [],
                state=state_.upper() if state_ else None,
                allow_duplicates=allow_duplicates,
                engine=engine,
                **bound,
            )
        )
    print_summary(summary, output)


def _iso(text: Optional[str], option: str) -> Optional[Any]:
    if text is None:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date or time, e.g. 2026-05-01T00:00:00Z", param_hint=option
        ) from None


@quarantine_app.command("reprocess")
def reprocess(
    ctx: typer.Context,
    dataset: str = typer.Argument(..., help="the dataset, e.g. sales.orders"),
    run_ids: Optional[List[str]] = typer.Option(
        None, "--run", help="only the rows this run quarantined (repeatable); default: every run"
    ),
    engine: str = typer.Option("python", help="python or spark"),
    output: str = typer.Option("table", help=OUTPUT_HELP, callback=_check_output),
) -> None:
    """Ingest quarantined rows again with the dataset's current contract (after fixing it).

    Rows that pass are written; rows that still fail are quarantined again under the new run.
    Reprocessing the same run twice writes nothing the second time. Rows of files rejected as a
    whole are left out: replay those files with 'lakeport replay <dataset> --state QUARANTINED'.
    """
    s = state(ctx)
    from ..recovery import Recovery

    outcomes = guard(lambda: Recovery(s.aws, s.resources).reprocess_quarantine(dataset, run_ids or [], engine=engine))
    rows = []
    for o in outcomes:
        totals = o.summary.totals() if o.summary is not None and o.summary.files else {}
        rows.append(
            [
                o.quarantine_run,
                o.rows,
                o.summary.run_id if o.summary is not None and o.summary.files else "",
                totals.get("rows_written", 0),
                totals.get("rows_quarantined", 0),
                o.skipped or "",
            ]
        )
    print_rows(
        ["quarantine_run", "rows", "new_run", "written", "quarantined_again", "note"],
        rows,
        output,
        title=f"quarantine reprocess of {dataset}",
        right=["rows", "written", "quarantined_again"],
    )
    if output == "table":
        for o in outcomes:
            if o.rows_from_rejected_files:
                console.print(
                    f"run {o.quarantine_run}: {o.rows_from_rejected_files} row(s) of files rejected as a whole left"
                    f" out; replay those files: lakeport replay {dataset} --state QUARANTINED",
                    highlight=False,
                )
