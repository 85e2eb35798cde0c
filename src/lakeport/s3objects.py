"""Turning ``s3://`` objects and prefixes into :class:`SourceObject` lists for a dataset."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

from .ledger.files import SourceObject

if TYPE_CHECKING:  # the contract models take a tenth of a second to import
    from .contract import Contract

MARKER_SUFFIXES = ("/", "_SUCCESS", ".lakeport-complete")


def is_data_key(key: str, contract: Optional[Contract] = None) -> bool:
    """Whether a raw key holds data (not a folder marker or a delivery-complete marker)."""
    name = key.rsplit("/", 1)[-1]
    if key.endswith(MARKER_SUFFIXES) or name.startswith(".") or name.startswith("_"):
        return False
    if contract is not None and contract.source.suffixes:
        return any(key.endswith(s) for s in contract.source.suffixes)
    return True


def list_objects(s3: Any, uri: str, contract: Optional[Contract] = None) -> List[SourceObject]:
    """Objects under ``uri`` (an object or a prefix), data keys only, sorted by key."""
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    found: List[SourceObject] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if not is_data_key(key, contract):
                continue
            found.append(head_object(s3, bucket, key))
    return sorted(found, key=lambda o: o.key)


def head_object(s3: Any, bucket: str, key: str) -> SourceObject:
    head = s3.head_object(Bucket=bucket, Key=key)
    modified = head.get("LastModified")
    return SourceObject(
        bucket=bucket,
        key=key,
        version_id=head.get("VersionId"),
        etag=str(head.get("ETag", "")).strip('"'),
        size=int(head.get("ContentLength", 0)),
        last_modified=modified.isoformat() if modified is not None else None,
    )
