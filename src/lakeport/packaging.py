"""Build what Terraform uploads: the lakeport wheel, its dependencies for Glue, the Lambda zip.

Terraform here has no archive provider, so the build makes the files and Terraform only uploads
them (``terraform/glue_jobs.tf``, ``terraform/orchestration.tf``)::

    python -m lakeport.packaging --out dist      # or: make package

* ``dist/lakeport-<version>-py3-none-any.whl`` — ``pip wheel . --no-deps``; both Glue jobs install
  it with ``--additional-python-modules``.
* ``dist/glue/<runtime>/*.whl`` — every library the wheel needs, as binary wheels for that Glue
  runtime (Python shell 3.9, Spark on Glue 5.0 with Python 3.11), so a job installs lakeport with
  ``pip --no-index`` from the artifacts bucket and never reaches a package index: the private
  network has no route to one, and a job start should not depend on one anyway. numpy is left to
  the runtime: both ship it, and their own libraries (pandas, pyspark) were built against it.
* ``dist/lakeport-lambda.zip`` — the lakeport package plus the libraries the dispatcher and the
  notifier import, fetched as binary wheels for the Lambda runtime (CPython 3.11, x86_64). boto3
  is already in that runtime and pyarrow is not needed there, so neither is bundled.

Nothing is resolved at build time: each set is exactly its lock (``requirements/glue-python-shell.lock``,
``glue-spark.lock``, ``lambda.lock``, see :mod:`lakeport.locks`), fetched with ``--require-hashes``,
so two builds a month apart ship the same bytes. The wheel is built without build isolation, by the
setuptools that ``requirements/dev.lock`` pins. The zip is reproducible too: entries are sorted and
carry a fixed timestamp, so Terraform does not redeploy an unchanged function.
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
from typing import Dict, List, Optional, Sequence, Tuple

from .errors import ConfigurationError
from .locks import REQUIREMENTS

LAMBDA_ZIP_NAME = "lakeport-lambda.zip"
LAMBDA_PLATFORM = "manylinux2014_x86_64"
LAMBDA_PYTHON_VERSION = "3.11"
# What the Lambda handlers import besides the standard library and boto3 (requirements/lambda.in),
# at dev.lock's versions, with what they pull in (pydantic_core, typing_extensions, ...).
LAMBDA_LOCK = REQUIREMENTS / "lambda.lock"

GLUE_WHEELHOUSE = "glue"


@dataclass(frozen=True)
class GlueRuntime:
    """A Glue runtime a job runs on: where its wheels go, what they are built for, which lock applies."""

    name: str
    python_version: str
    platforms: Tuple[str, ...]
    lock: Path


GLUE_RUNTIMES = (
    # The Python-shell host is older than Glue 5.0's: only manylinux2014 (glibc 2.17) wheels are safe.
    # Its lock takes the versions the Python 3.9 engine tests run with.
    GlueRuntime("python-shell", "3.9", ("manylinux2014_x86_64",), REQUIREMENTS / "glue-python-shell.lock"),
    # Glue 5.0 runs Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels install there. Its numpy is
    # 1.26, and pyarrow 26 refuses to import beside a numpy older than 2.0 (requirements/glue-spark.in).
    GlueRuntime("spark", "3.11", ("manylinux2014_x86_64", "manylinux_2_28_x86_64"), REQUIREMENTS / "glue-spark.lock"),
)

_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip entry can carry
_SKIPPED_DIRS = frozenset({"__pycache__"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class Packages:
    wheel: Path
    lambda_zip: Path
    # runtime name -> the dependency wheels a job on that runtime installs with lakeport's wheel
    glue_wheels: Dict[str, List[Path]]


def _run_pip(args: Sequence[str], what: str, python: Optional[str] = None) -> None:
    command = [python or sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
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
        # no build isolation: the build backend is the locked one in this environment, not the newest
        _run_pip(
            ["wheel", str(root), "--no-deps", "--no-build-isolation", "--wheel-dir", scratch, "--quiet"],
            "building the wheel",
        )
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


def _locked(lock: Path) -> List[str]:
    """pip arguments that install exactly ``lock``: every package pinned and hash-checked, nothing resolved."""
    if not lock.is_file():
        raise ConfigurationError(f"packaging: {lock} is missing", hint="run 'make lock' in the lakeport repository")
    return ["--no-deps", "--require-hashes", "--requirement", str(lock)]


def build_lambda_zip(wheel: Path, out: Path, lock: Path) -> Path:
    """The Lambda deployment zip: ``wheel`` (without its dependencies) plus what ``lock`` pins."""
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
                *_locked(lock),
            ],
            f"fetching the Lambda dependencies of {lock.name} for {LAMBDA_PLATFORM}",
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


_REQUIRES_DIST = re.compile(r"^Requires-Dist:\s*(.+?)\s*$")


def runtime_requirements(wheel: Path) -> List[str]:
    """What the wheel's METADATA says it needs at run time (``Requires-Dist`` without an extra)."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode("utf-8")
    found = []
    for line in text.splitlines():
        match = _REQUIRES_DIST.match(line)
        if match and "extra ==" not in match.group(1):
            found.append(match.group(1))
    return found


def find_python(version: str) -> str:
    """An interpreter of ``version`` ("3.9"): this one, ``$PYTHON39``, ``python3.9`` on PATH, or pyenv's.

    pip evaluates environment markers (``urllib3<1.27; python_version < "3.10"``) against the
    interpreter it runs on, whatever ``--python-version`` says, so a runtime's dependencies are
    resolved by an interpreter of that runtime's version.
    """
    if "{}.{}".format(*sys.version_info[:2]) == version:
        return sys.executable
    candidates = [os.environ.get("PYTHON" + version.replace(".", ""), ""), shutil.which(f"python{version}") or ""]
    candidates += sorted(str(p) for p in (Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}"))
    for candidate in filter(None, candidates):
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys, pip; print('{}.{}'.format(*sys.version_info[:2]))"],
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError:  # not there, or not a program
            continue
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    variable = "PYTHON" + version.replace(".", "")
    raise ConfigurationError(
        f"packaging: no Python {version} with pip found; it resolves the Glue jobs' dependencies for Python {version}",
        hint=f"install Python {version}, or set {variable}=/path/to/python{version}",
    )


def build_glue_wheels(out: Path, runtime: GlueRuntime, lock: Path) -> List[Path]:
    """Fetch, into ``out/glue/<runtime>``, the binary wheels ``lock`` pins for ``runtime``.

    The directory is emptied first: two versions of one library side by side would make pip refuse
    the set. The lock was resolved for the runtime's Python and platform and leaves out what the
    runtime provides (numpy), so nothing is resolved here: each wheel is fetched and hash-checked.
    """
    target = out / GLUE_WHEELHOUSE / runtime.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    platforms = [arg for platform in runtime.platforms for arg in ("--platform", platform)]
    _run_pip(
        [
            "download",
            "--quiet",
            "--dest",
            str(target),
            "--only-binary=:all:",
            *platforms,
            "--python-version",
            runtime.python_version,
            "--implementation",
            "cp",
            *_locked(lock),
        ],
        f"fetching lakeport's dependencies for the Glue {runtime.name} runtime (Python {runtime.python_version})",
    )
    return sorted(target.glob("*.whl"))


def package(root: Path, out: Path) -> Packages:
    """Build the wheel, the Glue dependency wheels and the Lambda zip of the project at ``root`` into ``out``."""
    wheel = build_wheel(root, out)
    glue_wheels = {rt.name: build_glue_wheels(out, rt, root / rt.lock) for rt in GLUE_RUNTIMES}
    return Packages(wheel=wheel, lambda_zip=build_lambda_zip(wheel, out, root / LAMBDA_LOCK), glue_wheels=glue_wheels)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lakeport.packaging",
        description="Build the lakeport wheel, its Glue dependency wheels and the Lambda package Terraform uploads.",
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
    for runtime, wheels in built.glue_wheels.items():
        size = sum(w.stat().st_size for w in wheels)
        print(f"{Path(args.out).resolve() / GLUE_WHEELHOUSE / runtime}/ ({len(wheels)} wheels, {size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
