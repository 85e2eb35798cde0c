"""What the dispatcher reads: S3 events in both shapes, delivery folders, and the run ids it derives."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from lakeport.delivery import DeliveredObject, DeliveryMarker, DeliveryMarkerError, delivery_folder, is_marker_key
from lakeport.errors import ConfigurationError
from lakeport.ledger.files import SourceObject
from lakeport.orchestration.dispatcher import dispatch_run_id
from lakeport.orchestration.environment import resources_from_environment, retry_wait_seconds
from lakeport.orchestration.events import MalformedEventError, parse_record

EVENTBRIDGE = {
    "version": "0",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "time": "2024-06-01T12:00:05Z",
    "detail": {
        "bucket": {"name": "raw"},
        "object": {"key": "sales/orders/2024+06/a+b%2Bc.csv", "size": 42, "etag": "abc", "version-id": "v1"},
    },
}


def record(body: object, message_id: str = "m1") -> dict:
    return {"messageId": message_id, "body": body if isinstance(body, str) else json.dumps(body)}


def test_an_eventbridge_object_created_event_is_read_with_its_key_decoded() -> None:
    [event] = parse_record(record(EVENTBRIDGE))
    assert (event.bucket, event.key, event.size, event.etag, event.version_id) == (
        "raw",
        "sales/orders/2024 06/a b+c.csv",
        42,
        "abc",
        "v1",
    )
    assert event.time == datetime(2024, 6, 1, 12, 0, 5, tzinfo=timezone.utc)
    assert event.source().ledger_key == ("raw/sales/orders/2024 06/a b+c.csv", "v1")


def test_the_emulators_etag_spelling_and_an_s3_notification_are_understood() -> None:
    emulated = json.loads(json.dumps(EVENTBRIDGE))
    emulated["detail"]["object"]["eTag"] = emulated["detail"]["object"].pop("etag")
    assert parse_record(record(emulated))[0].etag == "abc"
    notification = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2024-06-01T12:00:05.000Z",
                "s3": {"bucket": {"name": "raw"}, "object": {"key": "a%3Db.csv", "size": 1, "eTag": '"e"'}},
            },
            {"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "raw"}, "object": {"key": "x"}}},
        ]
    }
    [event] = parse_record(record(notification))
    assert (event.key, event.etag, event.version_id) == ("a=b.csv", "e", None)


@pytest.mark.parametrize(
    "body",
    [{"Event": "s3:TestEvent"}, {**EVENTBRIDGE, "detail-type": "Object Deleted"}],
    ids=["s3-test-event", "not-object-created"],
)
def test_events_that_announce_no_new_object_yield_nothing(body: dict) -> None:
    assert parse_record(record(body)) == []


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", json.dumps({"hello": "world"}), json.dumps({**EVENTBRIDGE, "detail": {"bucket": {}}})],
    ids=["not-json", "not-an-object", "unknown-shape", "no-bucket"],
)
def test_a_malformed_message_names_itself(body: str) -> None:
    with pytest.raises(MalformedEventError, match="message m7"):
        parse_record(record(body, "m7"))


def test_a_delivery_folder_is_the_innermost_delivery_segment_below_the_dataset_prefix() -> None:
    prefix = "sales/orders/"
    assert delivery_folder("sales/orders/delivery=42/day/a.csv", prefix) == "sales/orders/delivery=42/"
    assert delivery_folder("sales/orders/delivery=1/delivery=2/a.csv", prefix) == "sales/orders/delivery=1/delivery=2/"
    assert delivery_folder("sales/orders/a.csv", prefix) is None
    assert delivery_folder("sales/orders/delivery=/a.csv", prefix) is None
    assert delivery_folder("sales/orders/delivery=42.csv", prefix) is None  # a file, not a folder
    assert delivery_folder("delivery=1/sales/orders/a.csv", prefix) is None  # above the dataset's prefix
    assert is_marker_key("sales/orders/delivery=42/.lakeport-complete")
    assert not is_marker_key("sales/orders/delivery=42/x.lakeport-complete")


def test_a_marker_round_trips_and_a_foreign_document_is_refused() -> None:
    marker = DeliveryMarker("42", "p/delivery=42/", [DeliveredObject("p/delivery=42/a.csv", 3, "ab", "v1", "e")])
    again = DeliveryMarker.from_json(marker.to_json(), "here")
    assert again == marker and again.key == "p/delivery=42/.lakeport-complete"
    with pytest.raises(DeliveryMarkerError, match="here is not a lakeport completeness marker"):
        DeliveryMarker.from_json(json.dumps({"objects": []}), "here")


def test_the_run_id_depends_on_the_objects_not_on_their_order_and_names_an_execution() -> None:
    a = SourceObject("raw", "sales/orders/a.csv", "v1", "e1", 10)
    b = SourceObject("raw", "sales/orders/b.csv", "v7", "e2", 20)
    moment = datetime(2024, 6, 1, 12, 0, 5, tzinfo=timezone.utc)
    run_id = dispatch_run_id("sales.orders", [a, b], moment)
    assert run_id == dispatch_run_id("sales.orders", [b, a], moment)
    assert run_id.startswith("20240601T120005Z-") and len(run_id) <= 80
    assert run_id != dispatch_run_id("sales.orders", [a], moment)
    assert run_id != dispatch_run_id("sales.orders", [a, SourceObject("raw", b.key, "v8", "e3", 20)], moment)


def test_the_handlers_read_names_and_the_retry_wait_from_their_environment() -> None:
    env = {"LAKEPORT_NAME_PREFIX": "acme-lake", "LAKEPORT_ACCOUNT_ID": "111122223333", "AWS_REGION": "eu-west-1"}
    resources = resources_from_environment(env)
    assert (resources.raw_bucket, resources.files_table) == ("acme-lake-111122223333-raw", "acme-lake-files")
    assert resources_from_environment({**env, "LAKEPORT_RAW_BUCKET": "landing"}).raw_bucket == "landing"
    assert retry_wait_seconds({}) == 15 and retry_wait_seconds({"LAKEPORT_RETRY_WAIT_SECONDS": "1"}) == 1
    with pytest.raises(ConfigurationError, match="LAKEPORT_RETRY_WAIT_SECONDS"):
        retry_wait_seconds({"LAKEPORT_RETRY_WAIT_SECONDS": "soon"})
