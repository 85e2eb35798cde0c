"""Install lakeport the way a user does and prove the ranges in pyproject.toml at both ends.

The main suite runs on requirements/dev.lock: versions we chose. A user's ``pip install`` takes the
newest versions pyproject.toml admits, and an old environment may hold the oldest. This makes a
fresh virtual environment for each end, installs the package into it (not editable, from a built
wheel), runs ``lakeport demo`` from an empty folder and the functional tests against that install:

* newest: ``pip install ".[cli,local,spark]"`` with no constraints at all;
* lowest: requirements/lowest.lock (``make lock`` resolves it with uv's ``lowest-direct``).

When a tier fails, it names the range to fix: the direct dependencies whose versions differ from
dev.lock's, and, when the demo failed, which one of them breaks it (each is put back to dev.lock's
version in turn until the demo passes). Run it with ``make test-ranges``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from lakeport.locks import declared_dependencies, normalise, read_pins  # noqa: E402

EXTRAS = "cli,local,spark"
# the functional tests that cross the most library boundaries: the SDK against the emulator's
# patches, the CLI, the query engine, ingest end to end through the Iceberg commit, the local
# stack's state machine, the contracts, and the Spark engine
SUBSET = (
    "tests/functional/test_local_patches.py",
    "tests/functional/test_cli.py",
    "tests/functional/test_query.py",
    "tests/functional/test_ingest.py",
    "tests/functional/test_local_stack.py",
    "tests/unit/test_contract_errors.py",
    "tests/unit/test_contract_compat.py",
    "tests/unit/test_derived_columns.py",
    "tests/parity/test_spark_ingest.py",
)
# what the tests need beside the package, at dev.lock's versions
TEST_TOOLS = ("pytest", "hypothesis")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9_.\-]*)")
T = TypeVar("T")


class TierFailed(Exception):
    def __init__(self, step: str, output: str) -> None:
        super().__init__(step)
        self.step = step
        self.output = output


def _run(command: Sequence[str], step: str, cwd: Optional[Path] = None, env: Optional[Dict[str, str]] = None) -> str:
    result = subprocess.run(list(command), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TierFailed(step, (result.stdout + result.stderr).strip())
    return result.stdout


def direct_dependencies() -> List[str]:
    names = []
    for requirements in declared_dependencies(ROOT).values():
        for requirement in requirements:
            match = _NAME.match(requirement)
            if match and normalise(match.group(1)) not in names:
                names.append(normalise(match.group(1)))
    return names


def installed(python: Path) -> Dict[str, str]:
    frozen = _run([str(python), "-m", "pip", "list", "--format=freeze"], "pip list")
    return {normalise(n): v for n, _, v in (line.partition("==") for line in frozen.splitlines()) if v}


def differences(python: Path) -> List[Tuple[str, str, str]]:
    """(name, installed, dev.lock's) for each direct dependency whose version is not dev.lock's."""
    locked = read_pins(ROOT / "requirements" / "dev.lock")
    have = installed(python)
    names = [n for n in direct_dependencies() if n in have and n in locked]
    return [(n, have[n], locked[n]) for n in names if have[n] != locked[n]]


class Tier:
    def __init__(self, name: str, work: Path) -> None:
        self.name = name
        self.venv = work / name
        self.python = self.venv / "bin" / "python"
        self.times: Dict[str, float] = {}

    def pip(self, *args: str, step: str, cwd: Optional[Path] = None) -> None:
        command = [str(self.python), "-m", "pip", "--disable-pip-version-check", "install", "--quiet", *args]
        _run(command, step, cwd=cwd)

    def install(self, wheel: Path) -> None:
        shutil.rmtree(self.venv, ignore_errors=True)
        _run([sys.executable, "-m", "venv", str(self.venv)], "creating the venv")
        if self.name == "newest":
            # exactly what a user types in a clone: the newest of everything, no lock, no constraints
            self.pip(f".[{EXTRAS}]", step=f'pip install ".[{EXTRAS}]"', cwd=ROOT)
        else:
            lowest = str(ROOT / "requirements" / "lowest.lock")
            self.pip("--require-hashes", "-r", lowest, step="installing lowest.lock")
            self.pip("--no-deps", str(wheel), step="installing the wheel")
        locked = read_pins(ROOT / "requirements" / "dev.lock")
        self.pip(*(f"{t}=={locked[t]}" for t in TEST_TOOLS), step="installing the test tools")

    def demo(self) -> str:
        with tempfile.TemporaryDirectory(prefix="lakeport-demo-") as empty:
            out = _run([str(self.venv / "bin" / "lakeport"), "demo"], "lakeport demo", cwd=Path(empty))
        return out.strip().splitlines()[-1]

    def tests(self) -> str:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        probe = [str(self.python), "-c", "import lakeport; print(lakeport.__file__)"]
        where = _run(probe, "importing lakeport", env=env)
        if not where.strip().startswith(str(self.venv)):
            raise TierFailed("importing lakeport", f"the tests would import {where.strip()}, not the installed package")
        command = [str(self.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUBSET]
        out = _run(command, "the functional tests", cwd=ROOT, env=env)
        return out.strip().splitlines()[-1]

    def timed(self, step: str, action: Callable[[], T]) -> T:
        started = time.monotonic()
        try:
            return action()
        finally:
            self.times[step] = time.monotonic() - started


def culprit(tier: Tier, changed: List[Tuple[str, str, str]]) -> Optional[str]:
    """Put each changed dependency back to dev.lock's version in turn until the demo passes."""
    for name, have, locked in changed:
        try:
            tier.pip(f"{name}=={locked}", step=f"putting {name} back to {locked}")
            tier.demo()
        except TierFailed:
            continue
        return f"{name} {have} breaks it ({locked}, dev.lock's, passes)"
    return None


def say(line: str) -> None:
    print(line, file=sys.stderr)


def report_failure(tier: Tier, failure: TierFailed) -> None:
    end = "newest" if tier.name == "newest" else "oldest"
    say(f"\nFAILED: the {tier.name} tier, at {failure.step}")
    say("\n".join(failure.output.splitlines()[-25:]))
    if not tier.python.is_file():
        return
    changed = differences(tier.python)
    say(f"\nIt installs the {end} versions pyproject.toml admits. These of lakeport's direct")
    say("dependencies differ from requirements/dev.lock, which the main suite passes with:")
    for name, have, locked in changed:
        say(f"  {name:<12} {have:<14} (dev.lock: {locked})")
    found = culprit(tier, changed) if failure.step == "lakeport demo" and changed else None
    fix = "cap its range below that version" if tier.name == "newest" else "raise its floor to a version that works"
    if found:
        say(f"\nThe demo passes again once one is put back: {found}.")
        say(f"Fix the range in pyproject.toml: {fix}; then 'make lock'.")
    else:
        say(f"\nFix the range in pyproject.toml of the one that breaks ({fix}), then 'make lock'.")
        say(f"To find it, put one back at a time: {tier.python.parent / 'pip'} install '<name>==<dev.lock's>'")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tiers", nargs="*", metavar="newest|lowest", help="the tiers to run (default: both)")
    parser.add_argument("--work", default=str(ROOT / "build" / "ranges"), help="where the venvs go")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.tiers) - {"newest", "lowest"})
    if unknown:
        parser.error(f"no tier {', '.join(unknown)}: the tiers are newest and lowest")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lakeport-wheel-") as scratch:
        build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", scratch]
        _run([*build, str(ROOT)], "building the wheel")
        [wheel] = Path(scratch).glob("lakeport-*.whl")
        kept = work / wheel.name
        shutil.copyfile(wheel, kept)
    failed = False
    for name in args.tiers or ["newest", "lowest"]:
        tier = Tier(name, work)
        try:
            tier.timed("install", lambda tier=tier: tier.install(kept))  # type: ignore[misc]
            demo = tier.timed("demo", tier.demo)
            tests = tier.timed("tests", tier.tests)
        except TierFailed as failure:
            report_failure(tier, failure)
            failed = True
            continue
        versions = ", ".join(f"{n} {v}" for n, v, _ in differences(tier.python)) or "dev.lock's versions"
        times = ", ".join(f"{step} {seconds:.0f} s" for step, seconds in tier.times.items())
        print(f"{name}: {demo}")
        print(f"{name}: tests {tests}")
        print(f"{name}: {times}; differs from dev.lock in {versions}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
