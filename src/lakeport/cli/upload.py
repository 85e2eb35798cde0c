"""``lakeport upload``: deliver local files to a dataset's raw prefix (see :mod:`lakeport.upload`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..errors import ConfigurationError
from ..upload import MIB, Uploader, UploadProgress, UploadResult, UploadSettings
from .app import console, fail, guard, state

if TYPE_CHECKING:  # the contract models load only when an upload names a dataset
    from ..contract import Contract


class RichUploadProgress(UploadProgress):
    """One progress bar per delivery, in bytes, on a rich :class:`Progress`."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: Optional[TaskID] = None
        self.files = 0
        self.done = 0

    def begin(self, label: str, files: int, total_bytes: int) -> None:
        self.files, self.done = files, 0
        self.task = self.progress.add_task(self._description(label), total=max(total_bytes, 1), label=label)

    def _description(self, label: str) -> str:
        return f"{label} [{self.done}/{self.files} files]"

    def advance(self, nbytes: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, nbytes)

    def file_done(self, key: str, skipped: bool) -> None:
        if self.task is not None:
            self.done += 1
            label = self.progress.tasks[self.task].fields.get("label", "")
            self.progress.update(self.task, description=self._description(label))

    def end(self) -> None:
        if self.task is not None:
            task = self.progress.tasks[self.task]
            self.progress.update(self.task, completed=task.total)


def upload_progress(target: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=target,
    )


def print_result(result: UploadResult, target: Console = console) -> None:
    where = f"s3://{result.bucket}/{result.folder}"
    megabytes = result.bytes_uploaded / MIB
    target.print(
        f"uploaded {len(result.uploaded)} object(s) ({megabytes:.2f} MiB) to {where} in {result.seconds:.1f} s;"
        f" skipped {len(result.skipped)} already there with the same checksum",
        highlight=False,
        soft_wrap=True,
    )
    if result.marker_state == "none":
        target.print("no completeness marker: each file is ingested as it arrives", highlight=False)
    else:
        note = " (the delivery was already complete)" if result.marker_state == "rewritten" else ""
        target.print(
            f"delivery {result.delivery_id} complete: s3://{result.bucket}/{result.marker_key}{note}",
            highlight=False,
            soft_wrap=True,
        )


def upload(
    ctx: typer.Context,
    paths: List[Path] = typer.Argument(..., help="files and folders to deliver (folders keep their layout)"),
    dataset: Optional[str] = typer.Option(None, "--dataset", "-d", help="deliver to this dataset's raw prefix"),
    prefix: Optional[str] = typer.Option(None, help="raw key prefix to deliver to, instead of --dataset's"),
    bucket: Optional[str] = typer.Option(None, help="bucket (default: the deployment's raw bucket)"),
    marker: bool = typer.Option(
        True, "--marker/--no-marker", help="deliver as one delivery, ingested once its completeness marker is written"
    ),
    delivery_id: Optional[str] = typer.Option(
        None, help="delivery id (default: a digest of the files, so running again resumes the same delivery)"
    ),
    part_size_mb: int = typer.Option(8, min=5, help="multipart part size (MiB); files this big or bigger go in parts"),
    concurrency: int = typer.Option(4, min=1, help="files and parts sent at once"),
) -> None:
    """Upload files to the raw bucket: multipart, checksummed end to end, resumable, with a completeness marker."""
    s = state(ctx)
    resources = s.resources
    contract: Optional[Contract] = None
    if dataset:
        from ..registry import ContractRegistry

        registry = ContractRegistry(s.aws.client("dynamodb"), resources.datasets_table)
        contract = guard(lambda: registry.get(dataset))
    elif not prefix:
        fail(ConfigurationError("say where to: --dataset <name> or --prefix <raw key prefix>"))
    target_prefix = prefix if prefix is not None else contract.source.prefix if contract else ""
    settings = UploadSettings(
        part_size=part_size_mb * MIB, multipart_threshold=part_size_mb * MIB, concurrency=concurrency
    )
    with upload_progress(console) as progress:
        uploader = Uploader(s.aws.client("s3"), settings, RichUploadProgress(progress))
        result: Any = guard(
            lambda: uploader.upload(
                paths,
                bucket or resources.raw_bucket,
                target_prefix,
                marker=marker,
                delivery_id=delivery_id,
                contract=contract,
                label=dataset or target_prefix,
            )
        )
    print_result(result)
