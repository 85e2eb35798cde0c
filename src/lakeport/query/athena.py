"""Athena SQL answered by Athena: on AWS, or by the local stack, whose Athena runs the queries it is given.

This module needs only the SDK (no pyarrow, DuckDB or pyiceberg), so a command that asks Athena
starts quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional

from ..errors import ConfigurationError, TerminalError


class QueryError(TerminalError):
    """The SQL cannot be run: a syntax error, an unknown table or column, a type error."""


NUMERIC_TYPES = ("tinyint", "smallint", "integer", "int", "bigint", "real", "float", "double", "decimal")


def _timestamp(text: str) -> datetime:
    if text.endswith(" UTC"):
        return datetime.fromisoformat(text[:-4]).replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(text)


_READERS: Dict[str, Callable[[str], Any]] = {
    "boolean": lambda text: {"true": True, "false": False}[text],
    **{name: int for name in ("tinyint", "smallint", "integer", "int", "bigint")},
    **{name: float for name in ("real", "float", "double")},
    "decimal": Decimal,
    "date": date.fromisoformat,
    "timestamp": _timestamp,
    "timestamp with time zone": _timestamp,
}


def athena_values(texts: List[Optional[str]], type_name: str) -> List[Any]:
    """Athena's text values of one result column as Python values of its type (``ColumnInfo.Type``);
    if one value does not read as that type (a format this reader does not know), the column stays
    text. Nested types stay text."""
    reader = _READERS.get(type_name.lower())
    if reader is None:
        return list(texts)
    try:
        return [None if text is None else reader(text) for text in texts]
    except (ValueError, KeyError, ArithmeticError):
        return list(texts)


@dataclass
class QueryAnswer:
    """An answer as Athena gives it: the columns, their Athena types, the rows as Python values."""

    columns: List[str]
    types: List[str]
    rows: List[List[Any]]

    @property
    def numeric(self) -> List[str]:
        return [name for name, type_ in zip(self.columns, self.types) if type_.lower() in NUMERIC_TYPES]

    def to_arrow(self) -> Any:
        import pyarrow as pa

        known = {
            "boolean": pa.bool_(),
            "tinyint": pa.int8(),
            "smallint": pa.int16(),
            "integer": pa.int32(),
            "int": pa.int32(),
            "bigint": pa.int64(),
            "real": pa.float32(),
            "float": pa.float32(),
            "double": pa.float64(),
            "date": pa.date32(),
            "timestamp": pa.timestamp("ms"),
            "timestamp with time zone": pa.timestamp("ms", tz="UTC"),
        }
        arrays = []
        for i, type_name in enumerate(self.types):
            values = [row[i] for row in self.rows]
            try:  # a column athena_values left as text is not of its type: inferred, it is text
                arrays.append(pa.array(values, known.get(type_name.lower())))
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arrays.append(pa.array([None if v is None else str(v) for v in values], pa.string()))
        return pa.Table.from_arrays(arrays, names=self.columns)


class AthenaQueryEngine:
    """Runs the SQL in the deployment's Athena workgroup: on AWS, or in the local stack, whose
    Athena runs queries (:mod:`lakeport.local.athena`); ``local=True`` refuses an answer from an
    emulator that only records queries."""

    def __init__(
        self,
        athena_client: Any,
        workgroup: str,
        poll_seconds: float = 0.5,
        timeout_seconds: float = 900,
        local: bool = False,
    ) -> None:
        self.athena = athena_client
        self.workgroup = workgroup
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.local = local

    def _wait(self, query_id: str) -> Dict[str, Any]:
        import time

        deadline = time.monotonic() + self.timeout_seconds
        # small queries finish in well under a second: look soon, then less and less often
        pause = min(0.02, self.poll_seconds)
        while True:
            described: Dict[str, Any] = self.athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            state = described["Status"]["State"]
            if state not in ("QUEUED", "RUNNING"):
                return described
            if time.monotonic() > deadline:
                raise ConfigurationError(f"Athena query {query_id} did not finish in {self.timeout_seconds:.0f} s")
            time.sleep(pause)
            pause = min(pause * 1.5, self.poll_seconds)  # at most a third of the wait is spent late

    def execute(self, sql: str) -> Any:
        """The answer as a ``pyarrow.Table``."""
        return self.answer(sql).to_arrow()

    def answer(self, sql: str) -> QueryAnswer:
        """The answer as Python values (no pyarrow: the command line prints it as it comes)."""
        started = self.athena.start_query_execution(QueryString=sql, WorkGroup=self.workgroup)
        query_id = started["QueryExecutionId"]
        described = self._wait(query_id)
        status = described["Status"]
        if self.local and "lakeport" not in str(described.get("EngineVersion", {}).get("EffectiveEngineVersion")):
            raise ConfigurationError(
                "the endpoint's Athena records queries but does not run them (it is not a lakeport local stack)",
                hint="start one with 'lakeport local up', or query in this process with --engine local",
            )
        if status["State"] != "SUCCEEDED":
            reason, _, hint = str(status.get("StateChangeReason", "")).partition("\nhint: ")
            where = "the local stack" if self.local else f"Athena (query {query_id})"
            raise QueryError(
                f"the query {status['State'].lower()} in {where}: {reason}".rstrip(": "), hint=hint or None
            )
        columns: Optional[List[Dict[str, Any]]] = None
        rows: List[List[Optional[str]]] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
            result = page["ResultSet"]
            if columns is None:
                columns = list(result["ResultSetMetadata"]["ColumnInfo"])
                data = result["Rows"][1:]  # the first row repeats the header
            else:
                data = result["Rows"]
            rows.extend([[d.get("VarCharValue") for d in row["Data"]] for row in data])
        columns = columns or []
        types = [str(column.get("Type", "varchar")) for column in columns]
        values = [athena_values([r[i] for r in rows], type_) for i, type_ in enumerate(types)]
        return QueryAnswer([column["Name"] for column in columns], types, [list(row) for row in zip(*values)])
