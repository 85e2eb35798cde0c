"""Plain values <-> DynamoDB attribute values, and the few DynamoDB error shapes lakeport reads.

The registry and the ledgers talk to the low-level DynamoDB client (the one Step Functions' service
integrations also use), so items are converted here once: numbers are stored as DynamoDB ``N``
(floats through :class:`~decimal.Decimal`, never as text) and come back as ``int`` when whole.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Mapping, Optional, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from .aws import error_code

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()

Item = Dict[str, Dict[str, Any]]


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        # str() keeps the short repr (0.1 stays 0.1, not 0.1000000000000000055…)
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(k): _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_from_dynamo(v) for v in value}
    return value


def attr(value: Any) -> Dict[str, Any]:
    """One plain value as a DynamoDB attribute value (``{"S": ...}``, ``{"N": ...}``, …)."""
    return cast(Dict[str, Any], _SERIALIZER.serialize(_to_dynamo(value)))


def to_item(values: Mapping[str, Any], *, drop_none: bool = True) -> Item:
    """A plain mapping as a DynamoDB item; ``None`` values are left out unless ``drop_none`` is false."""
    return {k: attr(v) for k, v in values.items() if not (drop_none and v is None)}


def from_item(item: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """A DynamoDB item as plain values (numbers as ``int`` when whole, else ``float``)."""
    if not item:
        return {}
    return {k: _from_dynamo(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


def is_condition_failure(exc: BaseException) -> bool:
    return isinstance(exc, ClientError) and error_code(exc) == "ConditionalCheckFailedException"


def old_item(exc: ClientError) -> Dict[str, Any]:
    """The item a failed condition saw (``ReturnValuesOnConditionCheckFailure=ALL_OLD``), as plain values."""
    return from_item(cast(Optional[Mapping[str, Any]], exc.response.get("Item")))


def cancellation_codes(exc: ClientError) -> List[str]:
    """The per-action reason codes of a ``TransactionCanceledException`` (``"None"`` where one passed)."""
    reasons = exc.response.get("CancellationReasons") or []
    codes = [str(r.get("Code", "None")) for r in reasons]
    if codes:
        return codes
    # some SDK paths only carry the reasons in the message: "... [None, ConditionalCheckFailed]"
    message = str(exc.response.get("Error", {}).get("Message", ""))
    start, end = message.rfind("["), message.rfind("]")
    if 0 <= start < end:
        return [part.strip() for part in message[start + 1 : end].split(",")]
    return []


def paginate(client: Any, operation: str, result_key: str, **kwargs: Any) -> Iterator[Dict[str, Any]]:
    """Every item of a ``Query`` or ``Scan`` (following ``LastEvaluatedKey``), as plain values."""
    paginator = client.get_paginator(operation)
    for page in paginator.paginate(**kwargs):
        for item in page.get(result_key, []):
            yield from_item(item)


_NAME = re.compile(r"#(\w+)")


def names_for(*expressions: Optional[str]) -> Dict[str, str]:
    """``ExpressionAttributeNames`` for expressions that write every attribute as ``#name``.

    Writing every attribute through a placeholder keeps clear of DynamoDB's long list of reserved
    words (``state``, ``key``, ``size``, ``bucket``, ``count``, …).
    """
    found: Dict[str, str] = {}
    for expression in expressions:
        for name in _NAME.findall(expression or ""):
            found[f"#{name}"] = name
    return found


def values_for(values: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    """``ExpressionAttributeValues`` from plain values keyed ``:name``."""
    return {k: attr(v) for k, v in values.items()}
