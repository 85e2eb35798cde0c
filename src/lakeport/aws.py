"""The one place lakeport creates AWS clients and translates botocore errors.

Everything else receives an :class:`AwsContext` (a boto3 session plus an optional endpoint, such as
the embedded emulator's) and asks it for clients; nothing creates clients at import time.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Optional

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from .errors import AwsTransientError, ConfigurationError, LakeportError

# botocore's "standard" mode retries throttling and 5xx with exponential backoff and full jitter.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=60)

TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottled",
        "SlowDown",
        "TooManyRequestsException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "ConcurrentRunsExceededException",
    }
)


@dataclass
class AwsContext:
    """A boto3 session and, optionally, an endpoint that every client and the S3 filesystem use."""

    session: boto3.Session
    endpoint_url: Optional[str] = None
    _clients: Dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(
        cls, endpoint_url: Optional[str] = None, region: Optional[str] = None, profile: Optional[str] = None
    ) -> AwsContext:
        session = boto3.Session(region_name=region, profile_name=profile)
        if session.region_name is None:
            session = boto3.Session(region_name="us-east-1", profile_name=profile)
        return cls(session=session, endpoint_url=endpoint_url)

    @property
    def region(self) -> str:
        return self.session.region_name or "us-east-1"

    def client(self, service: str) -> Any:
        """A cached client for ``service`` (clients are thread-safe; creating them is not)."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(
                    service,
                    endpoint_url=self.endpoint_url,
                    config=RETRY_CONFIG,  # type: ignore[call-overload]
                )
            return self._clients[service]

    def s3_filesystem(self) -> Any:
        """A ``pyarrow.fs.S3FileSystem`` with this context's credentials and endpoint."""
        from pyarrow import fs

        creds = self.session.get_credentials()
        kwargs: Dict[str, Any] = {"region": self.region}
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key)
            if frozen.token:
                kwargs["session_token"] = frozen.token
        if self.endpoint_url:
            scheme, _, host = self.endpoint_url.partition("://")
            kwargs.update(endpoint_override=host, scheme=scheme, allow_bucket_creation=True)
        kwargs["retry_strategy"] = fs.AwsStandardS3RetryStrategy(max_attempts=8)
        return fs.S3FileSystem(**kwargs)

    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def translate(exc: BaseException, action: str) -> LakeportError:
    """Turn a botocore error into the lakeport error the state machine and the CLI understand."""
    if isinstance(exc, LakeportError):
        return exc
    code = error_code(exc)
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        message = exc.response.get("Error", {}).get("Message", str(exc))
        if code in TRANSIENT_CODES or status >= 500:
            return AwsTransientError(f"{action}: {code or status}: {message}", hint="retry later")
        if code in ("ResourceNotFoundException", "NoSuchBucket", "EntityNotFoundException"):
            return ConfigurationError(
                f"{action}: {code}: {message}",
                hint="is lakeport pointed at the right deployment (name prefix, region, endpoint)?",
            )
        if code in ("AccessDenied", "AccessDeniedException", "UnrecognizedClientException"):
            return ConfigurationError(f"{action}: {code}: {message}", hint="check the credentials and the IAM role")
        return ConfigurationError(f"{action}: {code}: {message}")
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ConfigurationError(
            f"{action}: no AWS credentials found",
            hint="set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); for the local stack,"
            " export the variables 'lakeport local up' prints",
        )
    if isinstance(exc, NoRegionError):
        return ConfigurationError(f"{action}: no AWS region set", hint="pass --region or set AWS_REGION")
    if isinstance(exc, EndpointConnectionError):
        return AwsTransientError(
            f"{action}: {exc}",
            hint="is the endpoint up? For the local stack, start 'lakeport local up' and use the endpoint it prints;"
            " on AWS, check the network path and retry",
        )
    if isinstance(exc, BotoCoreError):
        return AwsTransientError(f"{action}: {exc}", hint="check the network path to AWS and retry")
    return LakeportError(f"{action}: {exc}")
