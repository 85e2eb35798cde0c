"""The notifier Lambda: the state machine's ``RecordFailure`` step.

Input (from the ASL): ``{dataset, run_id, manifest, error: {Error, Cause}, execution_arn}``.

It records the failure where people and lakeport look: the run FAILED in the runs table with the
error, and each object of the run's manifest that this run still holds marked FAILED in the files
table (FAILED objects are claimable again, so ``lakeport replay <dataset> --run <run id>`` or
``lakeport ingest`` takes them without ``--force``). It returns ``{"subject", "message"}``, which the
next state publishes to the alerts topic.

An object the run had already *committed* (``commit_run``: its rows may be visible) is not marked
FAILED: only a retry of the same run id may finish it, and the alert says how.

It never fails the execution's failure path: if the ledgers cannot be written, the alert says so.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from lakeport.aws import AwsContext, translate
from lakeport.ledger.files import CLAIMED, FAILED, FileLedger, SourceObject
from lakeport.ledger.runs import RunLedger, RunRecord
from lakeport.manifest import read_manifest
from lakeport.orchestration.environment import resources_from_environment
from lakeport.resources import Resources

log = logging.getLogger("lakeport.notifier")

MAX_SUBJECT = 99  # SNS: fewer than 100 characters, ASCII, no line breaks
MAX_LISTED_FILES = 10
# Glue writes Python-shell job logs to its own groups (named after the security configuration when
# one is set); the Spark job logs continuously to the group terraform/monitoring.tf creates.
PYTHON_SHELL_LOG_GROUPS = "/aws-glue/python-jobs/*"
TRANSIENT_PREFIX = "[transient] "


@dataclass
class FailedRun:
    """The RecordFailure payload, checked once."""

    dataset: str
    run_id: str
    manifest: Optional[str]
    error: str
    cause: str
    execution_arn: Optional[str]

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> FailedRun:
        if not isinstance(event, Mapping) or not event.get("dataset") or not event.get("run_id"):
            raise ValueError(f"the notifier needs dataset and run_id, got {sorted(event or {})}")
        error = event.get("error") or {}
        if not isinstance(error, Mapping):
            error = {"Error": "Unknown", "Cause": str(error)}
        return cls(
            dataset=str(event["dataset"]),
            run_id=str(event["run_id"]),
            manifest=event.get("manifest") or None,
            error=str(error.get("Error") or "Unknown"),
            cause=str(error.get("Cause") or ""),
            execution_arn=event.get("execution_arn") or None,
        )


@dataclass
class Diagnosis:
    """What went wrong, in words: the job's error message when there is one."""

    message: str
    job_name: Optional[str] = None
    job_run_id: Optional[str] = None
    transient: bool = False


def diagnose(failed: FailedRun) -> Diagnosis:
    """Read the Glue job run's ``ErrorMessage`` out of the Cause (a JobRun document), if it is one."""
    try:
        cause: Any = json.loads(failed.cause) if failed.cause.strip().startswith("{") else None
    except ValueError:
        cause = None
    if isinstance(cause, dict) and ("ErrorMessage" in cause or "JobRunState" in cause):
        message = str(cause.get("ErrorMessage") or f"the job run ended {cause.get('JobRunState', 'FAILED')}")
        return Diagnosis(
            message=message,
            job_name=cause.get("JobName"),
            job_run_id=cause.get("Id"),
            transient=message.startswith(TRANSIENT_PREFIX),
        )
    if failed.error == "Glue.ConcurrentRunsExceededException":
        return Diagnosis(
            "Glue refused the job run: the job stayed at its MaxConcurrentRuns for the whole capacity wait"
            f" (about 12 hours; {failed.cause})",
            transient=True,
        )
    if failed.error == "States.Runtime" and "Item" in failed.cause:
        return Diagnosis(
            f"the contract of {failed.dataset} could not be loaded from the datasets table ({failed.cause})"
        )
    text = f"{failed.error}: {failed.cause}" if failed.cause else failed.error
    return Diagnosis(" ".join(text.split()))


@dataclass
class Recorded:
    """What the notifier managed to write to the ledgers."""

    objects: List[SourceObject] = field(default_factory=list)
    marked_failed: List[str] = field(default_factory=list)
    committed: List[str] = field(default_factory=list)
    """Objects the run had committed (rows possibly visible): left claimed, for the same run to finish."""
    left_alone: List[str] = field(default_factory=list)
    run_recorded: bool = False
    problems: List[str] = field(default_factory=list)


class Notifier:
    def __init__(self, aws: AwsContext, resources: Resources) -> None:
        self.aws = aws
        self.resources = resources
        ddb = aws.client("dynamodb")
        self.files = FileLedger(ddb, resources.files_table)
        self.runs = RunLedger(ddb, resources.runs_table)

    def handle(self, event: Mapping[str, Any], context: Any = None) -> Dict[str, str]:
        failed = FailedRun.from_event(event)
        diagnosis = diagnose(failed)
        recorded = self.record(failed, diagnosis)
        alert = {"subject": subject(failed, diagnosis), "message": message(failed, diagnosis, recorded, self.resources)}
        log.warning("run %s of %s failed: %s", failed.run_id, failed.dataset, diagnosis.message)
        return alert

    def record(self, failed: FailedRun, diagnosis: Diagnosis) -> Recorded:
        recorded = Recorded()
        error_text = diagnosis.message
        if failed.manifest:
            try:
                recorded.objects = read_manifest(self.aws.client("s3"), failed.manifest).objects
            except Exception as exc:
                recorded.problems.append(
                    f"the manifest could not be read: {translate(exc, failed.manifest).one_line()}"
                )
        for obj in recorded.objects:
            try:
                current = self.files.get(obj)
                if current is not None and current.commit_run == failed.run_id:
                    # past its commit point the run's rows may be visible: only the same run may finish it
                    recorded.committed.append(obj.uri)
                elif current is not None and current.run_id == failed.run_id and current.state in (CLAIMED, FAILED):
                    self.files.finish(obj, failed.run_id, FAILED, 0, 0, 0, 0, reason=error_text)
                    recorded.marked_failed.append(obj.uri)
                else:
                    holder = "no ledger entry" if current is None else f"{current.state} by run {current.run_id}"
                    recorded.left_alone.append(f"{obj.uri} ({holder})")
            except Exception as exc:
                recorded.problems.append(f"{obj.uri}: {translate(exc, 'marking it FAILED').one_line()}")
        try:
            existing = self.runs.get(failed.dataset, failed.run_id)
            if existing is None:
                self.runs.start(
                    RunRecord(
                        dataset=failed.dataset,
                        run_id=failed.run_id,
                        files=len(recorded.objects),
                        file_uris=[o.uri for o in recorded.objects],
                        execution_arn=failed.execution_arn,
                        job_run_id=diagnosis.job_run_id,
                    )
                )
            self.runs.finish(
                failed.dataset,
                failed.run_id,
                state="FAILED",
                error=error_text,
                execution_arn=failed.execution_arn,
                duration_seconds=existing.duration_seconds if existing is not None else None,
            )
            recorded.run_recorded = True
        except Exception as exc:
            recorded.problems.append(f"the run record: {translate(exc, 'recording the failure').one_line()}")
        return recorded


def _ascii_line(text: str) -> str:
    return " ".join(text.encode("ascii", errors="replace").decode("ascii").split())


def subject(failed: FailedRun, diagnosis: Diagnosis) -> str:
    """``lakeport: <dataset> run <run id> failed (<ErrorClass>)``, shortened to what SNS accepts."""
    code = diagnosis.message.replace(TRANSIENT_PREFIX, "").split(":", 1)[0].strip()
    code = code if code.isidentifier() else failed.error
    text = _ascii_line(f"lakeport: {failed.dataset} run {failed.run_id} failed ({code})")
    if len(text) > MAX_SUBJECT:
        text = _ascii_line(f"lakeport: {failed.dataset} failed ({code})")
    return text if len(text) <= MAX_SUBJECT else text[: MAX_SUBJECT - 3] + "..."


def _log_location(resources: Resources, diagnosis: Diagnosis) -> str:
    stream = f" (log stream {diagnosis.job_run_id})" if diagnosis.job_run_id else ""
    if diagnosis.job_name and diagnosis.job_name == resources.spark_job_name:
        return f"CloudWatch log group /aws-glue/jobs/{resources.name_prefix}{stream}"
    return f"CloudWatch log groups {PYTHON_SHELL_LOG_GROUPS}{stream}"


def message(failed: FailedRun, diagnosis: Diagnosis, recorded: Recorded, resources: Resources) -> str:
    """The alert text: what failed, the error, what the ledgers now say, where to look, what to do."""
    lines = [
        f"An ingest run of {failed.dataset} failed.",
        "",
        f"dataset    {failed.dataset}",
        f"run        {failed.run_id}",
        f"execution  {failed.execution_arn or '(unknown)'}",
        f"error      {diagnosis.message}",
        f"step error {failed.error}",
        "",
        f"files ({len(recorded.objects)}):",
    ]
    lines += [
        f"  {o.uri}  ({o.size} bytes, version {o.version_id or '-'})" for o in recorded.objects[:MAX_LISTED_FILES]
    ]
    if len(recorded.objects) > MAX_LISTED_FILES:
        lines.append(f"  ... and {len(recorded.objects) - MAX_LISTED_FILES} more (see the manifest)")
    if not recorded.objects:
        lines.append("  (none known)")
    lines += [
        "",
        "ledgers:",
        f"  run record: {'FAILED, with the error above' if recorded.run_recorded else 'NOT updated'}",
        f"  files marked FAILED: {len(recorded.marked_failed)}",
    ]
    if recorded.committed:
        lines.append(f"  files committed by this run, left claimed for it: {len(recorded.committed)}")
    lines += [f"  left as they are: {item}" for item in recorded.left_alone[:MAX_LISTED_FILES]]
    lines += [f"  could not record: {problem}" for problem in recorded.problems]
    lines += [
        "",
        "where to look:",
        f"  lakeport runs {failed.dataset}          (the run record, table {resources.runs_table})",
        f"  the job's logs: {_log_location(resources, diagnosis)}",
        f"  the execution's history in Step Functions ({resources.state_machine_name})",
    ]
    if failed.manifest:
        lines.append(f"  the run manifest: {failed.manifest}")
    lines += ["", "what to do:"]
    if recorded.committed:
        arguments = json.dumps({"--dataset": failed.dataset, "--run_id": failed.run_id, "--manifest": failed.manifest})
        lines += [
            f"  the run passed its commit point: rows of {len(recorded.committed)} file(s) may already be visible,",
            "  and only the same run id can finish it (the files stay claimed by it, not FAILED). Once the cause",
            "  is gone, run it again under its own id:",
            f"  finish: lakeport replay {failed.dataset} --run {failed.run_id}",
            f"      or: aws glue start-job-run --job-name {resources.python_job_name} --arguments '{arguments}'",
        ]
        return "\n".join(lines)
    if diagnosis.transient:
        lines.append(
            "  the cause was transient (a busy dataset, throttling, a service error) and outlasted the retries;"
            " replay once it has passed"
        )
    else:
        lines.append("  fix the cause (the contract, the file, or the configuration named in the error), then replay")
    uris = " ".join(o.uri for o in recorded.objects[:3]) if recorded.objects else "<s3 uri>"
    more = " ..." if len(recorded.objects) > 3 else ""
    lines += [
        f"  replay: lakeport replay {failed.dataset} --run {failed.run_id}   (the same files, the same run id)",
        f"      or: lakeport ingest {failed.dataset} {uris}{more}",
        "          (FAILED files are picked up again without --force; done files are skipped)",
    ]
    return "\n".join(lines)


_cached: Optional[Notifier] = None


def handler(event: Mapping[str, Any], context: Any) -> Dict[str, str]:
    """The Lambda entry point (``lakeport.orchestration.notifier.handler``)."""
    global _cached
    if _cached is None:
        aws = AwsContext.create(endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        _cached = Notifier(aws, resources_from_environment())
    return _cached.handle(event, context)


__all__ = ["Diagnosis", "FailedRun", "Notifier", "diagnose", "handler", "message", "subject"]
