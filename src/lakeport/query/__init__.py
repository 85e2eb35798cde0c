"""``lakeport query``: Athena SQL, answered by Athena (on AWS or in the local stack) or by DuckDB in
this process over the catalogued snapshots. The parts load when used: asking Athena needs neither
DuckDB nor pyiceberg."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .athena import AthenaQueryEngine, QueryError

if TYPE_CHECKING:
    from .local import LocalQueryEngine
    from .translate import SqlError, referenced_tables, to_duckdb

_LAZY = {
    "LocalQueryEngine": "local",
    "SqlError": "translate",
    "referenced_tables": "translate",
    "to_duckdb": "translate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AthenaQueryEngine",
    "LocalQueryEngine",
    "QueryError",
    "SqlError",
    "referenced_tables",
    "to_duckdb",
]
