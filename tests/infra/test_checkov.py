"""checkov on terraform/ and CFN/: no failed check, and every suppression carries its reason.

checkov lives in its own environment ('make tools'); 'make test' passes its path in CHECKOV.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest
from iac import REPO_ROOT, run

UNEXPLAINED = {"", "No comment provided"}


def scan(checkov: str, directory: Path, framework: str) -> dict[str, Any]:
    result = run(
        [
            checkov,
            "--directory",
            str(directory),
            "--framework",
            framework,
            "--skip-download",
            "--output",
            "json",
        ],
        cwd=REPO_ROOT,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"checkov produced no JSON report (exit {result.returncode}):\n{result.stderr[-3000:]}")
    if isinstance(report, list):
        [report] = [r for r in report if r.get("check_type") == framework]
    return dict(report)


def failures(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]


def unexplained_skips(report: dict[str, Any]) -> list[str]:
    return [
        f"{c['check_id']} {c['resource']}"
        for c in report["results"]["skipped_checks"]
        if (c["check_result"].get("suppress_comment") or "").strip() in UNEXPLAINED
    ]


@pytest.mark.parametrize(("directory", "framework"), [("terraform", "terraform"), ("CFN", "cloudformation")])
def test_checkov_finds_nothing_unsuppressed(
    checkov_bin: str, directory: str, framework: str, record_property: Callable[[str, object], None]
) -> None:
    report = scan(checkov_bin, REPO_ROOT / directory, framework)
    summary = report["summary"]
    record_property(f"checkov_{framework}", {k: summary[k] for k in ("passed", "failed", "skipped")})
    assert summary["parsing_errors"] == 0, f"checkov could not parse {directory}/"
    assert summary["passed"] > 0, f"checkov found nothing to check in {directory}/"
    assert failures(report) == [], "fix these or suppress them with a written reason"
    assert unexplained_skips(report) == [], "every suppression needs its reason next to it"
