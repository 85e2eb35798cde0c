"""Opening one raw object: the exact version that was claimed, whatever its key looks like.

S3 objects are read with the SDK (``GetObject`` with the claimed ``VersionId``, or ``IfMatch`` on
the claimed ETag when the bucket is not versioned), not through pyarrow's S3 filesystem: that one
normalises keys (``a/../b`` becomes ``b``, ``a//b`` is refused), which S3 treats literally, and it
cannot read a given version. Local paths (tests, benchmarks) use a pyarrow filesystem.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional

from ..errors import InputFileError
from .layout import split_uri


class RawOpener:
    """How to get the bytes of one raw object."""

    def open(self) -> Any:
        """A binary stream with ``read(n)`` from the start of the object."""
        raise NotImplementedError

    @contextmanager
    def local_copy(self) -> Iterator[Any]:
        """Something pyarrow can read with random access (Parquet needs its footer)."""
        raise NotImplementedError
        yield  # pragma: no cover


class FilesystemOpener(RawOpener):
    def __init__(self, filesystem: Any, path: str) -> None:
        self.filesystem = filesystem
        self.path = path

    def open(self) -> Any:
        # compression=None: pyarrow would otherwise decompress by file extension behind our back
        return self.filesystem.open_input_stream(self.path, compression=None)

    @contextmanager
    def local_copy(self) -> Iterator[Any]:
        with self.filesystem.open_input_file(self.path) as handle:
            yield handle


class S3ObjectOpener(RawOpener):
    def __init__(self, s3_client: Any, bucket: str, key: str, version: str, uri: str, dataset: str) -> None:
        self.s3 = s3_client
        self.bucket = bucket
        self.key = key
        self.version = version
        self.uri = uri
        self.dataset = dataset

    def _request(self) -> Dict[str, Any]:
        request: Dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if self.version.startswith("etag:"):
            request["IfMatch"] = self.version[len("etag:") :]
        elif self.version:
            request["VersionId"] = self.version
        return request

    def open(self) -> Any:
        from botocore.exceptions import ClientError

        try:
            return self.s3.get_object(**self._request())["Body"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("PreconditionFailed", "NoSuchKey", "NoSuchVersion", "InvalidArgument"):
                raise InputFileError(
                    self.dataset,
                    self.uri,
                    f"the announced version of the object is gone or was replaced ({code})",
                    hint="a replaced object is ingested by its own run; deliver it again if it was deleted",
                ) from None
            from ..aws import translate

            raise translate(exc, f"reading {self.uri}") from exc

    @contextmanager
    def local_copy(self) -> Iterator[Any]:
        handle, path = tempfile.mkstemp(prefix="lakeport-raw-", suffix=".parquet")
        try:
            body = self.open()
            with os.fdopen(handle, "wb") as sink:
                shutil.copyfileobj(body, sink, 8 << 20)
            yield path
        finally:
            os.unlink(path)


def opener_for(
    uri: str, version: str, dataset: str, filesystem: Any = None, s3_client: Optional[Any] = None
) -> RawOpener:
    scheme, path = split_uri(uri)
    if scheme == "s3" and s3_client is not None:
        bucket, _, key = path.partition("/")
        return S3ObjectOpener(s3_client, bucket, key, version, uri, dataset)
    if filesystem is None:
        raise ValueError(f"no way to read {uri}: give a pyarrow filesystem or an S3 client")
    return FilesystemOpener(filesystem, path)
