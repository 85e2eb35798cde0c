"""Pure pieces of local mode: wildcard matching, event encoding, Glue arguments and errors, SQS batches."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest

from lakeport.errors import ConfigurationError, DatasetBusyError, InputFileError
from lakeport.local.glue_runner import failure_message, resolve_entry, run_arguments
from lakeport.local.lambdas import function_name_of
from lakeport.local.patches import event_key, json_safe, string_matches
from lakeport.local.sqs_poller import failed_message_ids, sqs_record


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("[transient] DatasetBusyError: locked", "*[transient]*", True),
        ("InputFileError: the header is wrong", "*[transient]*", False),
        ("transient", "*[transient]*", False),
        ("log-2024.csv", "log-*.csv", True),
        ("log-2024.txt", "log-*.csv", False),
        ("a?c", "a?c", True),
        ("abc", "a?c", False),
        ("a*c", "a\\*c", True),
        ("abc", "a\\*c", False),
        ("", "*", True),
        ("line one\nline two", "*two", True),
    ],
)
def test_string_matches_follows_the_aws_rules(text: str, pattern: str, expected: bool) -> None:
    assert string_matches(text, pattern) is expected


def test_string_matches_is_false_for_non_text() -> None:
    assert string_matches(3, "*") is False


def test_timestamps_become_epoch_milliseconds() -> None:
    moment = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
    naive = moment.replace(tzinfo=None)

    assert json_safe({"a": [moment], "b": naive, "c": "x"}) == {
        "a": [1704164645678],
        "b": 1704164645678,
        "c": "x",
    }


@pytest.mark.parametrize("key", ["in/a.csv", "sales/2024 01/a+b=c.csv", "x/é%.csv"])
def test_event_keys_decode_back_with_unquote_plus(key: str) -> None:
    assert "/" in event_key(key)
    assert " " not in event_key(key)
    assert urllib.parse.unquote_plus(event_key(key)) == key


def test_run_arguments_merge_like_glue() -> None:
    merged = run_arguments(
        {"--a": "default", "--b": "default", "--locked": "job"},
        {"--b": "run", "--c": "run", "--locked": "run"},
        {"--locked": "job"},
    )
    assert merged == {"--a": "default", "--b": "run", "--c": "run", "--locked": "job"}


def test_failure_message_marks_transient_errors() -> None:
    assert failure_message(DatasetBusyError("dataset a.b is locked", hint="wait")) == (
        "[transient] DatasetBusyError: dataset a.b is locked (hint: wait)"
    )
    terminal = failure_message(InputFileError("a.b", "in/a.csv", "bad header"))
    assert terminal.startswith("InputFileError: dataset a.b: in/a.csv: bad header")
    assert failure_message(ValueError("line one\nline two")) == "ValueError: line one line two"


def test_entries_can_be_named_as_text() -> None:
    assert resolve_entry("urllib.parse:unquote_plus") is urllib.parse.unquote_plus
    with pytest.raises(ConfigurationError, match="cannot load"):
        resolve_entry("urllib.parse:missing")
    with pytest.raises(ConfigurationError, match="neither"):
        resolve_entry("no-colon")


def test_function_names_come_out_of_arns() -> None:
    assert function_name_of("arn:aws:lambda:us-east-1:123456789012:function:fn:live") == "fn"
    assert function_name_of("fn") == "fn"


def test_sqs_records_have_the_lambda_event_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "1"},
        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "x"}},
    }
    record = sqs_record(message, "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")

    assert record["messageId"] == "m1"
    assert record["receiptHandle"] == "r1"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "x"


@pytest.mark.parametrize(
    ("response", "kept"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": "b"}, {"a", "b"}),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(response: object, kept: set) -> None:
    assert failed_message_ids(response, {"a", "b"}) == kept
