"""``lakeport local up``: the embedded AWS stack on a fixed port, ingesting whatever arrives."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import typer

from ..errors import LakeportError
from ..local.state import DEFAULT_STATE_DIR
from .app import console, fail

app = typer.Typer(help="Run lakeport on this machine, on the embedded AWS emulator.", no_args_is_help=True)

READY = "lakeport local stack ready"
DEFAULT_PORT = 4566


def _shell_lines(environment: Dict[str, str]) -> str:
    return "\n".join(f"  export {name}={value}" for name, value in environment.items())


def _still_running(stack: Any, execution_arn: Optional[str]) -> bool:
    """Whether the run's execution goes on: a failed attempt it will retry has not ended the run."""
    if not execution_arn:
        return False
    try:
        status = stack.aws.client("stepfunctions").describe_execution(executionArn=execution_arn)["status"]
    except Exception:  # an execution that cannot be read says nothing either way: show the failure
        return False
    return bool(status == "RUNNING")


def _watch_runs(stack: Any, seen: Dict[Tuple[str, str], str]) -> None:
    """Print each run when it starts and when it ends; an attempt the state machine retries (its
    execution still running) is shown as a retry, not as the run's end."""
    from ..ledger.runs import RunLedger

    for record in reversed(RunLedger(stack.aws.client("dynamodb"), stack.resources.runs_table).list(limit=50)):
        key = (record.dataset, record.run_id)
        shown = record.state
        if record.state == "FAILED" and _still_running(stack, record.execution_arn):
            shown = f"RETRYING {record.attempts}"
        if seen.get(key) == shown:
            continue
        seen[key] = shown
        line = f"run {record.run_id} of {record.dataset}: {record.state}"
        if record.state in ("SUCCEEDED", "PARTIAL", "REJECTED"):
            line += (
                f" ({record.files} file(s); read {record.rows_read}, written {record.rows_written},"
                f" quarantined {record.rows_quarantined}; {record.duration_seconds or 0:.1f} s; engine {record.engine})"
            )
            if record.rejection:
                line += f"; {record.files_rejected} file(s) rejected as a whole: {record.rejection}"
        elif shown.startswith("RETRYING"):
            line = f"run {record.run_id} of {record.dataset}: attempt {record.attempts} is retried ({record.error})"
        elif record.state == "FAILED":
            line += f": {record.error}"
        console.print(line, highlight=False, soft_wrap=True)


LOCAL_UP_MAX_CONCURRENT_RUNS = 4


@app.command()
def up(
    port: int = typer.Option(DEFAULT_PORT, help="loopback port of the emulator's endpoint"),
    examples: bool = typer.Option(
        True, "--examples/--no-examples", help="apply the example contracts (to datasets that have none yet)"
    ),
    state_dir: Path = typer.Option(
        Path(DEFAULT_STATE_DIR),
        "--state-dir",
        help="folder that keeps the buckets, tables, ledgers, contracts and catalog across restarts",
    ),
    ephemeral: bool = typer.Option(
        False, "--ephemeral", help="keep nothing: start empty and forget everything at the stop"
    ),
) -> None:
    """Start the emulator with every lakeport resource and ingest what lands in the raw bucket, until Ctrl-C.

    What the stack holds is kept in --state-dir (default .lakeport/ in the current folder) and is
    there again at the next start, after a Ctrl-C, a SIGTERM or a kill -9 alike; a run the stop
    interrupted is started again, and files that landed but were never dispatched are announced again.
    """
    from ..demo import apply_examples, find_examples
    from ..local.pipeline import wire
    from ..local.restart import take_up
    from ..local.stack import LocalStack

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("lakeport").setLevel(logging.INFO)
    # the emulator's interpreter logs every failed state at ERROR; the run lines below say it once
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    stop = threading.Event()

    def request_stop(signum: int, frame: Optional[Any]) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    # several runs of a job at once, as Glue does (the tests' default of 2 makes the limit easy to reach)
    stack = LocalStack(
        port=port, max_concurrent_runs=LOCAL_UP_MAX_CONCURRENT_RUNS, state_dir=None if ephemeral else state_dir
    )
    try:
        stack.start()
        dispatcher = wire(stack)
        kept = stack.restored is not None and stack.restored.restored
        applied = (
            apply_examples(stack, find_examples(), applied_by="lakeport local up", keep_registered=kept)
            if examples
            else []
        )
        taken_up = take_up(stack, dispatcher) if kept else None
    except LakeportError as exc:
        stack.stop()
        fail(exc)
    except OSError as exc:
        stack.stop()
        fail(LakeportError(f"cannot start the emulator on port {port}: {exc}", hint="choose another --port"))
    environment = stack.environment()
    raw = stack.resources.raw_bucket
    shown = next((c for c in applied if c.dataset == "sales.orders"), applied[0] if applied else None)
    prefix = shown.source.prefix if shown is not None else "<dataset prefix>/"
    console.print(f"endpoint: {stack.endpoint_url}", highlight=False, soft_wrap=True)
    if stack.restored is None:
        console.print("state: ephemeral (nothing is kept after the stop)", highlight=False, soft_wrap=True)
    else:
        console.print(f"state: {state_dir}/ — {stack.restored.describe()}", highlight=False, soft_wrap=True)
    for line in taken_up.lines() if taken_up is not None else []:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print(
        f"environment (for lakeport, the AWS CLI and any SDK):\n{_shell_lines(environment)}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"raw bucket: {raw}", highlight=False, soft_wrap=True)
    for contract in applied:
        console.print(
            f"  dataset {contract.dataset} <- s3://{raw}/{contract.source.prefix}", highlight=False, soft_wrap=True
        )
    console.print(
        f"try:\n  aws --endpoint-url {stack.endpoint_url} s3 cp <file> s3://{raw}/{prefix}\n"
        '  lakeport runs\n  lakeport query "SELECT count(*) FROM <dataset>"',
        highlight=False,
        soft_wrap=True,
    )
    from ..local.athena import queries

    queries.warm(stack.resources.region)
    console.print(f"{READY} on {stack.endpoint_url} (Ctrl-C stops it)", highlight=False, soft_wrap=True)
    sys.stdout.flush()
    seen: Dict[Tuple[str, str], str] = {}
    try:
        while not stop.wait(1.0):
            try:
                _watch_runs(stack, seen)
            except LakeportError as exc:
                console.print(f"could not read the runs: {exc.one_line()}", highlight=False, soft_wrap=True)
            sys.stdout.flush()
    finally:
        console.print("stopping the local stack ...", highlight=False)
        started = time.monotonic()
        stack.stop()
        console.print(f"stopped ({time.monotonic() - started:.1f} s)", highlight=False)
        sys.stdout.flush()
