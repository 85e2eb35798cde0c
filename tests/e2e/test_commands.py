"""The commands a person starts by hand: ``lakeport demo`` and ``lakeport local up`` with the AWS CLI as the client."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Sequence

import pytest
from typer.testing import CliRunner

from lakeport.cli.local import READY
from lakeport.cli.main import app
from lakeport.local.emulator import free_port

from .flow import EXAMPLES

ROOT = Path(__file__).resolve().parents[2]


def test_lakeport_demo_runs_the_whole_pipeline_and_exits_0(emulator, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    emulator.reset()  # the demo's emulator shares this process's AWS state: start it empty
    monkeypatch.setenv("MOTO_PORT", str(emulator.port))  # restored when the test ends
    monkeypatch.setenv("COLUMNS", "200")

    result = CliRunner().invoke(app, ["demo"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    summary = result.output.strip().splitlines()[-1]
    assert re.fullmatch(
        r"demo ok: 4 runs \(4 SUCCEEDED, 0 FAILED\), 271 rows read = 256 written \+ 14 quarantined"
        r" \+ 1 duplicates dropped; wall time \d+\.\d s",
        summary,
    ), summary
    assert "'LOST' is not one of NEW, PAID, SHIPPED, CANCELLED" in result.output  # the quarantine sample
    assert "Zürich Uhren" in result.output and "5100.00" in result.output  # the upserted accounts
    snapshots = result.output.split("one snapshot per run", 1)[1]
    assert snapshots.count("sales.orders") == 1 and snapshots.count("finance.accounts") == 2
    assert "overwrite" in snapshots  # the second accounts run upserted


def aws_cli() -> str:
    """The AWS CLI (v1): ``$LAKEPORT_AWS_CLI`` (make test sets it), the repository's own, or on the PATH."""
    for candidate in (
        os.environ.get("LAKEPORT_AWS_CLI"),
        str(ROOT / ".venv-awscli" / "bin" / "aws"),
        shutil.which("aws"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    raise AssertionError("the AWS CLI is needed for this test: 'make awscli' installs it in .venv-awscli")


class Server:
    """``lakeport local up`` in a subprocess; its stdout read line by line on a thread."""

    def __init__(self, port: int, environment: Dict[str, str], cwd: Path, args: Sequence[str] = ()) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: List[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lakeport.cli", "local", "up", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            cwd=cwd,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, "".join(self.output)
                continue
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout} s:\n{''.join(self.output)}")

    def kill(self) -> None:
        """``kill -9``: nothing is flushed, closed or said."""
        self.process.kill()
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def clean_environment() -> Dict[str, str]:
    """This environment without anything that points at AWS or lakeport: as a new shell has it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAKEPORT_", "MOTO_"))}
    environment.update(PYTHONUNBUFFERED="1", COLUMNS="250")
    return environment


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    # started in a folder of its own: the stack keeps its state in .lakeport/ there, as for a user
    running = Server(free_port(), clean_environment(), cwd=tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _printed_environment(output: List[str]) -> Dict[str, str]:
    found = {}
    for line in output:
        match = re.match(r"\s*export (\w+)=(\S+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def test_local_up_ingests_a_file_the_aws_cli_copies_into_the_raw_bucket(server: Server, tmp_path: Path) -> None:
    server.wait_for(READY, timeout=90)
    environment = {**os.environ, **_printed_environment(server.output), "COLUMNS": "250"}
    assert environment["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    raw = next(line.split()[-1] for line in server.output if line.startswith("raw bucket:"))
    source = tmp_path / "orders-2024-01-02.csv"
    source.write_bytes((EXAMPLES / "raw" / "sales" / "orders" / source.name).read_bytes())

    copied = subprocess.run(
        [
            aws_cli(),
            "--endpoint-url",
            environment["AWS_ENDPOINT_URL"],
            "s3",
            "cp",
            str(source),
            f"s3://{raw}/sales/orders/",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert copied.returncode == 0, copied.stderr
    server.wait_for("SUCCEEDED", timeout=60)

    def lakeport(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "lakeport.cli", *args], env=environment, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    [run] = json.loads(lakeport("runs", "sales.orders", "--output", "json"))
    assert (run["state"], run["files"], run["read"], run["written"], run["quarantined"]) == ("SUCCEEDED", 1, 12, 7, 5)
    answer = lakeport("query", "SELECT count(*) AS n, sum(amount) AS total FROM sales.orders", "--output", "csv")
    assert answer.splitlines() == ["n,total", "7,2007.49"]

    # the on-premise side: a delivery with a marker, then the same command again (nothing to send)
    accounts = str(EXAMPLES / "raw" / "finance" / "accounts" / "accounts-2024-04-01.csv")
    delivered = lakeport("upload", "--dataset", "finance.accounts", accounts)
    assert "uploaded 1 object(s)" in delivered and "skipped 0" in delivered
    assert re.search(r"delivery \w+ complete: s3://\S+/finance/accounts/delivery=\w+/\.lakeport-complete", delivered)
    server.wait_for("of finance.accounts: SUCCEEDED", timeout=60)
    again = lakeport("upload", "--dataset", "finance.accounts", accounts)
    assert "uploaded 0 object(s)" in again and "skipped 1 already there with the same checksum" in again
    assert "(the delivery was already complete)" in again

    assert server.stop() == 0
    assert "stopped" in "".join(server.output)
