"""What every Glue job run does, whichever engine: manifest -> :class:`~lakeport.ingest.Ingestor`.

The job receives the run's arguments from the state machine (``--dataset --run_id --manifest
--engine --engine_reason --execution_arn``) on top of the job's default arguments, which Terraform
sets to the deployment's names (``Resources.job_arguments()``). Glue job bookmarks are not used:
the files ledger decides what has been ingested.

On failure the job prints ``<ErrorClass>: message`` and exits non-zero, so Glue records it as the
run's error message; a transient error is prefixed ``[transient]``, which the state machine's
``IsTransient`` choice turns into a wait and a retry of the same run.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..aws import AwsContext, translate
from ..errors import ConfigurationError, LakeportError
from ..ingest import Ingestor, IngestRequest, RunSummary
from ..manifest import read_manifest
from ..resources import METRICS_NAMESPACE, Resources

REQUIRED = ("dataset", "run_id", "manifest")
TABLE_AND_BUCKET_ARGUMENTS = (
    "datasets_table",
    "files_table",
    "runs_table",
    "raw_bucket",
    "curated_bucket",
    "quarantine_bucket",
    "artifacts_bucket",
)
TRANSIENT_PREFIX = "[transient] "

log = logging.getLogger("lakeport.job")


def parse_arguments(argv: Sequence[str]) -> Dict[str, str]:
    """Glue-style ``--name value`` pairs (Glue passes them this way to both job types)."""
    out: Dict[str, str] = {}
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if item.startswith("--"):
            name = item[2:]
            if "=" in name:
                name, value = name.split("=", 1)
                out[name] = value
            elif i + 1 < len(items) and not items[i + 1].startswith("--"):
                out[name] = items[i + 1]
                i += 1
            else:
                out[name] = ""
        i += 1
    return out


def resources_from_arguments(arguments: Mapping[str, str], aws: AwsContext) -> Resources:
    missing = [name for name in TABLE_AND_BUCKET_ARGUMENTS if not arguments.get(name)]
    if missing:
        raise ConfigurationError(
            f"the job lacks the argument(s) {', '.join('--' + m for m in missing)}",
            hint="the Glue job's default arguments carry the deployment's names; check terraform/glue_jobs.tf",
        )
    base = Resources.for_deployment(
        name_prefix=arguments.get("name_prefix", "lakeport"),
        account_id=arguments.get("account_id", "000000000000"),
        region=aws.region,
    )
    values = base.as_dict()
    for name in TABLE_AND_BUCKET_ARGUMENTS:
        values[name] = arguments[name]
    values["metrics_namespace"] = arguments.get("metrics_namespace") or METRICS_NAMESPACE
    return Resources(**values)


def run_job(arguments: Mapping[str, str], engine_name: str = "python", aws: Optional[AwsContext] = None) -> RunSummary:
    """Run one ingest for a Glue job run. Raises :class:`LakeportError` on failure."""
    missing = [name for name in REQUIRED if not arguments.get(name)]
    if missing:
        raise ConfigurationError(f"the job run lacks {', '.join('--' + m for m in missing)}")
    aws = aws or AwsContext.create(endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
    resources = resources_from_arguments(arguments, aws)
    try:
        manifest = read_manifest(aws.client("s3"), arguments["manifest"])
    except LakeportError:
        raise
    except Exception as exc:
        raise translate(exc, f"reading the manifest {arguments['manifest']}") from exc
    if manifest.dataset != arguments["dataset"] or manifest.run_id != arguments["run_id"]:
        raise ConfigurationError(
            f"manifest {arguments['manifest']} is for {manifest.dataset} run {manifest.run_id},"
            f" not {arguments['dataset']} run {arguments['run_id']}"
        )
    request = IngestRequest(
        dataset=manifest.dataset,
        objects=manifest.objects,
        run_id=manifest.run_id,
        engine=arguments.get("engine") or engine_name,
        engine_reason=arguments.get("engine_reason") or "set by the job",
        execution_arn=arguments.get("execution_arn") or None,
        job_run_id=arguments.get("JOB_RUN_ID") or None,
    )
    return Ingestor(aws, resources).run(request)


def failure_message(exc: BaseException) -> str:
    """The job's error message: ``[transient] DatasetBusyError: …`` or ``InputFileError: …``."""
    error = exc if isinstance(exc, LakeportError) else translate(exc, "ingest job")
    text = error.one_line()
    return TRANSIENT_PREFIX + text if error.transient else text


def main(argv: Optional[List[str]] = None, engine_name: str = "python") -> int:
    """Command-line form used by the Glue scripts: prints the outcome, returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        summary = run_job(arguments, engine_name)
    except Exception as exc:
        print(failure_message(exc), file=sys.stderr)
        return 1
    totals = summary.totals()
    print(
        f"run {summary.run_id} of {summary.dataset}: {summary.state}; read {totals['rows_read']},"
        f" written {totals['rows_written']}, quarantined {totals['rows_quarantined']},"
        f" duplicates {totals['rows_duplicate']}"
    )
    return 0


def run_from_glue_arguments(arguments: Dict[str, Any], engine_name: str) -> RunSummary:
    """For entries that receive an already-parsed argument dict (the local Glue runner)."""
    return run_job({k.lstrip("-"): str(v) for k, v in arguments.items()}, engine_name)
