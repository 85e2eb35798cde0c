"""``lakeport demo``: the whole pipeline on the embedded AWS emulator, in one command.

It starts the local stack (emulator, every resource, the Glue runner, the dispatcher), applies the
example contracts, delivers the example on-premise files with :mod:`lakeport.upload` (each dataset
as a delivery with a completeness marker), and lets the events flow the way they do on AWS:
EventBridge → SQS → dispatcher → Step Functions (the real ASL) → Glue job → curated Parquet +
catalog + ledgers. The accounts dataset gets its second delivery once the first is in (an upsert).
Then it prints the runs, a sample of quarantined rows and the answers of a few Athena queries.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from rich.console import Console
from rich.table import Table

from .cli.reasons import print_run_table
from .contract import Contract, load_contract_file
from .errors import ConfigurationError
from .examples import FOLDER as EXAMPLES
from .ledger.runs import RunLedger, RunRecord
from .local.emulator import EmbeddedAws
from .local.pipeline import wire
from .local.stack import LocalStack
from .registry import ContractRegistry
from .upload import Uploader

EXAMPLES_VARIABLE = "LAKEPORT_EXAMPLES"
DEMO_MAX_CONCURRENT_RUNS = 4
WAIT_SECONDS = 120.0

# (dataset, files relative to examples/raw) — delivered together, before the second wave
FIRST_WAVE: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("sales.orders", ("sales/orders/orders-2024-01-02.csv", "sales/orders/orders-2024-01-03.csv")),
    ("iot.readings", ("iot/readings/plant-a-2024-03-01.jsonl.gz",)),
    ("finance.accounts", ("finance/accounts/accounts-2024-04-01.csv",)),
)
SECOND_WAVE: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("finance.accounts", ("finance/accounts/accounts-2024-04-02.csv",)),
)

QUARANTINE_SAMPLE = (
    "SELECT '{dataset}' AS dataset, regexp_extract(lakeport_source, '[^/]+$') AS file,"
    " lakeport_source_row AS row, lakeport_reason AS reason FROM {table}"
    " ORDER BY lakeport_source, lakeport_source_row LIMIT {limit}"
)
QUERIES: Tuple[Tuple[str, str], ...] = (
    (
        "orders per day",
        "SELECT order_day, count(*) AS orders, sum(amount) AS revenue FROM sales.orders"
        " GROUP BY order_day ORDER BY order_day",
    ),
    (
        "readings per device and day",
        "SELECT device, reading_day, count(*) AS readings, round(avg(temperature), 1) AS avg_temperature,"
        " max(humidity) AS max_humidity FROM iot.readings GROUP BY device, reading_day ORDER BY device, reading_day",
    ),
    (
        "accounts after the second delivery (upsert on account_id)",
        "SELECT account_id, name, country, balance, status FROM finance.accounts ORDER BY account_id",
    ),
)


@dataclass
class DemoReport:
    runs: List[RunRecord] = field(default_factory=list)
    seconds: float = 0.0
    expected_runs: int = 0

    @property
    def ok(self) -> bool:
        return len(self.runs) == self.expected_runs and all(r.state == "SUCCEEDED" for r in self.runs)

    def summary(self) -> str:
        succeeded = sum(1 for r in self.runs if r.state == "SUCCEEDED")
        failed = sum(1 for r in self.runs if r.state == "FAILED")
        rejecting = sum(1 for r in self.runs if r.state in ("PARTIAL", "REJECTED"))
        read = sum(r.rows_read for r in self.runs)
        written = sum(r.rows_written for r in self.runs)
        quarantined = sum(r.rows_quarantined for r in self.runs)
        duplicates = sum(r.rows_duplicate for r in self.runs)
        verdict = "ok" if self.ok else "NOT OK"
        return (
            f"demo {verdict}: {len(self.runs)} runs ({succeeded} SUCCEEDED, {failed} FAILED"
            + (f", {rejecting} PARTIAL or REJECTED" if rejecting else "")
            + "),"
            f" {read} rows read = {written} written + {quarantined} quarantined + {duplicates} duplicates dropped;"
            f" wall time {self.seconds:.1f} s"
        )


def find_examples(explicit: Optional[Path] = None) -> Path:
    """The examples folder: given, ``$LAKEPORT_EXAMPLES``, or the copy inside the installed package."""
    candidates = [explicit] if explicit else []
    if os.environ.get(EXAMPLES_VARIABLE):
        candidates.append(Path(os.environ[EXAMPLES_VARIABLE]))
    candidates.append(EXAMPLES)
    for candidate in candidates:
        if candidate is not None and (candidate / "contracts").is_dir() and (candidate / "raw").is_dir():
            return candidate
    raise ConfigurationError(
        "the example contracts and files are not here",
        hint=f"reinstall lakeport (the package carries them), or set {EXAMPLES_VARIABLE} to a folder"
        " with contracts/ and raw/ ('lakeport examples <folder>' writes one)",
    )


def apply_examples(
    stack: LocalStack, examples: Path, applied_by: str = "lakeport demo", keep_registered: bool = False
) -> List[Contract]:
    """Apply the example contracts; with ``keep_registered``, a dataset that has a contract already
    keeps it (a restarted stack keeps the versions applied since, rather than going back to the example)."""
    registry = ContractRegistry(stack.aws.client("dynamodb"), stack.resources.datasets_table)
    applied = []
    for path in sorted((examples / "contracts").glob("*.yaml")):
        contract = load_contract_file(path)
        if keep_registered and registry.latest_version(contract.dataset):
            applied.append(registry.get(contract.dataset))
            continue
        result = registry.apply(contract, applied_by=applied_by)
        applied.append(contract.model_copy(update={"version": result.version}))
    return applied


class Demo:
    def __init__(
        self,
        console: Console,
        examples: Path,
        emulator: Optional[EmbeddedAws] = None,
        port: Optional[int] = None,
        started: Optional[float] = None,
    ) -> None:
        self.console = console
        self.examples = examples
        self.emulator = emulator
        self.port = port
        self.started = time.monotonic() if started is None else started

    def say(self, text: str) -> None:
        self.console.print(f"[dim]{time.monotonic() - self.started:5.1f}s[/] {text}", highlight=False)

    def run(self) -> DemoReport:
        report = DemoReport(expected_runs=sum(len(w) for w in (FIRST_WAVE, SECOND_WAVE)))
        stack = LocalStack(emulator=self.emulator, port=self.port, max_concurrent_runs=DEMO_MAX_CONCURRENT_RUNS)
        with stack:
            wire(stack)
            self.say(f"embedded AWS up on {stack.endpoint_url}; resources provisioned as Terraform names them")
            contracts = {c.dataset: c for c in apply_examples(stack, self.examples)}
            self.say("applied " + ", ".join(f"{name} v{c.version}" for name, c in sorted(contracts.items())))
            self._deliver(stack, contracts, FIRST_WAVE, "delivering the on-premise files through S3")
            self._wait(stack)
            self._deliver(stack, contracts, SECOND_WAVE, "second delivery of finance.accounts (upsert)")
            self._wait(stack)
            report.runs = sorted(
                RunLedger(stack.aws.client("dynamodb"), stack.resources.runs_table).list(limit=100),
                key=lambda r: (r.started_at or "", r.run_id),
            )
            self._print_runs(report.runs)
            self._print_quarantine(stack, contracts)
            self._print_queries(stack)
            self._print_snapshots(stack, contracts)
        report.seconds = time.monotonic() - self.started
        return report

    def _deliver(
        self,
        stack: LocalStack,
        contracts: Dict[str, Contract],
        wave: Sequence[Tuple[str, Sequence[str]]],
        what: str,
    ) -> None:
        from .cli.upload import RichUploadProgress, upload_progress

        self.say(what)
        with upload_progress(self.console) as progress:
            uploader = Uploader(stack.aws.client("s3"), progress=RichUploadProgress(progress))
            for dataset, files in wave:
                contract = contracts[dataset]
                uploader.upload(
                    [self.examples / "raw" / name for name in files],
                    stack.resources.raw_bucket,
                    contract.source.prefix,
                    contract=contract,
                    label=dataset,
                )

    def _wait(self, stack: LocalStack) -> None:
        self.say("events: EventBridge → SQS → dispatcher → Step Functions → Glue job; waiting for the runs")
        stack.wait_idle(timeout=WAIT_SECONDS, poll_seconds=0.25)
        self.say("all executions finished")

    def _print_runs(self, runs: Sequence[RunRecord]) -> None:
        print_run_table(self.console, runs, title="runs")

    def _query(self, stack: LocalStack) -> Callable[[str], Any]:
        from .query import LocalQueryEngine

        engine = LocalQueryEngine.for_context(stack.aws)
        return engine.execute

    def _print_quarantine(self, stack: LocalStack, contracts: Dict[str, Contract]) -> None:
        query = self._query(stack)
        sql = " UNION ALL ".join(
            "SELECT * FROM ("
            + QUARANTINE_SAMPLE.format(dataset=name, table=f"{c.database}.{c.quarantine_table}", limit=4)
            + ")"
            for name, c in sorted(contracts.items())
            if name != "finance.accounts"
        )
        self.console.print(arrow_table(query(sql), "a sample of quarantined rows, with the reason"))

    def _print_queries(self, stack: LocalStack) -> None:
        query = self._query(stack)
        for title, sql in QUERIES:
            self.console.print(arrow_table(query(sql), f"{title}\n[dim]{sql}[/]"))

    def _print_snapshots(self, stack: LocalStack, contracts: Dict[str, Contract]) -> None:
        """Each curated table's snapshots: one per run, readable with --as-of until they expire."""
        from .iceberg.reading import history
        from .iceberg.tables import CuratedTables, open_catalog

        tables = CuratedTables(open_catalog(stack.aws), stack.aws.client("glue"))
        table = Table(
            title="the curated Iceberg tables: one snapshot per run\n[dim]lakeport history <dataset>;"
            " lakeport query --as-of <snapshot>;\nlakeport rollback <dataset> --to <snapshot>[/]",
            title_justify="left",
            header_style="bold",
        )
        # ids whole on one line (they are what the commands above take); 'lakeport history' adds the run
        for column in ("dataset", "snapshot", "operation", "+rows", "-rows", "rows"):
            table.add_column(column, justify="right" if column.endswith("rows") else "left", no_wrap=True)
        for name, contract in sorted(contracts.items()):
            if not tables.exists(contract):
                continue
            for info in reversed(history(tables.load(contract))):
                table.add_row(
                    name,
                    ("* " if info.current else "") + str(info.snapshot_id),
                    info.operation,
                    str(info.added_rows),
                    str(info.removed_rows),
                    str(info.total_rows),
                )
        self.console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def arrow_table(result: Any, title: str) -> Table:
    """A rich table of a query answer (a pyarrow table)."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in result.column_names:
        table.add_column(name, overflow="fold")
    for row in result.to_pylist():
        table.add_row(*[_cell(row[name]) for name in result.column_names])
    return table


def run_demo(
    console: Console,
    *,
    examples: Optional[Path] = None,
    emulator: Optional[EmbeddedAws] = None,
    port: Optional[int] = None,
    started: Optional[float] = None,
) -> DemoReport:
    """Run the demo, printing on ``console``; the report says whether every run succeeded.

    ``started`` (a :func:`time.monotonic` reading) is when the wall time starts: the command's start.
    """
    report = Demo(console, find_examples(examples), emulator=emulator, port=port, started=started).run()
    console.print(report.summary(), highlight=False, soft_wrap=True)
    return report


__all__ = ["DemoReport", "apply_examples", "find_examples", "run_demo"]
