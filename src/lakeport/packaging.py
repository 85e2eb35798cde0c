"""Build what Terraform uploads: the lakeport wheel and the Lambda deployment zip.

Terraform here has no archive provider, so the build makes both files and Terraform only uploads
them (``terraform/glue_jobs.tf``, ``terraform/orchestration.tf``)::

    python -m lakeport.packaging --out dist      # or: make package

* ``dist/lakeport-<version>-py3-none-any.whl`` — ``pip wheel . --no-deps``; both Glue jobs install
  it with ``--additional-python-modules``.
* ``dist/lakeport-lambda.zip`` — the lakeport package plus the libraries the dispatcher and the
  notifier import, fetched as binary wheels for the Lambda runtime (CPython 3.11, x86_64). boto3
  is already in that runtime and pyarrow is not needed there, so neither is bundled.

The zip is reproducible: entries are sorted and carry a fixed timestamp, so the same inputs give
the same bytes and Terraform does not redeploy an unchanged function.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .errors import ConfigurationError

LAMBDA_ZIP_NAME = "lakeport-lambda.zip"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PYTHON_VERSION = "3.11"
# What the Lambda handlers import besides the standard library and boto3; pip resolves the rest
# (pydantic_core, typing_extensions, annotated_types, typing_inspection).
LAMBDA_REQUIREMENTS = ("pydantic", "PyYAML")
# Versions are taken from this file when it pins them, so the Lambda runs what the tests ran.
PINS_FILE = Path("requirements") / "dev.txt"

_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip entry can carry
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


@dataclass(frozen=True)
class Packages:
    wheel: Path
    lambda_zip: Path


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_requirements(names: Sequence[str], pins_file: Optional[Path]) -> List[str]:
    """``name==version`` for each name pinned in ``pins_file``; the bare name otherwise."""
    pins: Dict[str, str] = {}
    if pins_file is not None and pins_file.is_file():
        for line in pins_file.read_text(encoding="utf-8").splitlines():
            match = _PIN.match(line)
            if match:
                pins[_normalise(match.group(1))] = match.group(2)
    return [f"{name}=={pins[_normalise(name)]}" if _normalise(name) in pins else name for name in names]


def _run_pip(args: Sequence[str], what: str) -> None:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    # A fixed SOURCE_DATE_EPOCH makes the wheel's timestamps, and so its bytes, reproducible.
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", _SOURCE_DATE_EPOCH)}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ConfigurationError(
            f"packaging: {what} failed (pip exit code {result.returncode}):\n{tail}",
            hint="pip needs access to a package index; run 'make package' again once it is reachable",
        )


def build_wheel(root: Path, out: Path) -> Path:
    """Build the lakeport wheel from the project at ``root`` into ``out``; returns its path."""
    if not (root / "pyproject.toml").is_file():
        raise ConfigurationError(
            f"packaging: {root} has no pyproject.toml", hint="pass --root <the lakeport repository>"
        )
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lakeport-wheel-") as scratch:
        _run_pip(["wheel", str(root), "--no-deps", "--wheel-dir", scratch, "--quiet"], "building the wheel")
        wheels = sorted(Path(scratch).glob("lakeport-*.whl"))
        if len(wheels) != 1:
            raise ConfigurationError(f"packaging: expected one lakeport wheel from pip, got {wheels}")
        target = out / wheels[0].name
        shutil.copyfile(wheels[0], target)
    return target


def write_zip(source: Path, target: Path) -> Path:
    """Zip the tree under ``source`` into ``target`` with sorted entries and fixed timestamps."""
    files: List[Path] = []
    for directory, subdirs, names in os.walk(source):
        subdirs[:] = sorted(d for d in subdirs if d not in _SKIPPED_DIRS)
        files.extend(Path(directory) / n for n in names if not n.endswith(_SKIPPED_SUFFIXES))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(files, key=lambda p: p.relative_to(source).as_posix()):
            entry = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=_ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            entry.external_attr = (0o100000 | mode) << 16
            archive.writestr(entry, path.read_bytes())
    partial.replace(target)
    return target


def _forget_installed_file(path: Path) -> None:
    """Delete a file pip installed and its line in the distribution's RECORD."""
    record = path.parent / "RECORD"
    entry = f"{path.parent.name}/{path.name},"
    if record.is_file():
        lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
        record.write_text("".join(line for line in lines if not line.startswith(entry)), encoding="utf-8")
    path.unlink()


def build_lambda_zip(wheel: Path, out: Path, requirements: Sequence[str]) -> Path:
    """The Lambda deployment zip: ``wheel`` (without its dependencies) plus ``requirements``."""
    with tempfile.TemporaryDirectory(prefix="lakeport-lambda-") as scratch:
        site = Path(scratch) / "site"
        _run_pip(
            [
                "install",
                "--quiet",
                "--no-compile",
                "--target",
                str(site),
                "--platform",
                LAMBDA_PLATFORM,
                "--python-version",
                LAMBDA_PYTHON_VERSION,
                "--implementation",
                "cp",
                "--only-binary=:all:",
                *requirements,
            ],
            f"fetching the Lambda dependencies {', '.join(requirements)} for {LAMBDA_PLATFORM}",
        )
        _run_pip(
            ["install", "--quiet", "--no-compile", "--no-deps", "--target", str(site), str(wheel)],
            f"adding {wheel.name} to the Lambda package",
        )
        # Console scripts are useless in Lambda; direct_url.json records this machine's path.
        shutil.rmtree(site / "bin", ignore_errors=True)
        for marker in site.glob("*.dist-info/direct_url.json"):
            _forget_installed_file(marker)
        # RECORD still lists the removed scripts, with hashes that depend on the interpreter's path:
        # drop those lines so the zip is the same whichever Python built it.
        for record in site.glob("*.dist-info/RECORD"):
            lines = record.read_text(encoding="utf-8").splitlines(keepends=True)
            record.write_text("".join(line for line in lines if not line.startswith("../../bin/")), encoding="utf-8")
        return write_zip(site, out / LAMBDA_ZIP_NAME)


def package(root: Path, out: Path) -> Packages:
    """Build the wheel and the Lambda zip of the project at ``root`` into ``out``."""
    wheel = build_wheel(root, out)
    requirements = pinned_requirements(LAMBDA_REQUIREMENTS, root / PINS_FILE)
    return Packages(wheel=wheel, lambda_zip=build_lambda_zip(wheel, out, requirements))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakeport.packaging",
        description="Build the lakeport wheel and the Lambda package that Terraform uploads.",
    )
    parser.add_argument("--out", default="dist", help="output directory (default: dist)")
    parser.add_argument("--root", default=".", help="the lakeport repository (default: .)")
    args = parser.parse_args(argv)
    try:
        built = package(Path(args.root).resolve(), Path(args.out).resolve())
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 1
    for path in (built.wheel, built.lambda_zip):
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
