"""Both engines, the same inputs: identical curated rows, quarantined rows and reasons, counts, partitions.

Each case runs the python engine and the Spark engine on the same files (local filesystem roots)
and compares: the outcome of every file (state, rows read/written/quarantined, bytes, reason),
the curated rows of every partition (as sets; run id and ingest time aside), the quarantined rows
with their reasons, the Parquet schemas, and the names of the files written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from lakeport.contract import Contract, load_contract_data, load_contract_file
from lakeport.engine.python.engine import PythonEngine

from .harness import assert_same, run_engine

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def work() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lakeport-parity-") as folder:
        yield folder


@pytest.fixture
def spark_engine(spark: Any) -> Any:
    from lakeport.engine.spark.engine import SparkEngine

    return SparkEngine(spark)


def both(spark_engine: Any, contract: Contract, paths: List[Path], work: str, **kwargs: Any) -> None:
    python = run_engine(PythonEngine(), contract, paths, work, **kwargs)
    spark = run_engine(spark_engine, contract, paths, work, **kwargs)
    assert_same(python, spark)


# -- the example datasets --------------------------------------------------------------------------


def _example_cases() -> List[Any]:
    cases = []
    for contract_file in sorted((EXAMPLES / "contracts").glob("*.yaml")):
        contract = load_contract_file(contract_file)
        folder = EXAMPLES / "raw" / contract.source.prefix
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if files:
            cases.append(pytest.param(contract_file, files, id=contract_file.stem))
    return cases


@pytest.mark.parametrize(("contract_file", "files"), _example_cases())
def test_example_dataset(spark_engine: Any, work: str, contract_file: Path, files: List[Path]) -> None:
    both(spark_engine, load_contract_file(contract_file), files, work)


# -- messy inputs ----------------------------------------------------------------------------------


def contract_of(text: str) -> Contract:
    data: Dict[str, Any] = yaml.safe_load(text)
    data.setdefault("dataset", "parity.messy")
    data.setdefault("owner", "parity@example.com")
    return load_contract_data(data)


def write(folder: str, name: str, body: Any, encoding: str = "utf-8") -> Path:
    path = Path(folder) / "raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body if isinstance(body, bytes) else body.encode(encoding))
    return path
