"""The lock files: one per environment, current against pyproject.toml, true to its ranges."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from lakeport.locks import LOCKS, declared_dependencies, input_digest, normalise, read_pins, stale_locks

ROOT = Path(__file__).resolve().parents[2]


def test_no_lock_is_stale() -> None:
    """Fails when pyproject.toml or a requirements/*.in changed and 'make lock' was not run."""
    assert stale_locks(ROOT) == []


def test_every_lock_has_a_hash_for_every_package() -> None:
    for lock in LOCKS:
        text = (ROOT / lock.path).read_text(encoding="utf-8")
        entries = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
        assert entries, lock.name
        for entry in entries:
            assert "==" in entry.split()[0] and "--hash=sha256:" in entry, (lock.name, entry.splitlines()[0])


@pytest.mark.parametrize("lock", [lock for lock in LOCKS if lock.project], ids=lambda lock: lock.name)
def test_each_lock_pins_versions_inside_the_declared_ranges(lock) -> None:  # type: ignore[no-untyped-def]
    pins = read_pins(ROOT / lock.path)
    declared = declared_dependencies(ROOT)
    environment = {
        **default_environment(),
        "python_version": lock.python_version,
        "python_full_version": f"{lock.python_version}.0",
    }
    checked = 0
    for group in ("", *lock.extras):
        for text in declared[group]:
            requirement = Requirement(text)
            if requirement.marker is not None and not requirement.marker.evaluate(environment):
                continue
            name = normalise(requirement.name)
            if name in lock.no_emit:
                continue
            assert name in pins, f"{lock.path} has no {name}"
            assert requirement.specifier.contains(pins[name], prereleases=True), (lock.name, text, pins[name])
            checked += 1
    assert checked >= 5  # boto3, pyarrow, pyiceberg, pydantic, PyYAML at least


def test_a_changed_range_makes_its_locks_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "requirements", tmp_path / "requirements")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    assert stale_locks(tmp_path) == []
    widened = text.replace('"boto3>=1.34.92,<=1.44.13"', '"boto3>=1.34.92"')
    assert widened != text
    (tmp_path / "pyproject.toml").write_text(widened, encoding="utf-8")
    stale = stale_locks(tmp_path)
    # the locks that take the 'local' extra, and none that do not
    assert sorted(s.split()[0] for s in stale) == ["requirements/dev.lock", "requirements/lowest.lock"]
    assert "pyproject.toml" in stale[0]
    assert input_digest(tmp_path, LOCKS[0]) != input_digest(ROOT, LOCKS[0])


def test_the_embedded_stack_admits_no_sdk_its_emulator_cannot_serve() -> None:
    """botocore 1.44.18 sends Athena requests moto 5.2.5's server answers with 404."""
    local = [Requirement(r) for r in declared_dependencies(ROOT)["local"]]
    sdk = {normalise(r.name): r.specifier for r in local if normalise(r.name) in ("boto3", "botocore")}
    assert set(sdk) == {"boto3", "botocore"}
    for specifier in sdk.values():
        assert not specifier.contains("1.44.18") and specifier.contains("1.44.13") and specifier.contains("1.44.8")


def test_the_makefile_installs_from_locks_only() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line.strip() for line in makefile.splitlines() if "pip install" in line]
    assert installs
    for line in installs:
        assert "--require-hashes -r requirements/" in line or "--no-deps" in line, line
