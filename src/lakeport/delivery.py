"""Deliveries: a set of raw files that must be ingested together, or not at all.

``lakeport upload`` puts a delivery's files under a folder named ``delivery=<id>`` below the
dataset's prefix and writes the *completeness marker* ``<folder>/.lakeport-complete`` last, once
every file is in S3 and verified. The marker lists each object (key, size, sha256, version id,
ETag). The dispatcher leaves files in a delivery folder alone until the marker exists; the marker's
own event then claims the whole delivery, exactly the versions it lists, for one run. So a delivery
cut off half-way (a dropped VPN, a killed process) is never ingested as if it were whole; running
the same upload again completes it.

Files outside a ``delivery=`` folder (an ``aws s3 cp`` of a single file, say) are ingested as they
arrive.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from .errors import TerminalError

MARKER_NAME = ".lakeport-complete"
DELIVERY_FOLDER_PREFIX = "delivery="
MARKER_FORMAT = "lakeport-delivery/1"
SHA256_METADATA = "lakeport-sha256"
"""User metadata (``x-amz-meta-lakeport-sha256``) holding the hex sha256 of a delivered file."""


class DeliveryMarkerError(TerminalError):
    """A completeness marker cannot be read, or lists objects that are not in S3 as described."""


@dataclass(frozen=True)
class DeliveredObject:
    """One object of a delivery, as the marker lists it."""

    key: str
    size: int
    sha256: str
    version_id: Optional[str] = None
    etag: Optional[str] = None


@dataclass
class DeliveryMarker:
    """The content of ``<delivery folder>/.lakeport-complete``."""

    delivery_id: str
    folder: str
    objects: List[DeliveredObject] = field(default_factory=list)
    dataset: Optional[str] = None
    created_at: str = ""

    @property
    def key(self) -> str:
        return marker_key(self.folder)

    @property
    def total_bytes(self) -> int:
        return sum(o.size for o in self.objects)

    def same_content(self, other: DeliveryMarker) -> bool:
        """Both list the same keys with the same checksums (versions may differ)."""

        def content(marker: DeliveryMarker) -> List[Any]:
            return sorted((o.key, o.sha256, o.size) for o in marker.objects)

        return content(self) == content(other)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": MARKER_FORMAT,
                "delivery_id": self.delivery_id,
                "folder": self.folder,
                "dataset": self.dataset,
                "created_at": self.created_at,
                "objects": [asdict(o) for o in self.objects],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, where: str) -> DeliveryMarker:
        try:
            data: Dict[str, Any] = json.loads(text)
            if data.get("format") != MARKER_FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {MARKER_FORMAT!r}")
            objects = [
                DeliveredObject(
                    key=str(o["key"]),
                    size=int(o["size"]),
                    sha256=str(o["sha256"]),
                    version_id=o.get("version_id"),
                    etag=o.get("etag"),
                )
                for o in data["objects"]
            ]
            return cls(
                delivery_id=str(data["delivery_id"]),
                folder=str(data["folder"]),
                objects=objects,
                dataset=data.get("dataset"),
                created_at=str(data.get("created_at", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryMarkerError(
                f"{where} is not a lakeport completeness marker: {exc}",
                hint="deliver the folder again with 'lakeport upload', which rewrites the marker",
            ) from None


def marker_key(folder: str) -> str:
    """The marker's key for a delivery folder (``.../delivery=<id>/``)."""
    return folder.rstrip("/") + "/" + MARKER_NAME


def is_marker_key(key: str) -> bool:
    return key.rsplit("/", 1)[-1] == MARKER_NAME


def delivery_folder(key: str, dataset_prefix: str = "") -> Optional[str]:
    """The delivery folder (``<...>/delivery=<id>/``) a key lies in, below ``dataset_prefix``; else None.

    The innermost ``delivery=`` folder counts, so a delivery never spans another one.
    """
    if not key.startswith(dataset_prefix):
        return None
    parts = key[len(dataset_prefix) :].split("/")[:-1]
    for index in range(len(parts) - 1, -1, -1):
        if parts[index].startswith(DELIVERY_FOLDER_PREFIX) and len(parts[index]) > len(DELIVERY_FOLDER_PREFIX):
            return dataset_prefix + "/".join(parts[: index + 1]) + "/"
    return None


def delivery_folder_name(delivery_id: str) -> str:
    return f"{DELIVERY_FOLDER_PREFIX}{delivery_id}"


__all__ = [
    "DELIVERY_FOLDER_PREFIX",
    "MARKER_NAME",
    "SHA256_METADATA",
    "DeliveredObject",
    "DeliveryMarker",
    "DeliveryMarkerError",
    "delivery_folder",
    "delivery_folder_name",
    "is_marker_key",
    "marker_key",
]
