from __future__ import annotations

from typing import Optional

import pytest

from .lake import Lake


@pytest.fixture
def lake(aws):  # type: ignore[no-untyped-def]
    return Lake(aws)


@pytest.fixture
def cli(lake, emulator, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("COLUMNS", "250")
    from typer.testing import CliRunner  # the CLI is not installed beside the Python 3.9 engine tests

    from lakeport.cli.main import app

    runner = CliRunner()

    def run(*args: str, ok: bool = True, status: Optional[int] = None) -> str:
        """The command's output (stdout, then stderr); it must exit 0 (``ok``), non-zero, or ``status``."""
        result = runner.invoke(app, list(args), catch_exceptions=False)
        output = result.stdout + (result.stderr if result.stderr_bytes is not None else "")
        if status is not None:
            assert result.exit_code == status, output
        else:
            assert (result.exit_code == 0) == ok, output
        return output

    return run
