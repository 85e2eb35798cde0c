"""The build artifacts Terraform uploads: a reproducible Lambda zip and the pinned dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest

from lakeport.locks import declared_dependencies, read_pins
from lakeport.packaging import (
    GLUE_RUNTIMES,
    LAMBDA_LOCK,
    LAMBDA_ZIP_NAME,
    Packages,
    find_python,
    package,
    runtime_requirements,
    write_zip,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Packages:
    """What 'make package' builds. Needs a package index (pip fetches wheels for the target runtimes)."""
    return package(ROOT, tmp_path_factory.mktemp("dist"))


def test_zip_is_byte_identical_for_the_same_files(tmp_path: Path) -> None:
    source = tmp_path / "site"
    (source / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "pkg" / "b.py").write_text("B = 2\n")
    (source / "pkg" / "a.py").write_text("A = 1\n")
    (source / "pkg" / "a.pyc").write_bytes(b"compiled")
    (source / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    first = write_zip(source, tmp_path / "one.zip").read_bytes()
    for path in (source / "pkg").glob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = write_zip(source, tmp_path / "two.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["pkg/a.py", "pkg/b.py"]


def test_packaging_without_the_runtime_python_says_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from lakeport.errors import ConfigurationError

    assert find_python("{}.{}".format(*sys.version_info[:2])) == sys.executable
    monkeypatch.setenv("HOME", str(tmp_path))  # no pyenv there
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.6 on it
    monkeypatch.setenv("PYTHON36", str(tmp_path / "missing" / "python3.6"))
    with pytest.raises(ConfigurationError) as raised:
        find_python("3.6")
    assert "no Python 3.6 with pip found" in str(raised.value)
    assert "set PYTHON36=/path/to/python3.6" in raised.value.hint


@pytest.mark.slow
def test_package_builds_the_wheel_and_a_lambda_zip_for_the_lambda_runtime(built: Packages) -> None:
    assert built.wheel.name.startswith("lakeport-")
    assert built.wheel.suffix == ".whl"
    assert built.lambda_zip.name == LAMBDA_ZIP_NAME
    with zipfile.ZipFile(built.lambda_zip) as archive:
        names = archive.namelist()
    top = {n.split("/")[0] for n in names}
    assert {"lakeport", "pydantic", "pydantic_core", "yaml", "annotated_types", "typing_inspection"} <= top
    assert "typing_extensions.py" in top
    assert not {"boto3", "botocore", "pyarrow"} & top
    assert any(n.startswith("pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu") for n in names)
    assert not any("__pycache__" in n or n.endswith("direct_url.json") for n in names)


@pytest.mark.slow
def test_glue_wheels_are_built_for_each_runtime_and_leave_numpy_to_it(built: Packages) -> None:
    from packaging.requirements import Requirement

    declared = {str(Requirement(r)) for r in declared_dependencies(ROOT)[""]}
    assert {str(Requirement(r)) for r in runtime_requirements(built.wheel)} == declared
    names = {runtime: {w.name.split("-")[0].lower() for w in wheels} for runtime, wheels in built.glue_wheels.items()}
    for runtime in ("python-shell", "spark"):
        assert {"boto3", "botocore", "pyarrow", "pyiceberg", "pydantic", "pydantic_core", "pyyaml"} <= names[runtime]
        assert "numpy" not in names[runtime]
    [shell_arrow] = [w.name for w in built.glue_wheels["python-shell"] if w.name.startswith("pyarrow-")]
    [spark_arrow] = [w.name for w in built.glue_wheels["spark"] if w.name.startswith("pyarrow-")]
    # the Python-shell host takes manylinux2014 (glibc 2.17) wheels only
    assert "-cp39-cp39-" in shell_arrow and "manylinux2014_x86_64" in shell_arrow
    assert "-cp311-cp311-" in spark_arrow
    # the newest pyiceberg for Python 3.9 is 0.10, the one its tests run with
    [shell_iceberg] = [w.name for w in built.glue_wheels["python-shell"] if w.name.startswith("pyiceberg-")]
    assert shell_iceberg.startswith("pyiceberg-0.10.0-")
    # botocore on Python 3.9 needs urllib3 1.x: resolved on 3.9 itself, not on the builder's Python
    [urllib3] = [w.name for w in built.glue_wheels["python-shell"] if w.name.startswith("urllib3-")]
    assert urllib3.startswith("urllib3-1.")


# numpy as the runtime brings it: the oldest lakeport accepts on the Python shell, Glue 5.0's on Spark
RUNTIME_NUMPY = {"python-shell": "numpy==1.22.4", "spark": "numpy==1.26.4"}
# the job's entry point imports, and a value goes through the engine's conversion into a Parquet
# file and back (a file, not an in-memory buffer: pyarrow may abort at exit after reading a buffer,
# apache/arrow#33975; the job reads files)
SMOKE = """
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
import lakeport.jobs.entry
import lakeport.iceberg.commit, pyiceberg.catalog.glue, pyiceberg.io.pyarrow
from lakeport.contract import Column
from lakeport.engine.python.convert import convert_text
out = convert_text(pa.array(["12.50", "1e3", None], pa.string()), Column(name="c", type="decimal(5,2)"))
pq.write_table(pa.table({"c": out.values}), sys.argv[1])
back = pq.read_table(sys.argv[1]).column("c").to_pylist()
print(json.dumps({"values": [None if v is None else str(v) for v in back], "reasons": out.reason.to_pylist()}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("runtime", [r.name for r in GLUE_RUNTIMES])
def test_a_glue_job_installs_lakeport_from_the_built_wheels_alone(
    built: Packages, runtime: str, tmp_path: Path
) -> None:
    """What the job does at start (pip --no-index over the uploaded wheels), on that runtime's Python."""
    [spec] = [r for r in GLUE_RUNTIMES if r.name == runtime]
    python = find_python(spec.python_version)
    env_dir = tmp_path / "job"
    subprocess.run([python, "-m", "venv", str(env_dir)], check=True)
    job_python = str(env_dir / "bin" / "python")

    def pip(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [job_python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", *args],
            capture_output=True,
            text=True,
            check=False,
        )

    assert pip(RUNTIME_NUMPY[runtime]).returncode == 0
    wheels = [str(w) for w in built.glue_wheels[runtime]]
    installed = pip("--no-index", str(built.wheel), *wheels)
    assert installed.returncode == 0, installed.stderr

    smoke = subprocess.run(
        [job_python, "-c", SMOKE, str(tmp_path / "c.parquet")], capture_output=True, text=True, check=False
    )
    assert smoke.returncode == 0, smoke.stderr
    result = json.loads(smoke.stdout)
    assert result["values"] == ["12.50", None, None]
    assert result["reasons"][0] is None and "'1e3' is not a decimal(5,2)" in result["reasons"][1]


def _wheel_pins(wheels: list) -> dict:
    """name -> version of each wheel file, normalised as in a lock."""
    pins = {}
    for wheel in wheels:
        name, version = Path(wheel).name.split("-")[:2]
        pins[name.lower().replace("_", "-")] = version
    return pins


@pytest.mark.slow
def test_what_is_packaged_is_exactly_what_the_locks_pin(built: Packages) -> None:
    """Nothing is resolved at build time: two builds a month apart ship the same versions."""
    for runtime in GLUE_RUNTIMES:
        assert _wheel_pins(built.glue_wheels[runtime.name]) == read_pins(ROOT / runtime.lock), runtime.name
    with zipfile.ZipFile(built.lambda_zip) as archive:
        infos = {n.split("/")[0] for n in archive.namelist() if n.split("/")[0].endswith(".dist-info")}
    shipped = {}
    for info in infos:
        name, version = info[: -len(".dist-info")].rsplit("-", 1)
        shipped[name.lower().replace("_", "-")] = version
    assert shipped.pop("lakeport") == built.wheel.name.split("-")[1]
    assert shipped == read_pins(ROOT / LAMBDA_LOCK)
