"""The three DynamoDB tables as ``CreateTable`` requests — the same keys and indexes as
``terraform/dynamodb.tf``, for the embedded emulator and for tests (on AWS, Terraform creates them)."""

from __future__ import annotations

from typing import Any, Dict, List

from botocore.exceptions import ClientError

from lakeport.aws import error_code, translate
from lakeport.resources import Resources


def _keys(hash_key: str, range_key: str) -> List[Dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def table_definitions(resources: Resources) -> List[Dict[str, Any]]:
    """``CreateTable`` arguments of the ``datasets``, ``files`` and ``runs`` tables."""
    return [
        {
            "TableName": resources.datasets_table,
            "KeySchema": _keys("dataset", "version"),
            "AttributeDefinitions": [
                {"AttributeName": "dataset", "AttributeType": "S"},
                {"AttributeName": "version", "AttributeType": "N"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
        {
            "TableName": resources.files_table,
            "KeySchema": _keys("object_key", "object_version"),
            "AttributeDefinitions": [
                {"AttributeName": name, "AttributeType": "S"}
                for name in ("object_key", "object_version", "dataset", "updated_at", "run_id")
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by_dataset",
                    "KeySchema": _keys("dataset", "updated_at"),
                    "Projection": {"ProjectionType": "ALL"},
                },
                {
                    "IndexName": "by_run",
                    "KeySchema": _keys("run_id", "object_key"),
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
        {
            "TableName": resources.runs_table,
            "KeySchema": _keys("dataset", "run_id"),
            "AttributeDefinitions": [
                {"AttributeName": "dataset", "AttributeType": "S"},
                {"AttributeName": "run_id", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ]


def create_tables(dynamodb_client: Any, resources: Resources) -> List[str]:
    """Create whichever of the three tables do not exist yet; returns the names created."""
    created = []
    for definition in table_definitions(resources):
        try:
            dynamodb_client.create_table(**definition)
        except ClientError as exc:
            if error_code(exc) == "ResourceInUseException":
                continue
            raise translate(exc, f"creating DynamoDB table {definition['TableName']}") from exc
        dynamodb_client.get_waiter("table_exists").wait(TableName=definition["TableName"])
        created.append(definition["TableName"])
    return created
