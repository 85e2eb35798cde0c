"""Shared CLI state: where AWS is, which deployment, and how errors are shown."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Callable, NoReturn, Optional, TypeVar

import typer
from rich.console import Console

from ..aws import AwsContext
from ..errors import LakeportError
from ..resources import Resources

console = Console()
err_console = Console(stderr=True)
T = TypeVar("T")


@dataclass
class CliState:
    """Built once per command from the global options and the usual AWS environment variables."""

    endpoint_url: Optional[str] = None
    region: Optional[str] = None
    profile: Optional[str] = None
    _aws: Optional[AwsContext] = field(default=None, repr=False)
    _resources: Optional[Resources] = field(default=None, repr=False)

    @property
    def aws(self) -> AwsContext:
        if self._aws is None:
            endpoint = self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
            self._aws = AwsContext.create(endpoint_url=endpoint, region=self.region, profile=self.profile)
        return self._aws

    @property
    def local(self) -> bool:
        """True when pointed at an emulator (an explicit loopback endpoint)."""
        endpoint = self.aws.endpoint_url or ""
        return "127.0.0.1" in endpoint or "localhost" in endpoint

    @property
    def resources(self) -> Resources:
        if self._resources is None:
            account = None
            if not os.environ.get("LAKEPORT_OUTPUTS") and not os.environ.get("LAKEPORT_ACCOUNT_ID"):
                account = guard(self.aws.account_id)
            self._resources = Resources.from_environment(account_id=account)
        return self._resources


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def guard(call: Callable[[], T]) -> T:
    """Run ``call``; show a lakeport error as a message (no traceback) and exit 1."""
    try:
        return call()
    except LakeportError as exc:
        return fail(exc)
    except Exception as exc:  # botocore errors reaching the CLI: translate, show, exit
        from ..aws import translate

        return fail(translate(exc, "calling AWS"))


def fail(exc: LakeportError) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {exc.code}: {exc.message}", highlight=False, markup=True, soft_wrap=True)
    if exc.hint:
        err_console.print(f"[yellow]hint:[/] {exc.hint}", highlight=False, soft_wrap=True)
    sys.exit(1)
