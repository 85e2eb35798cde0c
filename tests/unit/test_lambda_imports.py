"""The Lambda handlers import with only what the Lambda package carries (no pyarrow, numpy, …)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# What `make package` leaves out of the Lambda zip (see lakeport.packaging): the engines' libraries.
NOT_IN_LAMBDA = ("pyarrow", "numpy", "duckdb", "polars", "pandas", "pyspark", "typer", "rich", "sqlglot", "moto")


@pytest.mark.parametrize("module", ["lakeport.orchestration.dispatcher", "lakeport.orchestration.notifier"])
def test_handler_imports_without_the_engine_libraries(module: str) -> None:
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {NOT_IN_LAMBDA!r}:
                    raise ImportError(name + " is not in the Lambda package")
        sys.meta_path.insert(0, Block())
        handler = importlib.import_module({module!r}).handler
        assert callable(handler)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
