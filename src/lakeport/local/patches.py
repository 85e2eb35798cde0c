"""Fixes and additions to the pinned moto version, applied in-process before the server starts.

Each fix first checks that the code it changes still looks the way it did in the pinned version
(the method is defined on that very class — ``cls.__dict__``, not inherited — and its source still
has the lines the fix is about). If not, :class:`MotoPatchError` says which fix no longer applies, so
an upgrade of moto fails loudly instead of silently running without the fix.

The fixes:

* ``sync-callback-guard`` — ``.sync`` tasks of services without ``.waitForTaskToken`` support (Glue)
  have no callback endpoint, and moto calls ``interrupt_all()`` on ``None``: every such step failed
  with ``States.Runtime``. Those tasks now run the sync pattern without a callback endpoint.
* ``glue-sync-json-output`` — the Glue ``.sync`` result carried ``datetime`` objects, which made
  ``DescribeExecution`` answer HTTP 500. Timestamps become epoch milliseconds.
* ``sfn-apis`` — ``ValidateStateMachineDefinition`` (moto's ASL parser plus ``statelint``, answered in
  the AWS shape) and ``ListStateMachineVersions``; Terraform's ``aws_sfn_state_machine`` calls both.
* ``lambda-in-process`` — ``Invoke`` runs the handler registered with
  :func:`lakeport.local.lambdas.register_lambda` instead of starting a Docker container.
* ``glue-job-run-details`` — ``GetJobRun`` shows ``ErrorMessage`` and a real ``ExecutionTime``.
* ``sfn-string-matches`` — the ``StringMatches`` choice operator used ``fnmatch``, where ``[...]`` and
  ``?`` are wildcards; on AWS only ``*`` is (``\\*`` is a literal asterisk). ``*[transient]*`` matched
  almost any text.
* ``s3-eventbridge-key-encoding`` — S3 writes object keys into its events form-encoded (``a b+c.csv``
  becomes ``a+b%2Bc.csv``; ``/`` stays); moto did so for SQS/SNS/Lambda notifications but put the raw
  key into EventBridge events, so a consumer decoding with ``unquote_plus`` (as it must on AWS) turned
  a ``+`` in a key into a space.
* ``sfn-unnamed-execution`` — ``StartExecution`` without a name made the execution ARN end in
  ``:None``, so a second unnamed execution failed with ``ExecutionAlreadyExists``. AWS generates a
  UUID name; so does the emulator now.
* ``dynamodb-atomic-writes`` — moto's server answers requests on many threads and checks a write's
  condition and applies it without a lock, so two concurrent conditional writes to one item could
  both succeed. On AWS a conditional write is atomic; the emulator now applies DynamoDB writes one at
  a time (the claim and lock races of the test suite depend on it).
* ``s3-listing-during-deletes`` — a bucket's listings took a copy of its keys, then looked each one
  up again in the live bucket; a key deleted in between (``terraform destroy`` deletes objects ten
  at a time) came back as ``None`` and ``ListObjectVersions`` answered HTTP 500. Listings now read
  the copy they took.
* ``glue-update-table-version`` — ``UpdateTable`` ignored ``VersionId``: of two writers that read the
  table at one version, both updates were applied and the first was lost. On AWS the update fails
  with ``ConcurrentModificationException`` unless the table is still at that version; Iceberg's
  optimistic commit (pyiceberg's Glue catalog) depends on it. The check and the update now happen
  together, one update at a time.
* ``sync-poll-interval`` — the interpreter looks at a ``.sync`` task's job every 0.5 s, so a local
  run ended up to half a second after its job; it looks every 0.1 s now (an in-process lookup). On
  AWS the service's own latency applies.
* ``athena-queries`` — moto records an Athena query and answers it with no rows. The query now runs
  (:mod:`lakeport.local.athena`: DuckDB over the catalogued tables, on a worker thread) and
  ``GetQueryExecution`` / ``GetQueryResults`` answer with its state, reason and rows, paged as on AWS.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import threading
from typing import Any, Callable, Dict, List, Mapping, Tuple

from lakeport.errors import ConfigurationError

PINNED_MOTO = "5.2.5"


class MotoPatchError(ConfigurationError):
    """A fix no longer matches the moto code it was written for."""


_applied: List[str] = []
_lock = threading.Lock()


# --- guards -----------------------------------------------------------------------------------


def _fail(fix: str, what: str) -> MotoPatchError:
    import moto

    return MotoPatchError(
        f"moto fix '{fix}' does not apply to moto {moto.__version__}: {what}",
        hint=f"lakeport.local.patches was written for moto {PINNED_MOTO}; pin that version or "
        "re-check the fix against the new moto code",
    )


def _own(fix: str, cls: type, name: str) -> Any:
    """``cls.__dict__[name]``: the attribute must be defined on this class itself, not inherited."""
    if name not in cls.__dict__:
        raise _fail(fix, f"{cls.__module__}.{cls.__qualname__} no longer defines {name}")
    return cls.__dict__[name]


def _not_own(fix: str, cls: type, name: str, why: str) -> None:
    if name in cls.__dict__:
        raise _fail(fix, f"{cls.__module__}.{cls.__qualname__} now defines {name} itself ({why})")


def _source(fix: str, func: Any) -> str:
    target = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
    try:
        return inspect.getsource(target)
    except (OSError, TypeError) as exc:
        raise _fail(fix, f"cannot read the source of {target!r}: {exc}") from None


def _expect(fix: str, func: Any, *fragments: str) -> str:
    text = _source(fix, func)
    missing = [fragment for fragment in fragments if fragment not in text]
    if missing:
        raise _fail(fix, f"{getattr(func, '__qualname__', func)} no longer contains {missing}")
    return text


def _expect_parameters(fix: str, func: Callable[..., Any], names: Tuple[str, ...]) -> None:
    actual = tuple(inspect.signature(func).parameters)
    if actual != names:
        raise _fail(fix, f"{func.__qualname__} takes {actual}, expected {names}")


def _mark(replacement: Callable[..., Any], original: Any, fix: str) -> Callable[..., Any]:
    replacement.__lakeport_fix__ = fix  # type: ignore[attr-defined]
    replacement.__lakeport_original__ = original  # type: ignore[attr-defined]
    return replacement


# --- (a) .sync tasks without a callback endpoint ------------------------------------------------

_SFN_COMPONENT = "moto.stepfunctions.parser.asl.component"
_STRING_OPERATORS = "state.choice.comparison.operator.implementations.string_operators"


def _sfn_service(module: str) -> Any:
    """A module of moto's Step Functions service integrations (their import paths are long)."""
    return importlib.import_module(f"{_SFN_COMPONENT}.state.exec.state_task.service.{module}")


def _fix_sync_callback_guard() -> None:
    fix = "sync-callback-guard"
    ResourceCondition = _sfn_service("resource").ResourceCondition
    StateTaskServiceCallback = _sfn_service("state_task_service_callback").StateTaskServiceCallback
    StateTaskServiceGlue = _sfn_service("state_task_service_glue").StateTaskServiceGlue

    original = _own(fix, StateTaskServiceCallback, "_eval_integration_pattern")
    text = _expect(fix, original, "callback_endpoint: CallbackEndpoint | None = None", "finally:")
    finally_block = text.split("finally:", 1)[1].split("# Handle Callback outcome types.", 1)[0]
    if "callback_endpoint.interrupt_all()" not in finally_block:
        raise _fail(fix, "the finally block no longer calls callback_endpoint.interrupt_all()")
    if "if callback_endpoint" in finally_block:
        raise _fail(fix, "moto now guards interrupt_all() itself; remove this fix")
    _not_own(fix, StateTaskServiceGlue, "_eval_integration_pattern", "the fix on its base class would not reach it")
    _expect_parameters(
        fix,
        _own(fix, StateTaskServiceCallback, "_eval_sync"),
        ("self", "env", "sync_resolver", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"),
    )
    for name in ("_build_sync_resolver", "_build_sync2_resolver"):
        _own(fix, StateTaskServiceCallback, name)

    def _eval_integration_pattern(
        self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
    ) -> None:
        has_callback_endpoint = ResourceCondition.WaitForTaskToken in self._supported_integration_patterns
        if has_callback_endpoint or self.heartbeat or self.resource.condition == ResourceCondition.WaitForTaskToken:
            original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
            return
        # A .sync / .sync:2 task of a service without callback tokens: poll until the job ends.
        task_output = env.stack.pop()
        self.timeout.eval(env=env)
        timeout_seconds = env.stack.pop()
        env.stack.append(task_output)
        build = self._build_sync_resolver
        if self.resource.condition != ResourceCondition.Sync:
            build = self._build_sync2_resolver
        resolver = build(
            env=env,
            resource_runtime_part=resource_runtime_part,
            normalised_parameters=normalised_parameters,
            state_credentials=state_credentials,
        )
        outcome = self._eval_sync(
            env=env,
            sync_resolver=resolver,
            timeout_seconds=timeout_seconds,
            callback_endpoint=None,
            heartbeat_endpoint=None,
        )
        env.stack.append(outcome)

    StateTaskServiceCallback._eval_integration_pattern = _mark(_eval_integration_pattern, original, fix)


# --- (b) JSON-safe Glue .sync output -------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Timestamps as epoch milliseconds (as Step Functions emits them); containers recursively."""
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return int(moment.timestamp() * 1000)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _fix_glue_sync_output() -> None:
    fix = "glue-sync-json-output"
    StateTaskServiceGlue = _sfn_service("state_task_service_glue").StateTaskServiceGlue

    original = _own(fix, StateTaskServiceGlue, "_sync_to_start_job_run")
    _expect(fix, original, "def _sync_resolver()", "return job_run", "return _sync_resolver")

    def _sync_to_start_job_run(
        self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict, state_credentials: Any
    ) -> Callable[[], Any]:
        resolver = original(self, env, resource_runtime_part, normalised_parameters, state_credentials)

        def json_safe_resolver() -> Any:
            return json_safe(resolver())

        return json_safe_resolver

    StateTaskServiceGlue._sync_to_start_job_run = _mark(_sync_to_start_job_run, original, fix)


# --- (c) the two Step Functions APIs Terraform needs -------------------------------------------


def _fix_sfn_apis() -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    from lakeport.local.validation import validate_definition

    for fix, name in (
        ("sfn-validate-definition", "validate_state_machine_definition"),
        ("sfn-list-versions", "list_state_machine_versions"),
    ):
        _not_own(fix, StepFunctionResponse, name, "moto implements it now; remove this fix")
    _own("sfn-list-versions", StepFunctionResponse, "stepfunction_backend")

    def validate_state_machine_definition(self: Any) -> Any:
        return ActionResult(validate_definition(self._get_param("definition") or ""))

    def list_state_machine_versions(self: Any) -> Any:
        state_machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
        versions = sorted(state_machine.versions.values(), key=lambda version: version.version, reverse=True)
        start = int(self._get_param("nextToken") or 0)
        size = int(self._get_param("maxResults") or 0) or 1000
        page = versions[start : start + size]
        response: Dict[str, Any] = {
            "stateMachineVersions": [
                {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date} for version in page
            ]
        }
        if start + size < len(versions):
            response["nextToken"] = str(start + size)
        return ActionResult(response)

    StepFunctionResponse.validate_state_machine_definition = _mark(  # type: ignore[attr-defined]
        validate_state_machine_definition, None, "sfn-validate-definition"
    )
    StepFunctionResponse.list_state_machine_versions = _mark(  # type: ignore[attr-defined]
        list_state_machine_versions, None, "sfn-list-versions"
    )


# --- (d) Lambda functions run in-process -------------------------------------------------------


def _fix_lambda_in_process() -> None:
    fix = "lambda-in-process"
    import json

    from moto.awslambda.models import LambdaBackend, LambdaFunction

    from lakeport.local import lambdas

    original = _own(fix, LambdaFunction, "invoke")
    _expect_parameters(fix, original, ("self", "body", "request_headers", "response_headers"))
    _expect(fix, original, "self._invoke_lambda(", "x-amz-function-error")
    _expect(fix, _own(fix, LambdaBackend, "invoke"), "fn.invoke(body, headers, response_headers)")

    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        invocation_type = request_headers.get("x-amz-invocation-type") or "RequestResponse"
        if invocation_type == "DryRun":
            return b""
        if isinstance(body, (bytes, bytearray)):
            body = body.decode("utf-8")
        event = json.loads(body) if body else {}
        timeout = float(getattr(self, "timeout", 0) or 900)
        if invocation_type == "Event":
            worker = threading.Thread(
                target=lambdas.invoke,
                args=(self.function_arn, event, timeout),
                name=f"lambda-{self.function_name}",
                daemon=True,
            )
            worker.start()
            return b""
        payload, function_error = lambdas.invoke(self.function_arn, event, timeout)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        return payload

    LambdaFunction.invoke = _mark(invoke, original, fix)  # type: ignore[method-assign]


# --- (e) GetJobRun tells why a run failed ------------------------------------------------------


def _fix_glue_job_run_details() -> None:
    fix = "glue-job-run-details"
    from moto.core.utils import utcnow
    from moto.glue.models import FakeJobRun

    original = _own(fix, FakeJobRun, "as_dict")
    text = _expect(fix, original, '"ExecutionTime": 123', '"CompletedOn": self.completed_on')
    if "ErrorMessage" in text:
        raise _fail(fix, "FakeJobRun.as_dict reports ErrorMessage itself now; remove this fix")

    def as_dict(self: Any) -> Dict[str, Any]:
        result: Dict[str, Any] = original(self)
        status = result.get("JobRunState")
        finished = status not in ("STARTING", "RUNNING", "WAITING", "STOPPING")
        end = self.completed_on if finished else utcnow()
        result["ExecutionTime"] = max(0, int((end - self.started_on).total_seconds()))
        if not finished:
            result.pop("CompletedOn", None)
        error_message = getattr(self, "error_message", None)
        if error_message:
            result["ErrorMessage"] = error_message
        return result

    FakeJobRun.as_dict = _mark(as_dict, original, fix)  # type: ignore[method-assign]


# --- (f) StringMatches with AWS's wildcard rules ------------------------------------------------


def string_matches(text: Any, pattern: Any) -> bool:
    """AWS ``StringMatches``: ``*`` is any run of characters, ``\\*`` and ``\\\\`` are literal."""
    if not isinstance(text, str) or not isinstance(pattern, str):
        return False
    import re

    parts: List[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*\\":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.fullmatch("".join(parts), text, flags=re.DOTALL) is not None


def _fix_string_matches() -> None:
    fix = "sfn-string-matches"
    StringMatches = importlib.import_module(f"{_SFN_COMPONENT}.{_STRING_OPERATORS}").StringMatches

    original = _own(fix, StringMatches, "_compare")
    if not isinstance(original, staticmethod):
        raise _fail(fix, "StringMatches._compare is no longer a staticmethod")
    _expect(fix, original, "fnmatch.fnmatch(variable, comparison_value)")
    _expect(fix, _own(fix, StringMatches, "eval"), "StringMatches._compare(")

    def _compare(variable: Any, comparison_value: Any) -> bool:
        return string_matches(variable, comparison_value)

    StringMatches._compare = staticmethod(_mark(_compare, original, fix))


# --- (g) S3 -> EventBridge object keys encoded as S3 encodes them in events ----------------------


def event_key(key: str) -> str:
    """An object key as S3 writes it into event notifications: form-encoded, ``/`` kept."""
    from urllib.parse import quote_plus

    return quote_plus(key, safe="/")


def _fix_eventbridge_key_encoding() -> None:
    fix = "s3-eventbridge-key-encoding"
    import types

    from moto.s3 import notifications

    original = notifications.__dict__.get("_send_event_bridge_message")
    if original is None:
        raise _fail(fix, "moto.s3.notifications no longer defines _send_event_bridge_message")
    _expect(fix, original, '"key": key.name,', "key.size", "key.etag", "key.version_id")
    _expect(fix, notifications.send_event, "_send_event_bridge_message(account_id, bucket, event_name, key)")

    def _send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        encoded = types.SimpleNamespace(
            name=event_key(key.name), size=key.size, etag=key.etag, version_id=key.version_id
        )
        original(account_id, bucket, event_name, encoded)

    notifications._send_event_bridge_message = _mark(_send_event_bridge_message, original, fix)


# --- (h) StartExecution without a name ---------------------------------------------------------


def _fix_unnamed_execution() -> None:
    fix = "sfn-unnamed-execution"
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = _own(fix, StepFunctionsParserBackend, "start_execution")
    _expect_parameters(fix, original, ("self", "state_machine_arn", "name", "execution_input", "trace_header"))
    _expect(fix, original, "exec_name = name", "state_machine.name,\n            name,")

    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: Any = None,
        execution_input: Any = None,
        trace_header: Any = None,
    ) -> Any:
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    StepFunctionsParserBackend.start_execution = _mark(start_execution, original, fix)  # type: ignore[method-assign]


# --- (i) atomic conditional writes in DynamoDB ----------------------------------------------------

_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")
_dynamodb_write_lock = threading.Lock()


def _fix_dynamodb_atomic_writes() -> None:
    fix = "dynamodb-atomic-writes"
    from moto.dynamodb.responses import DynamoHandler

    for name in _DYNAMODB_WRITES:
        original = _own(fix, DynamoHandler, name)
        _expect_parameters(fix, original, ("self",))

        def write(self: Any, _original: Callable[..., Any] = original) -> Any:
            with _dynamodb_write_lock:
                return _original(self)

        setattr(DynamoHandler, name, _mark(write, original, fix))


def _fix_s3_listing_during_deletes() -> None:
    fix = "s3-listing-during-deletes"
    from moto.s3.utils import _VersionedKeyStore

    for name, lookup in (
        ("_iteritems", "self[key]"),
        ("_itervalues", "self[key]"),
        ("_iterlists", "self.getlist(key)"),
    ):
        _expect(fix, _own(fix, _VersionedKeyStore, name), "for key in self._self_iterable():", lookup)
    _expect(fix, _own(fix, _VersionedKeyStore, "_self_iterable"), "return dict(self)")
    originals = {name: _VersionedKeyStore.__dict__[name] for name in ("_iteritems", "_itervalues", "_iterlists")}

    # the copy holds each key's list of versions as it was; a key with no version is skipped
    def iteritems(self: Any) -> Any:
        for key, versions in self._self_iterable().items():
            if versions:
                yield key, versions[-1]

    def itervalues(self: Any) -> Any:
        for versions in self._self_iterable().values():
            if versions:
                yield versions[-1]

    def iterlists(self: Any) -> Any:
        for key, versions in self._self_iterable().items():
            if versions is not None:
                yield key, versions

    for names, replacement, original in (
        (("_iteritems", "items", "iteritems"), iteritems, originals["_iteritems"]),
        (("_itervalues", "values", "itervalues"), itervalues, originals["_itervalues"]),
        (("_iterlists", "lists", "iterlists"), iterlists, originals["_iterlists"]),
    ):
        marked = _mark(replacement, original, fix)
        for name in names:
            setattr(_VersionedKeyStore, name, marked)


_glue_table_lock = threading.Lock()


def _fix_glue_update_table_version() -> None:
    fix = "glue-update-table-version"
    from moto.glue.exceptions import GlueClientError
    from moto.glue.models import FakeTable
    from moto.glue.responses import GlueResponse

    original = _own(fix, GlueResponse, "update_table")
    _expect_parameters(fix, original, ("self",))
    _expect(fix, original, 'table_input = self.parameters.get("TableInput")', "self.glue_backend.update_table(")
    _expect(fix, _own(fix, FakeTable, "update"), "self._current_version += 1")

    class ConcurrentModificationException(GlueClientError):
        def __init__(self, message: str) -> None:
            super().__init__("ConcurrentModificationException", message)

    def update_table(self: Any) -> Any:
        expected = self.parameters.get("VersionId")
        with _glue_table_lock:
            if expected is not None:
                database = self.parameters.get("DatabaseName")
                name = (self.parameters.get("TableInput") or {}).get("Name")
                current = str(self.glue_backend.get_table(database, name)._current_version)
                if str(expected) != current:
                    raise ConcurrentModificationException(
                        f"table {database}.{name} is at version {current}, not {expected}: it changed meanwhile"
                    )
            return original(self)

    GlueResponse.update_table = _mark(update_table, original, fix)  # type: ignore[method-assign]


# --- apply --------------------------------------------------------------------------------------


# --- (l) a shorter poll of .sync tasks ------------------------------------------------------------

SYNC_POLL_SECONDS = 0.1


def _fix_sync_poll_interval() -> None:
    fix = "sync-poll-interval"
    module = _sfn_service("state_task_service_callback")
    current = getattr(module, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", None)
    if current != 0.5:
        raise _fail(fix, f"_DELAY_SECONDS_SYNC_CONDITION_CHECK is {current!r}, not 0.5")
    _expect(
        fix, _own(fix, module.StateTaskServiceCallback, "_eval_sync"), "time.sleep(_DELAY_SECONDS_SYNC_CONDITION_CHECK)"
    )
    module._DELAY_SECONDS_SYNC_CONDITION_CHECK = SYNC_POLL_SECONDS


# --- (m) Athena runs the queries it is given ----------------------------------------------------


def _fix_athena_queries() -> None:
    fix = "athena-queries"
    import json

    from moto.athena.models import AthenaBackend
    from moto.athena.responses import AthenaResponse

    from lakeport.local import athena

    start = _own(fix, AthenaBackend, "start_query_execution")
    _expect_parameters(fix, start, ("self", "query", "context", "config", "workgroup", "execution_parameters"))
    _expect(fix, start, "return execution.id")
    stop = _own(fix, AthenaBackend, "stop_query_execution")
    describe = _own(fix, AthenaResponse, "get_query_execution")
    _expect(fix, describe, '"QueryExecution": {', "return json.dumps(result)")
    results = _own(fix, AthenaResponse, "get_query_results")
    _expect(fix, results, 'self._get_param("QueryExecutionId")')
    _own(fix, AthenaResponse, "error")

    def start_query_execution(
        self: Any, query: str, context: Any, config: Any, workgroup: Any, execution_parameters: Any
    ) -> str:
        execution_id: str = start(self, query, context, config, workgroup, execution_parameters)
        database = context.get("Database") if isinstance(context, dict) else None
        athena.queries.start(execution_id, query, self.region_name, database)
        return execution_id

    def stop_query_execution(self: Any, exec_id: str) -> None:
        athena.queries.cancel(exec_id)
        stop(self, exec_id)

    def get_query_execution(self: Any) -> Any:
        answer = describe(self)
        execution_id = self._get_param("QueryExecutionId")
        if not isinstance(answer, str) or athena.queries.get(execution_id) is None:
            return answer
        return json.dumps(athena.queries.query_execution(execution_id, json.loads(answer)))

    def get_query_results(self: Any) -> Any:
        execution_id = self._get_param("QueryExecutionId")
        if athena.queries.get(execution_id) is None:
            return results(self)
        try:
            page = athena.queries.results_page(
                execution_id, self._get_param("MaxResults"), self._get_param("NextToken")
            )
        except athena.InvalidRequest as exc:
            return self.error(str(exc), 400)
        return json.dumps(page)

    AthenaBackend.start_query_execution = _mark(start_query_execution, start, fix)  # type: ignore[method-assign]
    AthenaBackend.stop_query_execution = _mark(stop_query_execution, stop, fix)  # type: ignore[method-assign]
    AthenaResponse.get_query_execution = _mark(get_query_execution, describe, fix)  # type: ignore[method-assign]
    AthenaResponse.get_query_results = _mark(get_query_results, results, fix)  # type: ignore[method-assign]


FIXES: Tuple[Tuple[str, Callable[[], None]], ...] = (
    ("sync-callback-guard", _fix_sync_callback_guard),
    ("glue-sync-json-output", _fix_glue_sync_output),
    ("sfn-apis", _fix_sfn_apis),
    ("lambda-in-process", _fix_lambda_in_process),
    ("glue-job-run-details", _fix_glue_job_run_details),
    ("sfn-string-matches", _fix_string_matches),
    ("s3-eventbridge-key-encoding", _fix_eventbridge_key_encoding),
    ("sfn-unnamed-execution", _fix_unnamed_execution),
    ("dynamodb-atomic-writes", _fix_dynamodb_atomic_writes),
    ("s3-listing-during-deletes", _fix_s3_listing_during_deletes),
    ("glue-update-table-version", _fix_glue_update_table_version),
    ("sync-poll-interval", _fix_sync_poll_interval),
    ("athena-queries", _fix_athena_queries),
)


def apply() -> List[str]:
    """Turn on Step Functions execution and apply every fix, once per process; returns their names."""
    from moto.core.config import default_user_config

    with _lock:
        for name, fix in FIXES:
            if name not in _applied:
                fix()
                _applied.append(name)
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        return list(_applied)


def applied() -> List[str]:
    """The names of the fixes applied in this process so far."""
    with _lock:
        return list(_applied)


__all__ = [
    "FIXES",
    "PINNED_MOTO",
    "MotoPatchError",
    "applied",
    "apply",
    "event_key",
    "json_safe",
    "string_matches",
]
