"""The build artifacts Terraform uploads: a reproducible Lambda zip and the pinned dependencies."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from lakeport.packaging import LAMBDA_ZIP_NAME, package, pinned_requirements, write_zip


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


def test_lambda_dependencies_take_the_versions_the_tests_use(tmp_path: Path) -> None:
    pins = tmp_path / "dev.txt"
    pins.write_text("# pins\npydantic==2.13.4\nPyYAML==6.0.3  # yaml\nboto3>=1.34\n", encoding="utf-8")
    assert pinned_requirements(["pydantic", "pyyaml", "boto3"], pins) == [
        "pydantic==2.13.4",
        "pyyaml==6.0.3",
        "boto3",
    ]
    assert pinned_requirements(["pydantic"], tmp_path / "missing.txt") == ["pydantic"]


@pytest.mark.slow
def test_package_builds_the_wheel_and_a_lambda_zip_for_the_lambda_runtime(tmp_path: Path) -> None:
    """Needs a package index (pip fetches the Lambda dependencies for manylinux x86_64)."""
    root = Path(__file__).resolve().parents[2]
    built = package(root, tmp_path)
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
