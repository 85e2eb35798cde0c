"""How Spark tasks reach raw objects and the output: clients and filesystems they can rebuild.

boto3 clients cannot travel to a task, and credentials frozen on the driver would expire during a
long job: a task gets a description and builds its own (on AWS, with the job role's credentials,
which the SDK refreshes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from ..layout import split_uri
from ..model import SourceInput
from ..python.reader import RawFile
from ..sources import opener_for


@dataclass(frozen=True)
class S3ClientSpec:
    """Enough to build an S3 client in a task (boto3 clients cannot be pickled).

    On AWS the task uses its own credentials (the Glue job role), which the SDK refreshes; against
    a custom endpoint (the embedded emulator) the driver's credentials travel with the spec.
    """

    region: Optional[str]
    endpoint_url: Optional[str]
    credentials: Optional[Tuple[str, str, Optional[str]]] = None

    @classmethod
    def of(cls, client: Any) -> S3ClientSpec:
        endpoint = client.meta.endpoint_url
        credentials = None
        if endpoint and "amazonaws.com" not in endpoint:
            signer = getattr(client, "_request_signer", None)
            found = getattr(signer, "_credentials", None)
            if found is not None:
                frozen = found.get_frozen_credentials()
                credentials = (frozen.access_key, frozen.secret_key, frozen.token)
        else:
            endpoint = None
        return cls(client.meta.region_name, endpoint, credentials)

    def client(self) -> Any:
        import boto3

        from ...aws import RETRY_CONFIG

        kwargs: Dict[str, Any] = {"region_name": self.region, "endpoint_url": self.endpoint_url, "config": RETRY_CONFIG}
        if self.credentials:
            kwargs.update(
                aws_access_key_id=self.credentials[0],
                aws_secret_access_key=self.credentials[1],
                aws_session_token=self.credentials[2],
            )
        return boto3.client("s3", **kwargs)


@dataclass(frozen=True)
class S3FilesystemSpec:
    """A pyarrow S3 filesystem rebuilt in each task with the task's own credentials.

    The engine job's filesystem carries the driver's credentials, frozen when it was made; a long
    Spark job would outlive them. On AWS the tasks' SDK finds and refreshes the job role's own.
    """

    options: Tuple[Tuple[str, Any], ...]

    @classmethod
    def portable(cls, filesystem: Any) -> Any:
        """``filesystem`` as tasks should get it: a spec for AWS S3, else the filesystem itself."""
        from pyarrow import fs

        if not isinstance(filesystem, fs.S3FileSystem):
            return filesystem
        try:
            options = dict(filesystem.__reduce__()[1][0])
        except (AttributeError, IndexError, TypeError):
            return filesystem
        if options.get("endpoint_override"):
            return filesystem  # a custom endpoint (the embedded emulator): its credentials travel along
        for secret in ("access_key", "secret_key", "session_token"):
            options.pop(secret, None)
        spec = cls(tuple(sorted(options.items())))
        try:
            spec.build()
        except (TypeError, ValueError, AttributeError):
            return filesystem
        return spec

    def build(self) -> Any:
        from pyarrow import fs

        return fs.S3FileSystem._reconstruct(dict(self.options))


def task_filesystem(filesystem: Any) -> Any:
    return filesystem.build() if isinstance(filesystem, S3FilesystemSpec) else filesystem


@dataclass
class RawAccess:
    """How a task opens raw objects: a pyarrow filesystem (local paths) and/or an S3 client spec."""

    filesystem: Any = None
    s3: Optional[S3ClientSpec] = None
    _client: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> Dict[str, Any]:
        return {"filesystem": self.filesystem, "s3": self.s3, "_client": None}

    def raw_file(self, source: SourceInput, dataset: str) -> RawFile:
        client = None
        if split_uri(source.uri)[0] == "s3" and self.s3 is not None:
            if self._client is None:
                self._client = self.s3.client()
            client = self._client
        filesystem = task_filesystem(self.filesystem)
        return RawFile(opener_for(source.uri, source.version, dataset, filesystem, client), source.uri, dataset)
