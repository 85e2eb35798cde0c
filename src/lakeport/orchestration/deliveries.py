"""The dispatcher's side of deliveries (:mod:`lakeport.delivery`): read a completeness marker, and
check that every object it lists is in the raw bucket as listed before anything is claimed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Tuple

from botocore.exceptions import ClientError

from lakeport.aws import error_code, translate
from lakeport.contract import Contract
from lakeport.delivery import SHA256_METADATA, DeliveredObject, DeliveryMarker, DeliveryMarkerError
from lakeport.ledger.files import SourceObject
from lakeport.s3objects import is_data_key

_MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


class DeliveryChecker:
    """Reads markers and checks deliveries through one S3 client (HEADs run a few at a time)."""

    def __init__(self, s3_client: Any, head_workers: int = 8) -> None:
        self.s3 = s3_client
        self.head_workers = head_workers

    def read_marker(self, bucket: str, key: str, missing_ok: bool = False) -> Optional[DeliveryMarker]:
        """The marker at ``key``; None when it is not there and ``missing_ok``."""
        try:
            body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if missing_ok and error_code(exc) in _MISSING:
                return None
            if error_code(exc) in _MISSING:
                raise DeliveryMarkerError(f"the delivery marker s3://{bucket}/{key} is gone") from None
            raise translate(exc, f"reading the delivery marker s3://{bucket}/{key}") from exc
        return DeliveryMarker.from_json(body.decode("utf-8", errors="replace"), where=f"s3://{bucket}/{key}")

    def objects(self, bucket: str, key: str, marker: DeliveryMarker, contract: Contract) -> List[SourceObject]:
        """The delivery's objects, in the listed versions; :class:`DeliveryMarkerError` naming every
        object that is missing, outside the folder, not data of the dataset, or not as listed."""
        folder = key[: -len(key.rsplit("/", 1)[-1])]
        problems = [
            f"{o.key} is outside the delivery folder {folder}" for o in marker.objects if not o.key.startswith(folder)
        ]
        problems += [
            f"{o.key} is not a data file of {contract.dataset}"
            for o in marker.objects
            if o.key.startswith(folder) and not is_data_key(o.key, contract)
        ]
        if not marker.objects:
            problems.append("the marker lists no objects")
        if problems:
            raise DeliveryMarkerError(f"s3://{bucket}/{key}: " + "; ".join(problems))

        with ThreadPoolExecutor(max_workers=max(1, min(self.head_workers, len(marker.objects)))) as pool:
            answers = list(pool.map(lambda listed: self._head(bucket, listed), marker.objects))
        objects = []
        for listed, answer in answers:
            if answer is None:
                problems.append(f"{listed.key} (version {listed.version_id or 'latest'}) is missing")
                continue
            size = int(answer.get("ContentLength", -1))
            stored_sha = (answer.get("Metadata") or {}).get(SHA256_METADATA)
            if size != listed.size:
                problems.append(f"{listed.key} has {size} bytes, the marker says {listed.size}")
            elif stored_sha and stored_sha != listed.sha256:
                problems.append(f"{listed.key} has sha256 {stored_sha}, the marker says {listed.sha256}")
            modified = answer.get("LastModified")
            objects.append(
                SourceObject(
                    bucket=bucket,
                    key=listed.key,
                    version_id=answer.get("VersionId") or listed.version_id,
                    etag=str(answer.get("ETag", listed.etag or "")).strip('"'),
                    size=size,
                    last_modified=modified.isoformat() if modified is not None else None,
                )
            )
        if problems:
            raise DeliveryMarkerError(
                f"s3://{bucket}/{key}: " + "; ".join(problems),
                hint="deliver the folder again with 'lakeport upload' (files already there are skipped)",
            )
        return objects

    def _head(self, bucket: str, listed: DeliveredObject) -> Tuple[DeliveredObject, Optional[Dict[str, Any]]]:
        kwargs = {"VersionId": listed.version_id} if listed.version_id else {}
        try:
            return listed, self.s3.head_object(Bucket=bucket, Key=listed.key, **kwargs)
        except ClientError as exc:
            # a version id that does not exist answers 400 on HEAD
            if error_code(exc) in (*_MISSING, "400"):
                return listed, None
            raise translate(exc, f"checking s3://{bucket}/{listed.key}") from exc


__all__ = ["DeliveryChecker"]
