"""Athena queries answered by the embedded emulator, as on AWS: ``StartQueryExecution`` runs the SQL.

moto records a query and answers it with no rows. Here a query started in any workgroup runs on a
worker thread with :class:`lakeport.query.LocalQueryEngine` (Athena SQL translated to DuckDB, over the
snapshot of each Iceberg table the catalog points at), against the emulator itself; its state moves
``QUEUED`` -> ``RUNNING`` -> ``SUCCEEDED`` or ``FAILED`` (with Athena's ``StateChangeReason`` and
``AthenaError``), and ``GetQueryResults`` pages through the answer as Athena does: text values, a
header row first, the column types in ``ResultSetMetadata``, at most 1,000 rows a page.

So ``lakeport query``, the AWS CLI (``aws athena start-query-execution``) and any SDK ask the local
stack the way they ask AWS, and the process that asks needs none of the query engine's imports: the
stack has them loaded already.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

_log = logging.getLogger(__name__)

ENGINE_VERSION = "lakeport local (DuckDB)"
"""The ``EngineVersion`` the emulator reports for the queries it ran; clients check it to know the
answer is real (a bare moto answers every query with no rows)."""

MAX_PAGE = 1000
"""Athena's largest ``GetQueryResults`` page."""

KEEP_EXECUTIONS = 200
"""Finished queries whose answers stay in memory; older answers are dropped (their state is kept)."""

QueryEngineFactory = Callable[[str], Any]
"""``factory(region) -> engine``; the engine has ``execute(sql, database=None) -> pyarrow.Table``."""


@dataclass
class LocalExecution:
    """One query the emulator runs."""

    sql: str
    region: str
    database: Optional[str] = None
    state: str = "QUEUED"
    reason: Optional[str] = None
    error_category: Optional[int] = None
    submitted: float = field(default_factory=time.time)
    completed: Optional[float] = None
    engine_ms: int = 0
    column_info: List[Dict[str, Any]] = field(default_factory=list)
    rows: List[Dict[str, Any]] = field(default_factory=list)


def athena_type(type_: Any) -> Tuple[str, int, int]:
    """The Athena (Trino) type name, precision and scale of an Arrow type."""
    import pyarrow as pa

    if pa.types.is_boolean(type_):
        return "boolean", 0, 0
    for check, name, digits in (
        (pa.types.is_int8, "tinyint", 3),
        (pa.types.is_int16, "smallint", 5),
        (pa.types.is_int32, "integer", 10),
        (pa.types.is_int64, "bigint", 19),
        (pa.types.is_uint8, "smallint", 5),
        (pa.types.is_uint16, "integer", 10),
        (pa.types.is_uint32, "bigint", 19),
        (pa.types.is_uint64, "decimal", 20),
        (pa.types.is_float32, "real", 24),
        (pa.types.is_float64, "double", 53),
    ):
        if check(type_):
            return name, digits, 0
    if pa.types.is_decimal(type_):
        return "decimal", type_.precision, type_.scale
    if pa.types.is_date(type_):
        return "date", 0, 0
    if pa.types.is_timestamp(type_):
        return ("timestamp with time zone" if type_.tz else "timestamp"), 3, 0
    if pa.types.is_time(type_):
        return "time", 3, 0
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_) or pa.types.is_fixed_size_binary(type_):
        return "varbinary", 0, 0
    if pa.types.is_list(type_) or pa.types.is_large_list(type_) or pa.types.is_fixed_size_list(type_):
        return "array", 0, 0
    if pa.types.is_map(type_):
        return "map", 0, 0
    if pa.types.is_struct(type_):
        return "row", 0, 0
    return "varchar", 2147483647, 0


def athena_text(value: Any) -> Optional[str]:
    """A value as Athena writes it in ``GetQueryResults`` (``None`` for null: no ``VarCharValue``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
        if value.tzinfo is not None:
            offset = value.utcoffset()
            text += " UTC" if not offset else value.strftime(" %z")
        return text
    if isinstance(value, (date, Decimal, int, float)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={athena_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(item, tuple) and len(item) == 2 for item in value):  # a map
            return "{" + ", ".join(f"{athena_text(k)}={athena_text(v)}" for k, v in value) + "}"
        return "[" + ", ".join(str(athena_text(item)) for item in value) + "]"
    return str(value)


def result_set(table: Any) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """``(column_info, rows)`` of an Arrow table in Athena's shape; the first row is the header."""
    column_info = []
    for column in table.schema:
        name, precision, scale = athena_type(column.type)
        column_info.append(
            {
                "CatalogName": "hive",
                "SchemaName": "",
                "TableName": "",
                "Name": column.name,
                "Label": column.name,
                "Type": name,
                "Precision": precision,
                "Scale": scale,
                "Nullable": "UNKNOWN",
                "CaseSensitive": name == "varchar",
            }
        )
    rows = [{"Data": [{"VarCharValue": column.name} for column in table.schema]}]
    for record in table.to_pylist():
        cells = []
        for value in record.values():
            text = athena_text(value)
            cells.append({} if text is None else {"VarCharValue": text})
        rows.append({"Data": cells})
    return column_info, rows


class LocalAthena:
    """The queries of one emulator process: started on worker threads, kept by execution id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # one per running emulator (by endpoint); moto's backends are the process's, so the newest
        # running one answers for all
        self._factories: Dict[str, QueryEngineFactory] = {}
        self._engines: Dict[str, Any] = {}
        self._executions: Dict[str, LocalExecution] = {}
        self._finished: List[str] = []

    def serve(self, name: str, factory: QueryEngineFactory) -> None:
        """Answer queries with the engines ``factory`` makes (one per region) while ``name`` (an
        emulator's endpoint) is served."""
        with self._lock:
            self._factories.pop(name, None)
            self._factories[name] = factory
            self._engines = {}

    def withdraw(self, name: str) -> None:
        """``name`` stopped; with no emulator served, moto's own empty answers come back."""
        with self._lock:
            if self._factories.pop(name, None) is not None:
                self._engines = {}

    @property
    def serving(self) -> bool:
        return bool(self._factories)

    def _engine(self, region: str) -> Any:
        with self._lock:
            if not self._factories:
                raise RuntimeError("the emulator answers no Athena queries")
            if region not in self._engines:
                factory = list(self._factories.values())[-1]
                self._engines[region] = factory(region)
            return self._engines[region]

    def warm(self, region: str) -> None:
        """Make the region's engine and load what a query loads, on a background thread, so the
        first query after a start is as quick as the next ones."""

        def load() -> None:
            try:
                self._engine(region)
                import duckdb  # noqa: F401

                from ..iceberg import reading  # noqa: F401
                from ..query import translate

                translate.table_references("SELECT 1")
            except Exception as exc:  # the first query will say what is wrong
                _log.debug("warming the local Athena engine failed: %s", exc)

        if self.serving:
            threading.Thread(target=load, name="athena-warm", daemon=True).start()

    def start(self, execution_id: str, sql: str, region: str, database: Optional[str] = None) -> bool:
        """Run ``sql`` for the execution moto recorded (unqualified tables in ``database``, as the
        query's ``QueryExecutionContext`` says); False when no engine is being served."""
        if not self.serving:
            return False
        execution = LocalExecution(sql=sql, region=region, database=database)
        with self._lock:
            self._executions[execution_id] = execution
        worker = threading.Thread(
            target=self._run, args=(execution_id, execution), name=f"athena-{execution_id[:8]}", daemon=True
        )
        worker.start()
        return True

    def get(self, execution_id: str) -> Optional[LocalExecution]:
        with self._lock:
            return self._executions.get(execution_id)

    def cancel(self, execution_id: str) -> bool:
        execution = self.get(execution_id)
        if execution is None:
            return False
        with self._lock:
            if execution.state in ("QUEUED", "RUNNING"):
                execution.state = "CANCELLED"
                execution.reason = "Query cancelled by user"
                execution.completed = time.time()
        return True

    def _run(self, execution_id: str, execution: LocalExecution) -> None:
        from ..errors import LakeportError

        execution.state = "RUNNING"
        started = time.perf_counter()
        try:
            table = self._engine(execution.region).execute(execution.sql, database=execution.database)
            column_info, rows = result_set(table)
            outcome: Tuple[str, Optional[str], Optional[int]] = ("SUCCEEDED", None, None)
        except LakeportError as exc:
            column_info, rows = [], []
            reason = exc.message if not exc.hint else f"{exc.message}\nhint: {exc.hint}"
            outcome = ("FAILED", reason, 2 if not exc.transient else 1)  # 2: the user's query, 1: the system
        except Exception as exc:  # the engine's own fault: shown as Athena shows an internal error
            _log.warning("local Athena query failed: %s: %s", type(exc).__name__, exc, exc_info=True)
            column_info, rows = [], []
            outcome = ("FAILED", f"{type(exc).__name__}: {exc}", 1)
        with self._lock:
            if execution.state != "CANCELLED":
                execution.state, execution.reason, execution.error_category = outcome
                execution.column_info, execution.rows = column_info, rows
            execution.completed = time.time()
            execution.engine_ms = int((time.perf_counter() - started) * 1000)
            self._finished.append(execution_id)
            self._forget_old()

    def _forget_old(self) -> None:
        while len(self._finished) > KEEP_EXECUTIONS:
            old = self._executions.get(self._finished.pop(0))
            if old is not None:
                old.rows = []

    def query_execution(self, execution_id: str, answer: Dict[str, Any]) -> Dict[str, Any]:
        """moto's ``GetQueryExecution`` answer with this execution's state, reason, times and engine."""
        execution = self.get(execution_id)
        if execution is None:
            return answer
        described = answer.setdefault("QueryExecution", {})
        status: Dict[str, Any] = {"State": execution.state, "SubmissionDateTime": execution.submitted}
        if execution.completed is not None:
            status["CompletionDateTime"] = execution.completed
        if execution.reason:
            status["StateChangeReason"] = execution.reason
        if execution.error_category is not None:
            status["AthenaError"] = {
                "ErrorCategory": execution.error_category,
                "Retryable": execution.error_category == 1,
                "ErrorMessage": execution.reason,
            }
        described["Status"] = status
        described["EngineVersion"] = {
            "SelectedEngineVersion": "Athena engine version 3",
            "EffectiveEngineVersion": ENGINE_VERSION,
        }
        statistics = described.setdefault("Statistics", {})
        statistics["EngineExecutionTimeInMillis"] = execution.engine_ms
        statistics["TotalExecutionTimeInMillis"] = execution.engine_ms
        return answer

    def results_page(self, execution_id: str, max_results: Optional[int], token: Optional[str]) -> Dict[str, Any]:
        """One ``GetQueryResults`` page, or an :class:`InvalidRequest` saying why there is none."""
        execution = self.get(execution_id)
        if execution is None:
            raise InvalidRequest(f"QueryExecution {execution_id} was not found")
        if execution.state != "SUCCEEDED":
            if execution.state in ("QUEUED", "RUNNING"):
                raise InvalidRequest(f"Query has not yet finished. Current state: {execution.state}")
            raise InvalidRequest(
                f"Query did not finish successfully. Final query state: {execution.state}\n{execution.reason or ''}"
            )
        size = min(max_results or MAX_PAGE, MAX_PAGE)
        offset = 0
        if token:
            prefix, _, number = token.partition(":")
            if prefix != execution_id or not number.isdigit():
                raise InvalidRequest("the NextToken does not belong to this query")
            offset = int(number)
        page: Dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": execution.rows[offset : offset + size],
                "ResultSetMetadata": {"ColumnInfo": execution.column_info},
            },
        }
        if offset + size < len(execution.rows):
            page["NextToken"] = f"{execution_id}:{offset + size}"
        return page


class InvalidRequest(Exception):
    """Athena's ``InvalidRequestException`` for a results request that has no answer."""


queries = LocalAthena()
"""The emulator's queries (one per process, like moto's backends)."""


def engine_factory(endpoint_url: str) -> QueryEngineFactory:
    """Engines that read the catalog and files of the emulator at ``endpoint_url`` (its default
    credentials, the asking request's region)."""

    def make(region: str) -> Any:
        import boto3

        from ..aws import AwsContext
        from ..query import LocalQueryEngine
        from .emulator import LOCAL_CREDENTIALS

        session = boto3.Session(
            aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
            region_name=region,
        )
        return LocalQueryEngine.for_context(AwsContext(session=session, endpoint_url=endpoint_url))

    return make


__all__ = [
    "ENGINE_VERSION",
    "MAX_PAGE",
    "InvalidRequest",
    "LocalAthena",
    "LocalExecution",
    "athena_text",
    "athena_type",
    "engine_factory",
    "queries",
    "result_set",
]
