"""The embedded AWS emulator: moto's server, in this process, on a loopback port.

In-process matters: the fixes in :mod:`lakeport.local.patches` change moto's classes, and the local
Glue runner reads moto's job-run state directly, so the stock ``moto_server`` command will not do.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.request
from typing import TYPE_CHECKING, Any, Optional

from lakeport.aws import AwsContext
from lakeport.resources import LOCAL_REGION

if TYPE_CHECKING:
    from lakeport.local.state import LocalState

# moto accepts any credentials; fixed ones keep the SDK from looking for a real profile.
LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server(port: int, state: Optional[LocalState]) -> Any:
    """moto's threaded server; with ``state``, its application answers writes once they are kept."""
    from moto.server import ThreadedMotoServer

    if state is None:
        return ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    # the pinned moto's module layout (the Python 3.9 tests' older moto never keeps state)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    kept = state

    class KeptServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = kept.wrap(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return KeptServer(ip_address="127.0.0.1", port=port, verbose=False)


class EmbeddedAws:
    """Start/stop the emulator and hand out :class:`AwsContext` objects pointed at it."""

    def __init__(
        self,
        port: Optional[int] = None,
        region: str = LOCAL_REGION,
        apply_fixes: bool = True,
        state: Optional[LocalState] = None,
    ) -> None:
        self.requested_port = port
        # Keeps S3, DynamoDB and the catalog on disk (``lakeport local up``); None forgets at stop.
        self.state = state
        self.region = region
        # The fixes target the pinned moto (Step Functions, Glue runs, Lambda). The Python 3.9
        # tests of the Glue Python-shell code use an older moto and only S3, DynamoDB, Glue's
        # catalog and CloudWatch, which need none of them.
        self.apply_fixes = apply_fixes
        self._server: Any = None
        self._context: Optional[AwsContext] = None
        self.port: Optional[int] = None
        self._previous_moto_port: Optional[str] = None

    @property
    def endpoint_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedAws:
        from . import patches

        if self.apply_fixes:
            patches.apply()
        else:
            from moto.core.config import default_user_config

            default_user_config["stepfunctions"]["execute_state_machine"] = True
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = self.requested_port or free_port()
        # Step Functions service integrations call back into the emulator on this port (the one
        # before comes back at the stop: another emulator of the process may still be running).
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(port)
        self._server = _server(port, self.state)
        self._server.start()
        self.port = port
        if self.apply_fixes:  # its Athena answers queries over its own catalog and buckets
            from .athena import engine_factory, queries

            queries.serve(self.endpoint_url, engine_factory(self.endpoint_url))
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self.apply_fixes:
                from .athena import queries

                queries.withdraw(self.endpoint_url)
            self._server.stop()
            self._server = None
            self._context = None
            if os.environ.get("MOTO_PORT") == str(self.port):  # not since taken by a newer emulator
                if self._previous_moto_port is None:
                    os.environ.pop("MOTO_PORT", None)
                else:
                    os.environ["MOTO_PORT"] = self._previous_moto_port
            self.port = None

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def context(self) -> AwsContext:
        """An :class:`AwsContext` on this emulator; the same one (and its clients) on every call."""
        import boto3

        if self._context is None:
            session = boto3.Session(
                aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
                aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
                region_name=self.region,
            )
            self._context = AwsContext(session=session, endpoint_url=self.endpoint_url)
        return self._context

    def reset(self) -> None:
        """Forget every resource (moto's reset API); used between tests."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
