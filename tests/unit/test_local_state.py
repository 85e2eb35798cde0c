"""The local state folder's guards and the request classification that decides what waits for the disk."""

from __future__ import annotations

import json
from pathlib import Path

import moto
import pytest

from lakeport.local.state import LocalState, StateDirError, is_write, service_of


def _signed(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/{service}/aws4_request,"
        " SignedHeaders=host;x-amz-date, Signature=0"
    )


@pytest.mark.parametrize(
    ("environ", "service", "write"),
    [
        ({"HTTP_AUTHORIZATION": _signed("s3"), "REQUEST_METHOD": "PUT"}, "s3", True),
        ({"HTTP_AUTHORIZATION": _signed("s3"), "REQUEST_METHOD": "DELETE"}, "s3", True),
        ({"HTTP_AUTHORIZATION": _signed("s3"), "REQUEST_METHOD": "GET"}, "s3", False),
        ({"HTTP_AUTHORIZATION": _signed("s3"), "REQUEST_METHOD": "HEAD"}, "s3", False),
        (
            {"HTTP_AUTHORIZATION": _signed("dynamodb"), "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.UpdateItem"},
            "dynamodb",
            True,
        ),
        (
            {"HTTP_AUTHORIZATION": _signed("dynamodb"), "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"},
            "dynamodb",
            False,
        ),
        (
            {"HTTP_AUTHORIZATION": _signed("dynamodb"), "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"},
            "dynamodb",
            True,
        ),
        ({"HTTP_AUTHORIZATION": _signed("glue"), "HTTP_X_AMZ_TARGET": "AWSGlue.UpdateTable"}, "glue", True),
        ({"HTTP_AUTHORIZATION": _signed("glue"), "HTTP_X_AMZ_TARGET": "AWSGlue.GetTables"}, "glue", False),
        # a presigned URL carries its scope in the query string
        (
            {
                "QUERY_STRING": "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=testing%2F20261207%2Fus-east-1%2Fs3"
                "%2Faws4_request&X-Amz-Signature=0",
                "REQUEST_METHOD": "PUT",
            },
            "s3",
            True,
        ),
    ],
)
def test_writes_to_kept_services_are_told_from_reads(environ: dict, service: str, write: bool) -> None:  # type: ignore[type-arg]
    assert service_of(environ) == service
    assert is_write(service, environ) is write


def test_an_unsigned_request_belongs_to_no_kept_service() -> None:
    assert service_of({"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset"}) is None


def test_one_folder_serves_one_stack_at_a_time(tmp_path: Path) -> None:
    first = LocalState(tmp_path / "state")
    first.open()
    try:
        with pytest.raises(StateDirError, match="another local stack is using the state in") as refused:
            LocalState(tmp_path / "state").open()
        assert "--state-dir" in (refused.value.hint or "")
    finally:
        first.close()
    again = LocalState(tmp_path / "state")
    again.open()  # free once the first one closed
    again.close()


def test_a_folder_written_by_another_moto_is_refused_with_both_versions(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"format": 1, "moto": "4.0.0"}), encoding="utf-8")
    with pytest.raises(StateDirError) as refused:
        LocalState(folder).open()
    assert "moto 4.0.0" in str(refused.value) and f"moto {moto.__version__}" in str(refused.value)
    assert "--ephemeral" in (refused.value.hint or "")
    with pytest.raises(StateDirError, match=r"moto 4\.0\.0"):  # the refusal released the lock: not "in use"
        LocalState(folder).open()


def test_a_damaged_snapshot_names_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (folder / "state.json").write_text(json.dumps({"format": 1, "moto": moto.__version__}), encoding="utf-8")
    (folder / "dynamodb.pickle").write_bytes(b"not a pickle")
    with pytest.raises(StateDirError, match=r"cannot be read: dynamodb\.pickle"):
        LocalState(folder).open()
    with pytest.raises(StateDirError, match="cannot be read"):  # the lock was released: not "in use"
        LocalState(folder).open()
