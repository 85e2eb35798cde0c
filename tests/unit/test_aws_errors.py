"""What a person sees when the AWS side is not set up: a configuration error that says what to set,
or a retryable error that says where to look — never a raw botocore trace."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError

from lakeport.aws import translate
from lakeport.errors import AwsTransientError, ConfigurationError

pytestmark = pytest.mark.py39


def test_missing_credentials_say_which_variables_to_set() -> None:
    error = translate(NoCredentialsError(), "listing the runs")
    assert isinstance(error, ConfigurationError)
    assert "listing the runs: no AWS credentials found" in str(error)
    assert "AWS_PROFILE" in (error.hint or "") and "lakeport local up" in (error.hint or "")


def test_a_missing_region_says_how_to_give_one() -> None:
    error = translate(NoRegionError(), "listing the runs")
    assert isinstance(error, ConfigurationError) and "AWS_REGION" in (error.hint or "")


def test_an_unreachable_endpoint_is_retryable_and_points_at_the_local_stack() -> None:
    error = translate(EndpointConnectionError(endpoint_url="http://127.0.0.1:1/"), "listing the runs")
    assert isinstance(error, AwsTransientError)
    assert "http://127.0.0.1:1/" in str(error) and "lakeport local up" in (error.hint or "")


def test_throttling_is_retryable_and_a_missing_table_is_configuration() -> None:
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")
    missing = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no table"}}, "Query")
    assert isinstance(translate(throttled, "x"), AwsTransientError)
    assert isinstance(translate(missing, "x"), ConfigurationError)
