"""``lakeport upload`` against the emulator: multipart with SHA-256 checksums, verified, resumable, marked complete."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from lakeport import upload as upload_module
from lakeport.delivery import SHA256_METADATA, DeliveryMarker
from lakeport.upload import Uploader, UploadError, UploadProgress, UploadSettings

BUCKET = "landing-zone"
MIB = 1024 * 1024


class Recorder(UploadProgress):
    def __init__(self) -> None:
        self.total = 0
        self.done = 0
        self.files: list = []

    def begin(self, label: str, files: int, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, nbytes: int) -> None:
        self.done += nbytes

    def file_done(self, key: str, skipped: bool) -> None:
        self.files.append((key, skipped))


@pytest.fixture
def s3(aws):  # type: ignore[no-untyped-def]
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return client


def test_a_folder_is_delivered_in_parts_verified_and_marked_complete(s3, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "export").mkdir()
    big = tmp_path / "export" / "big.csv"
    big.write_bytes(os.urandom(12 * MIB + 7))
    (tmp_path / "export" / "small.csv").write_text("a,b\n1,2\n")
    progress = Recorder()
    settings = UploadSettings(part_size=5 * MIB, multipart_threshold=5 * MIB, concurrency=2)

    result = Uploader(s3, settings, progress).upload([tmp_path / "export"], BUCKET, "sales/orders", delivery_id="d1")

    folder = "sales/orders/delivery=d1/"
    assert result.folder == folder and result.marker_state == "written"
    assert sorted(o.key for o in result.uploaded) == [f"{folder}big.csv", f"{folder}small.csv"]
    assert progress.done == progress.total == big.stat().st_size + 8
    head = s3.head_object(Bucket=BUCKET, Key=f"{folder}big.csv", ChecksumMode="ENABLED")
    assert head["ETag"].strip('"').endswith("-3"), "sent in three parts"
    assert head["Metadata"][SHA256_METADATA] == next(o.sha256 for o in result.uploaded if o.key.endswith("big.csv"))
    marker = DeliveryMarker.from_json(
        s3.get_object(Bucket=BUCKET, Key=f"{folder}.lakeport-complete")["Body"].read().decode(), "marker"
    )
    assert [(o.key, o.size, o.version_id) for o in marker.objects] == [
        (o.key, o.size, o.version_id) for o in result.objects
    ]

    again = Uploader(s3, settings).upload([tmp_path / "export"], BUCKET, "sales/orders", delivery_id="d1")

    assert again.uploaded == [] and len(again.skipped) == 2 and again.marker_state == "rewritten"


def test_an_object_that_differs_from_the_local_file_after_upload_is_refused(s3, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "a.csv"
    source.write_text("a,b\n1,2\n")
    real = upload_module.fingerprint

    def stale(path, relative, settings):  # type: ignore[no-untyped-def]
        # as if the file changed between hashing and sending
        return dataclasses.replace(real(path, relative, settings), checksum="AAAA", sha256="0" * 64)

    monkeypatch.setattr(upload_module, "fingerprint", stale)

    with pytest.raises(UploadError, match=r"differs from .*a\.csv: S3 reports SHA-256"):
        Uploader(s3).upload([source], BUCKET, "sales/orders/", delivery_id="d2")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert listed == ["sales/orders/delivery=d2/a.csv"], "the file is there, the marker is not: never ingested"
