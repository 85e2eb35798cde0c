"""The on-premise side: deliver local files to a dataset's raw prefix, verified, resumable, complete.

* **Checksums end to end.** Each file's sha256 is computed locally first. The upload asks S3 for
  SHA-256 checksums (``ChecksumAlgorithm=SHA256``): S3 checks every part against the checksum the
  SDK computed from the bytes it sent and stores the object's checksum — the full-object SHA-256
  for a single-part upload, the *composite* one (SHA-256 of the parts' SHA-256s) for a multipart
  upload. After the upload, lakeport reads that checksum back and compares it with the one it
  computes from the local file with the same part size: equal means S3 holds exactly the local
  bytes. The hex sha256 of the whole file also goes into the object's metadata
  (``x-amz-meta-lakeport-sha256``), for resumption and for the dispatcher's delivery check.
* **Multipart** above ``multipart_threshold`` (boto3's transfer manager, parts of ``part_size``,
  several parts and files at once).
* **Resumption.** An object already at its key with the same size and sha256 is not sent again, so
  running an interrupted upload again sends only what is missing.
* **Completeness.** By default the files go to a delivery folder ``<prefix>delivery=<id>/`` and
  the marker ``.lakeport-complete`` listing every object is written last (:mod:`lakeport.delivery`).
  The delivery id defaults to a digest of the files' names and contents: the same files give the
  same folder, which is what makes a second run a resumption.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

from botocore.exceptions import ClientError

from .aws import error_code, translate
from .clock import iso
from .delivery import (
    SHA256_METADATA,
    DeliveredObject,
    DeliveryMarker,
    DeliveryMarkerError,
    delivery_folder_name,
    marker_key,
)
from .errors import ConfigurationError, TerminalError
from .s3objects import is_data_key

if TYPE_CHECKING:  # the contract models take a tenth of a second to import
    from .contract import Contract

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
DEFAULT_MULTIPART_THRESHOLD = 8 * MIB
DEFAULT_CONCURRENCY = 4
_READ_CHUNK = MIB


class UploadError(TerminalError):
    """A file could not be delivered as it is on disk."""


@dataclass(frozen=True)
class UploadSettings:
    part_size: int = DEFAULT_PART_SIZE
    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    concurrency: int = DEFAULT_CONCURRENCY

    def transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.part_size,
            max_concurrency=self.concurrency,
            use_threads=True,
        )

    def part_size_for(self, size: int) -> Optional[int]:
        """The part size the transfer manager uses for a file of ``size`` bytes; None below the threshold."""
        if size < self.multipart_threshold:
            return None
        from s3transfer.utils import ChunksizeAdjuster

        return int(ChunksizeAdjuster().adjust_chunksize(self.part_size, size))


@dataclass(frozen=True)
class LocalFile:
    path: Path
    relative: str
    size: int
    sha256: str
    checksum: str
    """The ``ChecksumSHA256`` S3 should report: full-object, or composite (without the ``-N``)."""


@dataclass
class UploadResult:
    bucket: str
    folder: str
    delivery_id: Optional[str]
    uploaded: List[DeliveredObject] = field(default_factory=list)
    skipped: List[DeliveredObject] = field(default_factory=list)
    marker_key: Optional[str] = None
    marker_state: str = "none"
    """``written``; ``rewritten`` (the delivery was already complete with the same content); ``none``."""
    bytes_uploaded: int = 0
    seconds: float = 0.0

    @property
    def objects(self) -> List[DeliveredObject]:
        return sorted(self.uploaded + self.skipped, key=lambda o: o.key)


class UploadProgress:
    """Progress callbacks; the CLI draws a progress bar with them. Called from several threads."""

    def begin(self, label: str, files: int, total_bytes: int) -> None:
        """Before the first byte: how much there is to deliver."""

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more are done (sent, or found already there)."""

    def file_done(self, key: str, skipped: bool) -> None:
        """One object is verified in S3 (``skipped``: it was there already)."""

    def end(self) -> None:
        """After the marker."""


# -- local side ------------------------------------------------------------------------------------


def _hidden(part: str) -> bool:
    return part.startswith(".") or part.startswith("_")


def collect_files(paths: Sequence[Path]) -> List[Tuple[Path, str]]:
    """``(path, relative name)`` for each file: a folder contributes its files (names relative to it,
    hidden and ``_``-prefixed ones left out, as the ingest ignores them); a file its own name."""
    found: List[Tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                if child.is_file() and not any(_hidden(p) for p in relative.parts):
                    found.append((child, relative.as_posix()))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise ConfigurationError(f"{path} is neither a file nor a folder", hint="check the path")
    names = [relative for _, relative in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(
            f"several files would land at the same key: {', '.join(duplicates)}",
            hint="upload them in separate deliveries, or from one folder",
        )
    if not found:
        raise ConfigurationError(f"no files to upload in {', '.join(str(p) for p in paths)}")
    return sorted(found, key=lambda item: item[1])


def fingerprint(path: Path, relative: str, settings: UploadSettings) -> LocalFile:
    """Read the file once: its sha256 and the checksum S3 will report for it."""
    size = path.stat().st_size
    part_size = settings.part_size_for(size)
    whole = hashlib.sha256()
    part_digests: List[bytes] = []
    part = hashlib.sha256()
    in_part = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(_READ_CHUNK if part_size is None else min(_READ_CHUNK, part_size - in_part))
            if not chunk:
                break
            whole.update(chunk)
            if part_size is not None:
                part.update(chunk)
                in_part += len(chunk)
                if in_part == part_size:
                    part_digests.append(part.digest())
                    part, in_part = hashlib.sha256(), 0
    if part_size is None:
        checksum = base64.b64encode(whole.digest()).decode("ascii")
    else:
        if in_part:
            part_digests.append(part.digest())
        checksum = base64.b64encode(hashlib.sha256(b"".join(part_digests)).digest()).decode("ascii")
    return LocalFile(path=path, relative=relative, size=size, sha256=whole.hexdigest(), checksum=checksum)


def default_delivery_id(files: Sequence[LocalFile]) -> str:
    """16 hex digits of a digest of the files' relative names and contents."""
    digest = hashlib.sha256()
    for item in sorted(files, key=lambda f: f.relative):
        digest.update(f"{item.relative}\x00{item.sha256}\n".encode())
    return digest.hexdigest()[:16]


def _checksum_of(answer: Any) -> Optional[str]:
    value = answer.get("ChecksumSHA256")
    return str(value).split("-", 1)[0] if value else None


# -- the delivery ------------------------------------------------------------------------------------


class Uploader:
    """Delivers local files into one bucket through an S3 client."""

    def __init__(
        self,
        s3_client: Any,
        settings: Optional[UploadSettings] = None,
        progress: Optional[UploadProgress] = None,
    ) -> None:
        self.s3 = s3_client
        self.settings = settings or UploadSettings()
        self.progress = progress or UploadProgress()

    def upload(
        self,
        paths: Sequence[Path],
        bucket: str,
        prefix: str,
        *,
        marker: bool = True,
        delivery_id: Optional[str] = None,
        contract: Optional[Contract] = None,
        label: Optional[str] = None,
    ) -> UploadResult:
        """Deliver ``paths`` under ``prefix`` (in a delivery folder with a marker, unless ``marker`` is False)."""
        started = time.monotonic()
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        files = [fingerprint(path, relative, self.settings) for path, relative in collect_files(paths)]
        if marker:
            delivery_id = delivery_id or default_delivery_id(files)
            folder = f"{prefix}{delivery_folder_name(delivery_id)}/"
        else:
            folder = prefix
        targets = [(item, folder + item.relative) for item in files]
        if contract is not None:
            refused = [key for _, key in targets if not is_data_key(key, contract)]
            if refused:
                suffixes = ", ".join(contract.source.suffixes) or "(any)"
                raise ConfigurationError(
                    f"dataset {contract.dataset} would ignore {', '.join(refused)}"
                    f" (it takes files ending in {suffixes})",
                    hint="leave those files out, or fix the contract's source.suffixes",
                )
        result = UploadResult(bucket=bucket, folder=folder, delivery_id=delivery_id if marker else None)
        self.progress.begin(label or f"s3://{bucket}/{folder}", len(targets), sum(f.size for f in files))
        lock = threading.Lock()

        def deliver(target: Tuple[LocalFile, str]) -> None:
            item, key = target
            delivered, skipped = self._deliver(bucket, key, item)
            with lock:
                (result.skipped if skipped else result.uploaded).append(delivered)
                if not skipped:
                    result.bytes_uploaded += item.size
            self.progress.file_done(key, skipped)

        with ThreadPoolExecutor(max_workers=max(1, self.settings.concurrency)) as pool:
            list(pool.map(deliver, targets))
        if marker:
            assert delivery_id is not None
            result.marker_key = marker_key(folder)
            result.marker_state = self._write_marker(
                bucket,
                DeliveryMarker(
                    delivery_id=delivery_id,
                    folder=folder,
                    objects=result.objects,
                    dataset=contract.dataset if contract is not None else None,
                    created_at=iso(),
                ),
            )
        self.progress.end()
        result.seconds = time.monotonic() - started
        return result

    def _head(self, bucket: str, key: str) -> Optional[Any]:
        try:
            return self.s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise translate(exc, f"checking s3://{bucket}/{key}") from exc

    @staticmethod
    def _delivered(key: str, item: LocalFile, answer: Any) -> DeliveredObject:
        return DeliveredObject(
            key=key,
            size=item.size,
            sha256=item.sha256,
            version_id=answer.get("VersionId"),
            etag=str(answer.get("ETag", "")).strip('"') or None,
        )

    def _deliver(self, bucket: str, key: str, item: LocalFile) -> Tuple[DeliveredObject, bool]:
        existing = self._head(bucket, key)
        if (
            existing is not None
            and int(existing.get("ContentLength", -1)) == item.size
            and (existing.get("Metadata") or {}).get(SHA256_METADATA) == item.sha256
            and _checksum_of(existing) in (None, item.checksum)
        ):
            self.progress.advance(item.size)
            return self._delivered(key, item, existing), True
        callback: Callable[[int], None] = self.progress.advance
        try:
            self.s3.upload_file(
                str(item.path),
                bucket,
                key,
                ExtraArgs={"ChecksumAlgorithm": "SHA256", "Metadata": {SHA256_METADATA: item.sha256}},
                Config=self.settings.transfer_config(),
                Callback=callback,
            )
        except ClientError as exc:
            raise translate(exc, f"uploading {item.path} to s3://{bucket}/{key}") from exc
        stored = self._head(bucket, key)
        if stored is None:
            raise UploadError(f"s3://{bucket}/{key} is not there after its upload", hint="upload again")
        checksum = _checksum_of(stored)
        problems = []
        if int(stored.get("ContentLength", -1)) != item.size:
            problems.append(f"{stored.get('ContentLength')} bytes stored, {item.size} on disk")
        if checksum is not None and checksum != item.checksum:
            problems.append(f"S3 reports SHA-256 {checksum}, the local file gives {item.checksum}")
        if problems:
            raise UploadError(
                f"s3://{bucket}/{key} differs from {item.path}: {'; '.join(problems)}",
                hint="the file may have changed while it was sent; upload again",
            )
        return self._delivered(key, item, stored), False

    def _write_marker(self, bucket: str, marker: DeliveryMarker) -> str:
        """Write the marker (again, if it is there: its event lets the dispatcher look once more;
        objects already ingested are skipped by the ledger)."""
        try:
            body = self.s3.get_object(Bucket=bucket, Key=marker.key)["Body"].read()
            existing: Optional[DeliveryMarker] = DeliveryMarker.from_json(body.decode("utf-8"), marker.key)
        except ClientError as exc:
            if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                raise translate(exc, f"reading s3://{bucket}/{marker.key}") from exc
            existing = None
        except DeliveryMarkerError:
            existing = None
        state = "rewritten" if existing is not None and existing.same_content(marker) else "written"
        try:
            self.s3.put_object(
                Bucket=bucket,
                Key=marker.key,
                Body=marker.to_json().encode("utf-8"),
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
            )
        except ClientError as exc:
            raise translate(exc, f"writing the delivery marker s3://{bucket}/{marker.key}") from exc
        return state


__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MULTIPART_THRESHOLD",
    "DEFAULT_PART_SIZE",
    "LocalFile",
    "UploadError",
    "UploadProgress",
    "UploadResult",
    "UploadSettings",
    "Uploader",
    "collect_files",
    "default_delivery_id",
    "fingerprint",
]
