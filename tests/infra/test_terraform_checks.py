"""terraform fmt and validate on the root module (the same checks the build runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from iac import TERRAFORM_DIR, run

pytestmark = pytest.mark.terraform


def test_terraform_files_are_formatted(terraform_bin: str) -> None:
    result = run([terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color"], cwd=TERRAFORM_DIR)
    assert result.returncode == 0, f"run 'terraform fmt -recursive' in terraform/:\n{result.stdout}{result.stderr}"


def test_terraform_configuration_is_valid(terraform_bin: str, terraform_workdir: Path) -> None:
    result = run([terraform_bin, "validate", "-json", "-no-color"], cwd=terraform_workdir)
    report = json.loads(result.stdout)
    diagnostics = [
        f"{d['severity']}: {d['summary']}: {d.get('detail', '')} "
        f"({d.get('range', {}).get('filename', '?')}:{d.get('range', {}).get('start', {}).get('line', '?')})"
        for d in report["diagnostics"]
    ]
    assert report["valid"], "\n".join(diagnostics)
    assert diagnostics == [], "terraform validate warns:\n" + "\n".join(diagnostics)
