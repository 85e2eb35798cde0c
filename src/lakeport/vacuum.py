"""Deleting generations nobody reads any more.

Every run writes new generation folders (``.../run=<run_id>/``) and switches the catalog to them;
the generations they replace stay behind, so queries that started before the switch can finish.
After a retention period (default 24 h) those are garbage: in ``append`` mode each run copies a
partition's files into its new generation, so without this the curated zone grows with every run.

A generation folder is deleted when all of these hold:

* the catalog does not point at it (it is not live);
* it was not replaced less than the retention ago — a run that switches partitions writes a
  *tombstone* (``s3://<artifacts>/generations/<dataset>/<run_id>.json``) listing the locations it
  replaced and when, and locations in a tombstone younger than the retention are kept;
* its own run id (time-sortable) is older than the retention, so a run still writing is never touched.

The last rule also removes what failed runs left behind, once they are old enough. If a run dies
between its catalog switch and writing its tombstone, the replaced generation is unprotected: a
query that was still reading it may then fail (its data is in the new generation; nothing is lost).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional, Set

from pyarrow import fs as pafs

from .engine.layout import GENERATION_PREFIX, TableLayout, split_uri

log = logging.getLogger(__name__)

DEFAULT_RETENTION = timedelta(hours=24)
TOMBSTONE_PREFIX = "generations/"
_RUN_TIME = re.compile(r"^(\d{8}T\d{6}Z)")


@dataclass
class VacuumResult:
    generations_deleted: List[str] = field(default_factory=list)
    files_deleted: int = 0
    kept_recent: int = 0
    tombstones_deleted: int = 0


def run_time(run_id: str) -> Optional[datetime]:
    """The UTC time a run id starts with (``20261126T160102Z-…``), or None."""
    match = _RUN_TIME.match(run_id)
    if not match:
        return None
    return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def tombstone_key(dataset: str, run_id: str) -> str:
    return f"{TOMBSTONE_PREFIX}{dataset}/{run_id}.json"


def write_tombstone(
    s3: Any, bucket: str, dataset: str, run_id: str, replaced: Iterable[str], now: datetime
) -> Optional[str]:
    """Record the locations a run's catalog switch replaced (after the switch, never before)."""
    locations = sorted(set(replaced))
    if not locations:
        return None
    body = json.dumps({"dataset": dataset, "run_id": run_id, "replaced_at": now.isoformat(), "locations": locations})
    key = tombstone_key(dataset, run_id)
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    return f"s3://{bucket}/{key}"


def _tombstones(s3: Any, bucket: str, dataset: str) -> List[Dict[str, Any]]:
    found = []
    prefix = f"{TOMBSTONE_PREFIX}{dataset}/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
            body["key"] = item["Key"]
            found.append(body)
    return found


def _generation_folders(filesystem: Any, root: str) -> Dict[str, List[str]]:
    """Every ``run=<id>/`` folder under ``root`` (a URI) and the files in it."""
    scheme, path = split_uri(root)
    selector = pafs.FileSelector(path.rstrip("/"), recursive=True, allow_not_found=True)
    folders: Dict[str, List[str]] = {}
    for info in filesystem.get_file_info(selector):
        if info.type != pafs.FileType.File:
            continue
        parts = info.path.split("/")
        for index in range(len(parts) - 1, -1, -1):
            if parts[index].startswith(GENERATION_PREFIX):
                folder = "/".join(parts[: index + 1]) + "/"
                folders.setdefault(f"{scheme}://{folder}", []).append(info.path)
                break
    return folders


def vacuum(
    filesystem: Any,
    s3: Any,
    artifacts_bucket: str,
    layout: TableLayout,
    dataset: str,
    live_locations: Iterable[str],
    now: Optional[datetime] = None,
    retention: timedelta = DEFAULT_RETENTION,
    roots: Optional[Iterable[str]] = None,
) -> VacuumResult:
    """Delete expired generations of one dataset (under ``roots``, default: the whole table)."""
    now = now or datetime.now(timezone.utc)
    horizon = now - retention
    live: Set[str] = {loc if loc.endswith("/") else loc + "/" for loc in live_locations}
    protected: Set[str] = set()
    result = VacuumResult()
    for tombstone in _tombstones(s3, artifacts_bucket, dataset):
        replaced_at = datetime.fromisoformat(tombstone["replaced_at"])
        if replaced_at > horizon:
            protected.update(loc if loc.endswith("/") else loc + "/" for loc in tombstone["locations"])
        else:
            s3.delete_object(Bucket=artifacts_bucket, Key=tombstone["key"])
            result.tombstones_deleted += 1
    for root in roots or [layout.table_location]:
        for folder, files in sorted(_generation_folders(filesystem, root).items()):
            if folder in live:
                continue
            if folder in protected:
                result.kept_recent += 1
                continue
            created = run_time(folder.rstrip("/").rsplit(GENERATION_PREFIX, 1)[1])
            if created is None or created > horizon:
                result.kept_recent += 1
                continue
            for path in files:
                filesystem.delete_file(path)
            result.files_deleted += len(files)
            result.generations_deleted.append(folder)
    return result
