"""CFN/seed.yaml: cfn-lint clean, scoped IAM, and wired to a buildspec that exists."""

from __future__ import annotations

import yaml
from iac import CFN_TEMPLATE, REPO_ROOT, cfn_policy_problems, load_cfn, run


def test_cfn_lint_passes(cfn_lint_bin: str) -> None:
    result = run([cfn_lint_bin, str(CFN_TEMPLATE)], cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_creates_a_codebuild_project_and_outputs_it() -> None:
    template = load_cfn()
    projects = [r for r in template["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    assert len(projects) == 1
    environment = projects[0]["Properties"]["Environment"]
    assert environment["Image"] == "aws/codebuild/standard:7.0"
    names = {v["Name"] for v in environment["EnvironmentVariables"]}
    assert {"TF_STATE_BUCKET", "TF_LOCK_TABLE", "TARGET_ENVIRONMENT"} <= names
    assert {"ProjectName", "ProjectArn"} <= set(template["Outputs"])


def test_buildspec_exists_and_runs_tests_package_and_terraform() -> None:
    [project] = [r for r in load_cfn()["Resources"].values() if r["Type"] == "AWS::CodeBuild::Project"]
    buildspec_path = REPO_ROOT / project["Properties"]["Source"]["BuildSpec"]
    assert buildspec_path.is_file()
    buildspec = yaml.safe_load(buildspec_path.read_text(encoding="utf-8"))
    commands = [c for phase in buildspec["phases"].values() for c in phase.get("commands", [])]
    assert "make test" in commands
    assert "make package" in commands
    assert commands.index("make test") < commands.index("make package")
    scripts = {c.split()[0] for c in commands if c.startswith("CFN/")}
    for script in scripts:
        assert (REPO_ROOT / script).is_file(), script


def test_template_policies_have_no_wildcard_actions_on_data_services() -> None:
    assert cfn_policy_problems(load_cfn()) == []
