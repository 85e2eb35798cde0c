"""Reading the infrastructure code for the infra tests: Terraform HCL, the CloudFormation template,
the tools that check them, and the IAM policy rule every policy must follow."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
CFN_TEMPLATE = REPO_ROOT / "CFN" / "seed.yaml"

# Allow statements may not use wildcard actions on these services (nor "*" or "<service>:*").
DATA_SERVICES = frozenset({"s3", "dynamodb", "glue", "kms"})
# Attributes that hold an IAM policy document, in any resource.
POLICY_ATTRIBUTES = frozenset({"policy", "assume_role_policy", "policy_document"})
_POLICY_DOCUMENT_REF = re.compile(r"^\$\{data\.aws_iam_policy_document\.[a-z0-9_]+(\[[^\]]+\])?\.json\}$")


# --- tools -----------------------------------------------------------------------------------


def run(command: list[str], cwd: Path, env: Optional[dict[str, str]] = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )


def tool(name: str) -> Optional[str]:
    """``name`` next to the running Python (the project venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


INSTALL_TERRAFORM = (
    "install terraform >= 1.5 (a single binary from releases.hashicorp.com/terraform) and put it on PATH"
)
INSTALL_PROVIDER = (
    "install the hashicorp/aws provider (>= 5.0) into a local plugin directory laid out as"
    " registry.terraform.io/hashicorp/aws/<version>/linux_amd64/terraform-provider-aws_v<version>_x5"
    " and set TF_PLUGIN_DIR to the directory that holds registry.terraform.io/ (or give terraform"
    " access to the registry)"
)
_COPY_IGNORED = (".terraform", ".terraform.lock.hcl", "terraform.tfstate*", "backend.tf", "tfplan")


def find_plugin_dir(max_depth: int = 4) -> Optional[Path]:
    """A local provider directory holding hashicorp/aws, for ``terraform init -plugin-dir``.

    ``TF_PLUGIN_DIR`` wins; otherwise the file system is searched, a few levels deep, for a
    ``registry.terraform.io/hashicorp/aws`` tree. ``None`` means: let terraform find the provider
    itself (its implied mirror directories, or the registry).
    """
    configured = os.environ.get("TF_PLUGIN_DIR")
    if configured:
        return Path(configured)
    skipped = {"proc", "sys", "dev", "run", "tmp", "var", "boot", "snap", "lost+found"}
    level = [Path("/")]
    for depth in range(max_depth):
        following: list[Path] = []
        for directory in level:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    continue
                if depth == 0 and entry.name in skipped:
                    continue
                if entry.name == "registry.terraform.io":
                    if any((Path(entry.path) / "hashicorp" / "aws").glob("*/*/terraform-provider-aws*")):
                        return Path(entry.path).parent
                    continue
                following.append(Path(entry.path))
        level = following
    return None


def copy_terraform(target: Path, source: Path = TERRAFORM_DIR) -> Path:
    """A copy of terraform/ without local state, lock file, backend or plan (the repository stays clean)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*_COPY_IGNORED))
    return target


def terraform_init(terraform_bin: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    """``terraform init -backend=false`` in ``workdir``, with the local plugin directory when there is one."""
    command = [terraform_bin, "init", "-backend=false", "-input=false", "-no-color"]
    plugin_dir = find_plugin_dir()
    if plugin_dir is not None:
        command.append(f"-plugin-dir={plugin_dir}")
    return run(command, cwd=workdir, env={"TF_IN_AUTOMATION": "1"})


def init_failure(result: subprocess.CompletedProcess[str]) -> str:
    """What to say when ``terraform init`` failed."""
    return f"terraform init failed; {INSTALL_PROVIDER}.\n{result.stdout}\n{result.stderr}"


# --- Terraform HCL ---------------------------------------------------------------------------


def load_terraform(directory: Path = TERRAFORM_DIR) -> dict[str, dict[str, Any]]:
    """Every ``*.tf`` file of ``directory``, parsed: file name -> HCL as Python values.

    Literal strings come back without quotes; expressions as ``${...}``.
    """
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)
    parsed: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            parsed[path.name] = hcl2.load(handle, serialization_options=options)
    return parsed


def blocks(config: dict[str, dict[str, Any]], kind: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(file, type, name, body) of every ``resource`` or ``data`` block."""
    for file_name, document in config.items():
        for entry in document.get(kind, []):
            for block_type, named in entry.items():
                for name, body in named.items():
                    yield file_name, block_type, name, body


def merged(config: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    """All ``locals`` (or ``output``/``variable`` blocks) of the module in one mapping."""
    result: dict[str, Any] = {}
    for document in config.values():
        for entry in document.get(kind, []):
            result.update(entry)
    return result


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from document.get("statement", [])
    for dynamic in document.get("dynamic", []):
        yield from dynamic.get("statement", {}).get("content", [])


def _attributes(body: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(body, dict):
        for key, value in body.items():
            where = f"{path}.{key}" if path else key
            yield where, value
            yield from _attributes(value, where)
    elif isinstance(body, list):
        for index, item in enumerate(body):
            yield from _attributes(item, f"{path}[{index}]")


def wildcard_problem(action: str) -> Optional[str]:
    """Why ``action`` is too broad for an Allow statement, or ``None``."""
    if "${" in action:
        return "is an expression; write actions as literals so they can be checked"
    if action.strip() == "*":
        return "allows every action"
    service, _, name = action.partition(":")
    if name == "*":
        return f"allows every {service} action"
    if service.lower() in DATA_SERVICES and "*" in name:
        return f"is a wildcard on {service}; list the actions"
    return None


def policy_problems(config: dict[str, dict[str, Any]]) -> list[str]:
    """Every IAM policy in the module that is not written as a checkable document, or that
    allows a wildcard action."""
    problems: list[str] = []
    for file_name, block_type, name, body in blocks(config, "resource"):
        for where, value in _attributes(body):
            attribute = where.split(".")[-1].split("[")[0]
            if not isinstance(value, str) or attribute not in POLICY_ATTRIBUTES:
                continue
            if not _POLICY_DOCUMENT_REF.match(value):
                problems.append(
                    f"{file_name}: {block_type}.{name}.{where} is not an aws_iam_policy_document (got {value[:60]!r})"
                )
    for file_name, block_type, name, body in blocks(config, "data"):
        if block_type != "aws_iam_policy_document":
            continue
        for statement in _statements(body):
            sid = statement.get("sid", "<no sid>")
            effect = statement.get("effect", "Allow")
            if effect == "Deny":
                continue
            if statement.get("not_actions"):
                problems.append(f"{file_name}: {name}/{sid}: not_actions in an Allow statement")
            for action in statement.get("actions", []):
                why = wildcard_problem(action)
                if why:
                    problems.append(f"{file_name}: {name}/{sid}: {action!r} {why}")
    return problems


# --- CloudFormation --------------------------------------------------------------------------


def load_cfn(path: Path = CFN_TEMPLATE) -> dict[str, Any]:
    from cfnlint.decode import decode

    template, matches = decode(str(path))
    if template is None:
        raise AssertionError(f"{path} does not parse: {matches}")
    return dict(template)


def cfn_policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, document) of every policy document in the template."""
    for logical_id, resource in template.get("Resources", {}).items():
        for where, value in _attributes(resource.get("Properties", {})):
            if isinstance(value, dict) and "Statement" in value:
                yield f"{logical_id}.{where}", value


def cfn_policy_problems(template: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for where, document in cfn_policy_documents(template):
        statements = document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") == "Deny":
                continue
            sid = statement.get("Sid", "<no sid>")
            if "NotAction" in statement:
                problems.append(f"{where}/{sid}: NotAction in an Allow statement")
            actions = statement.get("Action", [])
            for action in [actions] if isinstance(actions, str) else actions:
                why = wildcard_problem(action) if isinstance(action, str) else "is not a literal"
                if why:
                    problems.append(f"{where}/{sid}: {action!r} {why}")
    return problems
