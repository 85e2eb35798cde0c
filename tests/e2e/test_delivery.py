"""``lakeport upload`` deliveries: nothing is ingested before the marker, then one run for the whole delivery."""

from __future__ import annotations

from pathlib import Path

from lakeport.delivery import DeliveredObject, DeliveryMarker, marker_key
from lakeport.upload import Uploader, UploadSettings

from .flow import EXAMPLES, Flow

ORDERS = EXAMPLES / "raw" / "sales" / "orders"


def test_a_delivery_waits_for_its_marker_then_is_ingested_by_one_run(flow: Flow, tmp_path: Path) -> None:
    contract = flow.apply_example("orders")
    s3 = flow.aws.client("s3")
    bucket = flow.resources.raw_bucket
    uploader = Uploader(s3, UploadSettings(concurrency=2))

    # a delivery cut off after its first file: the file is there, the marker is not
    folder = f"{contract.source.prefix}delivery=2024-01-03/"
    partial = uploader.upload([ORDERS / "orders-2024-01-02.csv"], bucket, folder, marker=False, contract=contract)
    flow.wait()
    assert [o.key for o in partial.uploaded] == [f"{folder}orders-2024-01-02.csv"]
    assert flow.executions() == [] and flow.ledger_items() == [], "half a delivery is never ingested"

    # running the upload again sends only what is missing, then writes the marker
    done = uploader.upload([ORDERS], bucket, contract.source.prefix, delivery_id="2024-01-03", contract=contract)
    flow.wait()

    assert [o.key for o in done.skipped] == [f"{folder}orders-2024-01-02.csv"]
    assert [o.key for o in done.uploaded] == [f"{folder}orders-2024-01-03.csv"]
    assert (done.marker_key, done.marker_state) == (marker_key(folder), "written")
    [execution] = flow.executions()
    assert execution["status"] == "SUCCEEDED"
    [run] = flow.run_records("sales.orders")
    assert (run.files, run.rows_read, run.rows_written, run.rows_quarantined) == (2, 21, 13, 8)
    assert sorted(run.file_uris) == sorted(f"s3://{bucket}/{o.key}" for o in done.objects)
    # the marker lists exactly the versions that were ingested
    for listed in done.objects:
        head = s3.head_object(Bucket=bucket, Key=listed.key)
        assert listed.version_id == head["VersionId"]


def test_a_marker_listing_a_missing_object_ingests_nothing_and_is_reported(flow: Flow) -> None:
    contract = flow.apply_example("orders")
    folder = f"{contract.source.prefix}delivery=broken/"
    present = flow.put(f"{folder}a.csv", (ORDERS / "orders-2024-01-02.csv").read_bytes())
    marker = DeliveryMarker(
        delivery_id="broken",
        folder=folder,
        objects=[
            DeliveredObject(key=present.key, size=present.size, sha256="0" * 64, version_id=present.version_id),
            DeliveredObject(key=f"{folder}b.csv", size=10, sha256="1" * 64),
        ],
    )
    flow.put(marker.key, marker.to_json())

    flow.wait()

    assert flow.executions() == [] and flow.ledger_items() == []
    assert flow.metric_sum("IncompleteDeliveries") == 1
