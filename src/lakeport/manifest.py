"""Run manifests: the list of raw objects one run ingests, written by the dispatcher (or the CLI)
to ``s3://<artifacts>/manifests/<dataset>/<run_id>.json`` and read by the Glue job."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List

from .errors import ConfigurationError
from .ledger.files import SourceObject

MANIFEST_PREFIX = "manifests/"


@dataclass
class Manifest:
    dataset: str
    run_id: str
    objects: List[SourceObject] = field(default_factory=list)
    created_at: str = ""

    @property
    def total_bytes(self) -> int:
        return sum(o.size for o in self.objects)

    def to_json(self) -> str:
        return json.dumps(
            {
                "dataset": self.dataset,
                "run_id": self.run_id,
                "created_at": self.created_at,
                "objects": [asdict(o) for o in self.objects],
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str, where: str = "manifest") -> Manifest:
        try:
            data: Dict[str, Any] = json.loads(text)
            objects = [SourceObject(**o) for o in data["objects"]]
            return cls(str(data["dataset"]), str(data["run_id"]), objects, str(data.get("created_at", "")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{where} is not a lakeport run manifest: {exc}") from None


def manifest_key(dataset: str, run_id: str) -> str:
    return f"{MANIFEST_PREFIX}{dataset}/{run_id}.json"


def write_manifest(s3_client: Any, bucket: str, manifest: Manifest) -> str:
    key = manifest_key(manifest.dataset, manifest.run_id)
    s3_client.put_object(Bucket=bucket, Key=key, Body=manifest.to_json().encode(), ContentType="application/json")
    return f"s3://{bucket}/{key}"


def read_manifest(s3_client: Any, uri: str) -> Manifest:
    if not uri.startswith("s3://"):
        raise ConfigurationError(f"manifest location {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return Manifest.from_json(body.decode("utf-8"), where=uri)
