"""Glue Spark job (Glue 5.x: Spark 3.5, Python 3.11): ingest one run with the Spark engine.

Glue runs this file as the job's script with ``--name value`` arguments: the state machine's
``--dataset --run_id --manifest --engine --engine_reason --execution_arn`` on top of the job's
default arguments (the deployment's table and bucket names, ``Resources.job_arguments()``). Inside
Glue they are read with ``awsglue.utils.getResolvedOptions``; elsewhere with the parser the
Python-shell job uses. The run itself is :func:`lakeport.jobs.entry.run_job`, as for that job.

Glue job bookmarks are not used (the job sets ``--job-bookmark-option job-bookmark-disable``): the
files ledger decides which objects are new, for both engines, exactly once.

A failed run raises :class:`JobFailed` with lakeport's one-line message (``[transient] `` first when
a retry may help): Glue records the exception as the run's error message, which the state
machine's ``IsTransient`` choice reads.
"""

from __future__ import annotations

import logging
import sys
from typing import Dict, List, Optional, Sequence

from lakeport.jobs.entry import REQUIRED, TABLE_AND_BUCKET_ARGUMENTS, failure_message, parse_arguments, run_job

OPTIONAL = ("engine", "engine_reason", "execution_arn", "metrics_namespace", "name_prefix", "account_id", "JOB_RUN_ID")


class JobFailed(Exception):
    """The run failed; the message is lakeport's one-line error."""


def resolve_arguments(argv: Sequence[str]) -> Dict[str, str]:
    """The job's arguments by name (``argv`` as Glue passes it: script name first)."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        return parse_arguments(list(argv[1:]))
    # getResolvedOptions refuses a listed name that was not passed: list the ones that were
    names = [n for n in (*REQUIRED, *TABLE_AND_BUCKET_ARGUMENTS, *OPTIONAL) if f"--{n}" in argv]
    return {str(k): str(v) for k, v in getResolvedOptions(list(argv), names).items()}


def main(argv: Optional[List[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    arguments = resolve_arguments(sys.argv if argv is None else argv)
    try:
        summary = run_job(arguments, engine_name="spark")
    except Exception as exc:
        message = failure_message(exc)
        print(message, file=sys.stderr)
        raise JobFailed(message) from None
    totals = summary.totals()
    print(
        f"run {summary.run_id} of {summary.dataset}: {summary.state} ({summary.engine}); read {totals['rows_read']},"
        f" written {totals['rows_written']}, quarantined {totals['rows_quarantined']},"
        f" duplicates {totals['rows_duplicate']}"
    )


if __name__ == "__main__":
    main()
