"""In-process Lambda functions for the embedded emulator.

moto would run a function's code in Docker, which local mode does not have. Instead, a Python
callable is registered for a function name, and the emulator's ``Invoke`` (direct calls and the state
machine's ``arn:aws:states:::lambda:invoke`` tasks alike) calls it in this process with the decoded
event and a small context object, the way the Lambda Python runtime calls a handler.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

LambdaHandler = Callable[[Any, Any], Any]
"""``handler(event, context) -> JSON-serialisable result``, as for the Lambda Python runtime."""

UNHANDLED = "Unhandled"

_log = logging.getLogger(__name__)
_handlers: Dict[str, LambdaHandler] = {}
_lock = threading.Lock()


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda runtime's context object that handlers commonly read."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


def function_name_of(name_or_arn: str) -> str:
    """``my-fn``, ``arn:aws:lambda:<region>:<account>:function:my-fn[:qualifier]`` -> ``my-fn``."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) >= 7 and parts[5] == "function":
            return parts[6]
    return name_or_arn


def register_lambda(name: str, handler: LambdaHandler) -> None:
    """Run ``handler`` whenever the emulator's Lambda function ``name`` (or its ARN) is invoked."""
    if not callable(handler):
        raise TypeError(f"the handler for Lambda function {name!r} is not callable")
    with _lock:
        _handlers[function_name_of(name)] = handler


def unregister_lambda(name: str) -> None:
    with _lock:
        _handlers.pop(function_name_of(name), None)


def registered_lambda(name: str) -> Optional[LambdaHandler]:
    with _lock:
        return _handlers.get(function_name_of(name))


def _error_payload(error_type: str, message: str, stack: Optional[list[str]] = None) -> bytes:
    body = {"errorMessage": message, "errorType": error_type, "stackTrace": stack or []}
    return json.dumps(body).encode("utf-8")


def invoke(function_arn: str, event: Any, timeout_seconds: float = 900.0) -> Tuple[bytes, Optional[str]]:
    """Call the handler registered for the function; returns ``(payload, function_error)``.

    ``function_error`` is ``None`` on success and ``"Unhandled"`` when the handler raised (the payload
    then has Lambda's ``errorMessage`` / ``errorType`` / ``stackTrace`` shape) or when no handler is
    registered for the function.
    """
    name = function_name_of(function_arn)
    handler = registered_lambda(name)
    if handler is None:
        message = (
            f"no in-process handler is registered for Lambda function {name!r}; "
            "call lakeport.local.lambdas.register_lambda(name, handler) before invoking it"
        )
        return _error_payload("Runtime.HandlerNotFound", message), UNHANDLED
    context = LocalLambdaContext(function_name=name, invoked_function_arn=function_arn, timeout_seconds=timeout_seconds)
    try:
        result = handler(event, context)
    except Exception as exc:
        _log.warning("Lambda function %s raised %s: %s", name, type(exc).__name__, exc)
        stack = traceback.format_exception(type(exc), exc, exc.__traceback__)
        return _error_payload(type(exc).__name__, str(exc), [line.rstrip() for line in stack]), UNHANDLED
    try:
        return json.dumps(result).encode("utf-8"), None
    except (TypeError, ValueError) as exc:
        message = f"the result of Lambda function {name!r} is not JSON serialisable: {exc}"
        return _error_payload("Runtime.MarshalError", message), UNHANDLED


__all__ = [
    "UNHANDLED",
    "LambdaHandler",
    "LocalLambdaContext",
    "function_name_of",
    "invoke",
    "register_lambda",
    "registered_lambda",
    "unregister_lambda",
]
