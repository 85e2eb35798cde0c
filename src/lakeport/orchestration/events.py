"""The dispatcher's input: SQS records carrying S3 "Object Created" events, read once into typed objects.

Two shapes are understood:

* the EventBridge envelope the raw bucket's rule sends to the ingest queue (``detail-type``
  ``Object Created``; the object in ``detail.object``), which is how lakeport is deployed;
* S3's own event notification (``Records[].s3``), in case a bucket notifies the queue directly.
  Its ``s3:TestEvent`` (sent when such a notification is configured) carries no object.

S3 writes object keys into events form-encoded (``a b+c.csv`` arrives as ``a+b%2Bc.csv``), so keys
are decoded with :func:`urllib.parse.unquote_plus`.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional

from lakeport.errors import TerminalError
from lakeport.ledger.files import SourceObject

OBJECT_CREATED = "Object Created"


class MalformedEventError(TerminalError):
    """An SQS message that is not an S3 object event lakeport understands."""


@dataclass(frozen=True)
class ObjectCreated:
    """One object version that was created, as an event announced it."""

    message_id: str
    bucket: str
    key: str
    size: int
    etag: str
    version_id: Optional[str]
    time: datetime

    def source(self) -> SourceObject:
        return SourceObject(
            bucket=self.bucket,
            key=self.key,
            version_id=self.version_id,
            etag=self.etag,
            size=self.size,
            last_modified=self.time.isoformat(),
        )


def _time(text: Any) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    try:
        parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(timezone.utc)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _etag(value: Any) -> str:
    return str(value or "").strip('"')


def _from_eventbridge(message_id: str, body: Mapping[str, Any]) -> List[ObjectCreated]:
    if body.get("detail-type") != OBJECT_CREATED:
        return []
    detail = body.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    obj = detail.get("object") or {}
    if not bucket or not obj.get("key"):
        raise MalformedEventError(f"message {message_id}: an Object Created event without bucket or key")
    return [
        ObjectCreated(
            message_id=message_id,
            bucket=str(bucket),
            key=urllib.parse.unquote_plus(str(obj["key"])),
            size=int(obj.get("size") or 0),
            # AWS spells it "etag"; the emulator "eTag"
            etag=_etag(obj.get("etag", obj.get("eTag"))),
            version_id=obj.get("version-id") or None,
            time=_time(body.get("time")),
        )
    ]


def _from_s3_notification(message_id: str, body: Mapping[str, Any]) -> List[ObjectCreated]:
    found = []
    for record in body.get("Records") or []:
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name")
        obj = s3.get("object") or {}
        if not bucket or not obj.get("key"):
            raise MalformedEventError(f"message {message_id}: an ObjectCreated record without bucket or key")
        found.append(
            ObjectCreated(
                message_id=message_id,
                bucket=str(bucket),
                key=urllib.parse.unquote_plus(str(obj["key"])),
                size=int(obj.get("size") or 0),
                etag=_etag(obj.get("eTag", obj.get("etag"))),
                version_id=obj.get("versionId") or None,
                time=_time(record.get("eventTime")),
            )
        )
    return found


def parse_record(record: Mapping[str, Any]) -> List[ObjectCreated]:
    """The objects one SQS record announces (none for events that announce no new object).

    Raises :class:`MalformedEventError` for a body that is not JSON or not an S3 event.
    """
    message_id = str(record.get("messageId", "?"))
    try:
        body: Dict[str, Any] = json.loads(record.get("body") or "")
    except ValueError:
        raise MalformedEventError(f"message {message_id}: the body is not JSON") from None
    if not isinstance(body, dict):
        raise MalformedEventError(f"message {message_id}: the body is not a JSON object")
    try:
        if body.get("source") == "aws.s3" and "detail" in body:
            return _from_eventbridge(message_id, body)
        if body.get("Event") == "s3:TestEvent":
            return []
        if "Records" in body:
            return _from_s3_notification(message_id, body)
    except (TypeError, ValueError, AttributeError) as exc:
        raise MalformedEventError(f"message {message_id}: {exc}") from None
    raise MalformedEventError(
        f"message {message_id}: neither an EventBridge S3 event nor an S3 event notification",
        hint="only the raw bucket's Object Created events belong on the ingest queue",
    )


__all__ = ["OBJECT_CREATED", "MalformedEventError", "ObjectCreated", "parse_record"]
