"""Fixtures of the infrastructure checks: the tools, and one initialised copy of terraform/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from iac import INSTALL_TERRAFORM, copy_terraform, init_failure, load_terraform, terraform_init, tool


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    found = shutil.which("terraform")
    if not found:
        pytest.fail(f"terraform is not installed: {INSTALL_TERRAFORM}")
    return found


@pytest.fixture(scope="session")
def checkov_bin() -> str:
    """``$CHECKOV`` (set by 'make test' to the tools venv), else checkov on PATH; never skipped."""
    configured = os.environ.get("CHECKOV")
    if configured:
        if not os.access(configured, os.X_OK):
            pytest.fail(f"CHECKOV={configured} is not an executable: run 'make tools'")
        return configured
    found = shutil.which("checkov")
    if not found:
        pytest.fail("checkov not found: run 'make tools' and set CHECKOV=.venv-tools/bin/checkov, or use 'make test'")
    return found


@pytest.fixture(scope="session")
def cfn_lint_bin() -> str:
    found = tool("cfn-lint")
    if not found:
        pytest.fail("cfn-lint not found: it is in requirements/dev.lock")
    return found


@pytest.fixture(scope="session")
def terraform_config() -> dict[str, dict[str, Any]]:
    return load_terraform()


@pytest.fixture(scope="session")
def terraform_workdir(terraform_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of terraform/ after 'terraform init -backend=false' (the repository stays clean)."""
    workdir = copy_terraform(tmp_path_factory.mktemp("terraform") / "terraform")
    result = terraform_init(terraform_bin, workdir)
    if result.returncode != 0:
        pytest.fail(init_failure(result))
    try:
        yield workdir
    finally:
        # The provider binary is large; do not leave copies behind in the temporary directories.
        shutil.rmtree(workdir / ".terraform", ignore_errors=True)
