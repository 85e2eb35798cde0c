"""What lakeport costs on AWS: one job run (:func:`glue_run_cost`, recorded in the runs table) and one
month of a stated workload (:func:`estimate`, printed by ``lakeport cost estimate``).

Every price lives in :data:`PRICES`, in one place: on-demand list prices for ``us-east-1`` as AWS
publishes them on each service's pricing page, read in June 2025 (DynamoDB on-demand after its
November 2024 reduction). No free tier and no discount is applied, so the estimate is an upper
bound for small accounts. Prices differ by a few percent in other regions; change them here.

The monthly model is deliberately simple arithmetic over the workload's stated volumes, one line per
billed item, so a reader can check every number by hand. Where lakeport's own behaviour decides a
volume (how many state transitions a run takes, how many ledger writes a file costs, how many
metrics a run publishes), the constant below says so and where it comes from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .errors import ConfigurationError

PRICES_AS_OF = "2025-06"
PRICE_REGION = "us-east-1"
PRICE_SOURCE = "read from the public pricing page of each AWS service; no free tier, no discounts applied"

HOURS_PER_MONTH = 730.0
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
GIB = 1024.0


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str


PRICES: Dict[str, Price] = {
    # S3 (Standard, Standard-IA, Glacier Flexible Retrieval)
    "s3.standard": Price(0.023, "GB-month"),
    "s3.standard_ia": Price(0.0125, "GB-month"),
    "s3.glacier": Price(0.0036, "GB-month"),
    "s3.put": Price(0.005, "1,000 requests"),  # PUT, COPY, POST, LIST
    "s3.get": Price(0.0004, "1,000 requests"),  # GET, HEAD, SELECT
    "s3.transition_ia": Price(0.01, "1,000 requests"),
    "s3.transition_glacier": Price(0.03, "1,000 requests"),
    # Glue
    "glue.dpu_hour": Price(0.44, "DPU-hour"),  # Python shell and Spark, per second, 1-minute minimum
    "glue.catalog_objects": Price(1.0, "100,000 objects-month"),
    "glue.catalog_requests": Price(1.0, "1,000,000 requests"),
    # orchestration and events
    "sfn.transition": Price(0.025, "1,000 transitions"),  # standard workflows
    "lambda.request": Price(0.20, "1,000,000 requests"),
    "lambda.gb_second": Price(0.0000166667, "GB-second"),  # x86
    "sqs.request": Price(0.40, "1,000,000 requests"),  # standard queue, per 64 KB chunk
    "events.aws_service_event": Price(0.0, "event"),  # S3 and Glue events on the default bus are free
    "sns.publish": Price(0.50, "1,000,000 requests"),
    # DynamoDB on-demand
    "dynamodb.write": Price(0.625, "1,000,000 write request units"),
    "dynamodb.read": Price(0.125, "1,000,000 read request units"),
    "dynamodb.storage": Price(0.25, "GB-month"),
    "dynamodb.pitr": Price(0.20, "GB-month"),
    # KMS
    "kms.key": Price(1.0, "key-month"),
    "kms.request": Price(0.03, "10,000 requests"),
    # CloudWatch
    "cloudwatch.metric": Price(0.30, "metric-month"),  # prorated by the hour a metric receives data
    "cloudwatch.put_metric_data": Price(0.01, "1,000 requests"),
    "cloudwatch.alarm_metric": Price(0.10, "alarm metric-month"),  # standard resolution, per metric
    "cloudwatch.dashboard": Price(3.0, "dashboard-month"),
    "logs.ingest": Price(0.50, "GB"),
    "logs.storage": Price(0.03, "GB-month"),
    # Athena
    "athena.scanned": Price(5.0, "TB scanned"),  # 10 MB minimum per query
    # network
    "vpc.interface_endpoint_hour": Price(0.01, "endpoint-AZ-hour"),
    "vpc.interface_endpoint_data": Price(0.01, "GB processed"),
    "vpc.gateway_endpoint": Price(0.0, "endpoint-month"),  # S3 and DynamoDB gateway endpoints are free
    "vpn.connection_hour": Price(0.05, "connection-hour"),
    # delivery
    "codebuild.medium_minute": Price(0.01, "build minute"),  # BUILD_GENERAL1_MEDIUM, Linux
}

# -- one run ----------------------------------------------------------------------------------------

GLUE_DPU_HOUR_USD = PRICES["glue.dpu_hour"].usd
PYTHON_SHELL_DPU = 0.0625
SPARK_DEFAULT_WORKERS = 2
SPARK_DPU_PER_WORKER = 1.0  # G.1X
WORKER_DPU = {"G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0}
MINIMUM_BILLED_SECONDS = 60.0


def glue_run_cost(engine: str, seconds: float, workers: int = SPARK_DEFAULT_WORKERS) -> float:
    """Estimated USD for one job run of ``seconds`` on ``engine`` (``python`` or ``spark``)."""
    billed = max(float(seconds), MINIMUM_BILLED_SECONDS)
    dpu = PYTHON_SHELL_DPU if engine == "python" else workers * SPARK_DPU_PER_WORKER
    return round(dpu * GLUE_DPU_HOUR_USD * billed / 3600.0, 6)


# -- what lakeport itself does per file, run and query (read from the code; see each comment) --------

# LoadContract -> ChooseEngine -> PythonBySize|SparkBySize -> Run*Job -> RecordRun -> AnyFileRejected
# -> Succeeded (a run with rejected files adds NotifyRejected and RejectedOrPartial)
STATE_TRANSITIONS_PER_RUN = 7
# files table: the claim and the outcome, each written to the table and its two all-attribute indexes
WRITE_UNITS_PER_FILE = 6
READ_UNITS_PER_FILE = 1
# runs table: opened, restarted-or-finished, RecordRun (items of about 2 KB); dataset lock taken and
# released on the contract's head item (about 4 KB)
WRITE_UNITS_PER_RUN = 16
READ_UNITS_PER_RUN = 10  # LoadContract, the registry's head + version items, routing queries
FILE_ITEM_KB = 3.0  # a files item (1 KB) and its copies in the two indexes
RUN_ITEM_KB = 2.0
RUN_METRICS = 9  # rows read/written/quarantined/duplicate, bytes, seconds, files failed/quarantined, ratio
METRIC_DIMENSION_SETS = 2  # (Dataset) and (Dataset, Engine)
# alarms in terraform/monitoring.tf: failed executions (3 metrics), DLQ, stale queue, dispatcher
# errors; each quarantine-ratio alarm reads 2 metrics
FIXED_ALARM_METRICS = 6
QUARANTINE_ALARM_METRICS = 2
INTERFACE_ENDPOINT_SERVICES = 7  # glue, states, logs, monitoring, sts, kms, sqs (terraform/network.tf)
SQS_POLLERS = 5  # the Lambda event source long-polls with about five pollers, 20 s each
GLACIER_OVERHEAD_KB = (32.0, 8.0)  # per archived object: billed at the Glacier and the Standard rate
IA_MINIMUM_OBJECT_KB = 128.0
MULTIPART_PART_MB = 8.0  # lakeport upload's part size and threshold
ACCESS_LOG_BYTES_PER_REQUEST = 400.0
LOG_STORAGE_RATIO = 0.15  # CloudWatch Logs bills stored logs compressed
KMS_REQUESTS_PER_RUN = 20
KMS_REQUESTS_PER_FILE = 1
CATALOG_REQUESTS_PER_RUN = 12
CATALOG_REQUESTS_PER_QUERY = 4
ATHENA_MINIMUM_GB = 10.0 / 1024.0


def _spec(help: str, kind: type = float, minimum: float = 0.0, optional: bool = False) -> Any:
    return field(metadata={"help": help, "kind": kind, "minimum": minimum, "optional": optional})


@dataclass(frozen=True)
class Workload:
    """The volumes a month of lakeport is priced on. Every field can come from YAML or ``--set``."""

    datasets: int = _spec("datasets (contracts) receiving files", int, 1)
    files_per_day: float = _spec("raw files landing per day, all datasets together")
    mb_per_file: float = _spec("average raw file size in MB (as delivered, e.g. CSV)")
    rows_per_file: float = _spec("average rows per file (decides how many files have a quarantined row)")
    files_per_run: float = _spec("files one run ingests: what the queue's batching window gathers", float, 1)
    partitions_per_file: float = _spec("curated partitions one file's rows land in", float, 1)
    curated_ratio: float = _spec("curated Parquet size / raw size")
    quarantine_ratio: float = _spec("share of rows quarantined")
    history_days: int = _spec("days of raw and curated history kept (steady state)", int, 1)
    raw_ia_days: int = _spec("days before raw files move to Standard-IA (terraform raw_transition_to_ia_days)", int)
    raw_glacier_days: int = _spec(
        "days before raw files move to Glacier (terraform raw_transition_to_glacier_days)", int
    )
    quarantine_days: int = _spec("days quarantined rows are kept (terraform quarantine_expiration_days)", int)
    snapshot_retention_days: Optional[int] = _spec(
        "days replaced curated files stay for time travel (contract snapshot_retention_days); null = forever",
        int,
        0,
        True,
    )
    python_mb_per_second: float = _spec("Python-shell engine throughput in MB of raw input per second", float, 0.001)
    run_overhead_seconds: float = _spec("fixed seconds per Python-shell run (wheel install, contract, catalog)")
    spark_threshold_mb: float = _spec("contract spark_threshold_bytes in MB: runs at least this big use Spark")
    spark_runs_per_month: float = _spec("extra Spark runs per month (backfills, replays of large files)")
    spark_gb_per_run: float = _spec("raw GB each of those Spark runs reads")
    spark_worker_type: str = _spec("Glue Spark worker type (G.1X, G.2X, G.4X, G.8X)", str)
    spark_workers: int = _spec("Glue Spark workers (terraform spark_number_of_workers)", int, 2)
    spark_mb_per_second_per_worker: float = _spec(
        "Spark throughput per worker, MB of raw input per second", float, 0.001
    )
    spark_overhead_seconds: float = _spec("fixed seconds per Spark run")
    queries_per_day: float = _spec("Athena queries per day")
    gb_scanned_per_query: float = _spec("GB an average query scans after partition pruning")
    athena_result_mb: float = _spec("MB of results an average query writes")
    failure_rate: float = _spec("share of runs that fail and alert")
    dispatcher_seconds: float = _spec("dispatcher Lambda seconds per invocation (512 MB)")
    log_gb_per_month: float = _spec("GB of CloudWatch Logs written per month (jobs, Lambdas, state machine)")
    log_retention_days: int = _spec("CloudWatch Logs retention (terraform log_retention_days)", int, 1)
    quarantine_alarms: int = _spec("datasets with a quarantine-ratio alarm", int)
    dashboards: int = _spec("CloudWatch dashboards", int)
    private_network: bool = _spec("Glue jobs in the private VPC with interface endpoints", bool)
    availability_zones: int = _spec("subnets (AZs) each interface endpoint sits in", int, 1)
    site_to_site_vpn: bool = _spec("a Site-to-Site VPN connection (uploads through an S3 interface endpoint)", bool)
    endpoint_api_gb_per_month: float = _spec("GB of AWS API traffic through the interface endpoints")
    builds_per_month: float = _spec("CodeBuild builds per month")
    build_minutes: float = _spec("minutes per build (tests, package, plan, apply)")

    # -- reading ---------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "workload") -> Workload:
        """A workload from plain data (a YAML file); every key is checked, and every field must be given."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigurationError(
                f"{source}: unknown workload field(s) {', '.join(unknown)}",
                hint=f"the fields are: {', '.join(known)}",
            )
        missing = sorted(set(known) - set(data))
        if missing:
            raise ConfigurationError(
                f"{source}: workload field(s) {', '.join(missing)} are not given",
                hint="start from docs/cost-workload.yaml, which states every field",
            )
        return cls(**{name: _checked(known[name], data[name], source) for name in known})

    def with_values(self, values: Mapping[str, Any], source: str = "--set") -> Workload:
        """A copy with some fields changed (values may be text, as typed on the command line)."""
        known = {f.name: f for f in fields(self)}
        changes = {}
        for name, value in values.items():
            if name not in known:
                raise ConfigurationError(
                    f"{source}: {name!r} is not a workload field", hint=f"the fields are: {', '.join(known)}"
                )
            changes[name] = _checked(known[name], value, source)
        return replace(self, **changes)

    def describe(self) -> List[Tuple[str, Any, str]]:
        return [(f.name, getattr(self, f.name), f.metadata["help"]) for f in fields(self)]

    # -- derived volumes ------------------------------------------------------------------------------

    @property
    def runs_per_day(self) -> float:
        return self.files_per_day / self.files_per_run

    @property
    def runs_per_dataset_day(self) -> float:
        return self.runs_per_day / self.datasets

    @property
    def raw_gb_per_day(self) -> float:
        return self.files_per_day * self.mb_per_file / GIB

    @property
    def curated_gb_per_day(self) -> float:
        return self.raw_gb_per_day * self.curated_ratio

    @property
    def run_mb(self) -> float:
        return self.files_per_run * self.mb_per_file

    @property
    def files_with_bad_rows_per_day(self) -> float:
        """Files that write a quarantine file: those with at least one bad row (rows independent)."""
        return self.files_per_day * (1.0 - (1.0 - min(self.quarantine_ratio, 1.0)) ** self.rows_per_file)

    @property
    def routine_engine(self) -> str:
        return "spark" if self.run_mb >= self.spark_threshold_mb else "python"


DEFAULT_WORKLOAD = Workload(
    datasets=10,
    files_per_day=2000,
    mb_per_file=5,
    rows_per_file=25000,
    files_per_run=20,
    partitions_per_file=1,
    curated_ratio=0.25,
    quarantine_ratio=0.001,
    history_days=365,
    raw_ia_days=30,
    raw_glacier_days=90,
    quarantine_days=180,
    snapshot_retention_days=7,
    python_mb_per_second=5,
    run_overhead_seconds=45,
    spark_threshold_mb=5120,
    spark_runs_per_month=4,
    spark_gb_per_run=50,
    spark_worker_type="G.2X",
    spark_workers=10,
    spark_mb_per_second_per_worker=25,
    spark_overhead_seconds=60,
    queries_per_day=200,
    gb_scanned_per_query=0.5,
    athena_result_mb=1,
    failure_rate=0.01,
    dispatcher_seconds=1.5,
    log_gb_per_month=2,
    log_retention_days=365,
    quarantine_alarms=10,
    dashboards=1,
    private_network=True,
    availability_zones=2,
    site_to_site_vpn=True,
    endpoint_api_gb_per_month=5,
    builds_per_month=40,
    build_minutes=20,
)
"""The workload ``docs/cost-workload.yaml`` states (a test keeps the two equal)."""


def _checked(spec: Any, value: Any, source: str) -> Any:
    meta = spec.metadata
    kind = meta["kind"]
    where = f"{source}: {spec.name}"
    if value is None or (isinstance(value, str) and value.strip().lower() in ("null", "none", "")):
        if meta["optional"]:
            return None
        raise ConfigurationError(f"{where} needs a value ({meta['help']})")
    try:
        if kind is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered not in ("true", "false", "yes", "no", "1", "0"):
                    raise ValueError(value)
                value = lowered in ("true", "yes", "1")
            elif not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind is str:
            text = str(value)
            if spec.name == "spark_worker_type" and text not in WORKER_DPU:
                raise ValueError(text)
            return text
        number = float(value)
        if kind is int:
            if number != int(number):
                raise ValueError(value)
            number = int(number)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"{where} = {value!r} is not a valid {kind.__name__}",
            hint=meta["help"] + (f" (one of {', '.join(WORKER_DPU)})" if spec.name == "spark_worker_type" else ""),
        ) from None
    if number < meta["minimum"]:
        raise ConfigurationError(f"{where} = {value!r} must be at least {meta['minimum']:g}", hint=meta["help"])
    return number


# -- the monthly estimate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CostLine:
    """One billed item: ``quantity`` in the price's unit (e.g. 293 GB-month) times its unit price."""

    service: str
    item: str
    quantity: float
    unit: str
    unit_usd: float

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.unit_usd


@dataclass
class Estimate:
    workload: Workload
    lines: List[CostLine]

    def by_service(self) -> List[Tuple[str, float]]:
        totals: Dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.monthly_usd
        return list(totals.items())

    @property
    def total_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)


class _Lines:
    """Collects lines; quantities are given in natural units and scaled to the price's unit."""

    _SCALE = {
        "1,000 requests": 1e3,
        "1,000,000 requests": 1e6,
        "1,000 transitions": 1e3,
        "1,000,000 write request units": 1e6,
        "1,000,000 read request units": 1e6,
        "10,000 requests": 1e4,
        "100,000 objects-month": 1e5,
        "TB scanned": 1024.0,  # quantities in GB
    }

    def __init__(self) -> None:
        self.lines: List[CostLine] = []

    def add(self, service: str, item: str, price_key: str, natural_quantity: float) -> None:
        price = PRICES[price_key]
        scale = self._SCALE.get(price.unit, 1.0)
        self.lines.append(CostLine(service, item, natural_quantity / scale, price.unit, price.usd))


def estimate(w: Workload) -> Estimate:
    """One month of ``w`` at :data:`PRICES`, a line per billed item."""
    out = _Lines()
    month = DAYS_PER_MONTH
    _s3(out, w, month)
    _glue(out, w, month)
    _orchestration(out, w, month)
    _dynamodb(out, w, month)
    _kms(out, w, month)
    _cloudwatch(out, w, month)
    _athena(out, w, month)
    _network(out, w, month)
    _delivery(out, w)
    return Estimate(w, out.lines)


def _s3(out: _Lines, w: Workload, month: float) -> None:
    history = w.history_days
    raw_day = w.raw_gb_per_day
    standard_days = min(history, w.raw_ia_days)
    ia_days = max(min(history, w.raw_glacier_days) - w.raw_ia_days, 0)
    glacier_days = max(history - max(w.raw_glacier_days, w.raw_ia_days), 0)
    ia_object_gb = max(w.mb_per_file * 1024.0, IA_MINIMUM_OBJECT_KB) / (1024.0 * 1024.0)
    archived_objects = w.files_per_day * glacier_days
    out.add("S3", f"raw, Standard ({standard_days} d)", "s3.standard", raw_day * standard_days)
    out.add("S3", f"raw, Standard-IA ({ia_days} d)", "s3.standard_ia", w.files_per_day * ia_days * ia_object_gb)
    out.add("S3", f"raw, Glacier ({glacier_days} d)", "s3.glacier", raw_day * glacier_days)
    out.add(
        "S3",
        "raw, Glacier per-object overhead (Glacier-rated part)",
        "s3.glacier",
        archived_objects * GLACIER_OVERHEAD_KB[0] / (1024.0 * 1024.0),
    )
    out.add(
        "S3",
        "raw, Glacier per-object overhead (Standard-rated part)",
        "s3.standard",
        archived_objects * GLACIER_OVERHEAD_KB[1] / (1024.0 * 1024.0),
    )
    out.add("S3", f"curated, live files ({history} d)", "s3.standard", w.curated_gb_per_day * history)
    # Appends add files and never copy. With more than one run per partition-day, 'lakeport maintain'
    # compacts the day's small files once; the files it replaces stay readable (time travel) until
    # their snapshots expire, so about one day's volume per retention day is kept beside the live data.
    r = max(w.runs_per_dataset_day, 1.0)
    kept = history if w.snapshot_retention_days is None else min(history, w.snapshot_retention_days)
    superseded = w.curated_gb_per_day * (1.0 if r > 1.0 else 0.0) * kept
    out.add("S3", f"curated, superseded files ({kept} d)", "s3.standard", superseded)
    quarantine_gb = raw_day * w.quarantine_ratio * min(history, w.quarantine_days)
    out.add("S3", "quarantine rows", "s3.standard", quarantine_gb)
    out.add("S3", "Athena results (7 d)", "s3.standard", w.queries_per_day * w.athena_result_mb / GIB * 7)

    parts = 1.0 if w.mb_per_file <= MULTIPART_PART_MB else math.ceil(w.mb_per_file / MULTIPART_PART_MB) + 2.0
    compacted_per_day = w.datasets * w.partitions_per_file if r > 1.0 else 0.0
    puts = {
        "uploads": w.files_per_day * parts + w.runs_per_day,  # + one completeness marker per delivery
        "curated Parquet": w.files_per_day * w.partitions_per_file,
        # each run's commit: a manifest, a manifest list and a metadata file
        "Iceberg metadata": w.runs_per_day * 3,
        "compaction": compacted_per_day * 4,
        "quarantine and manifests": w.files_with_bad_rows_per_day + w.runs_per_day,
        "listings": w.runs_per_day * 5,
        "Athena results": w.queries_per_day * 2,
    }
    out.add("S3", "PUT/COPY/LIST requests", "s3.put", sum(puts.values()) * month)
    curated_file_mb = max(w.mb_per_file * w.curated_ratio / w.partitions_per_file, 0.001)
    athena_gets = w.queries_per_day * 2 * max(1.0, w.gb_scanned_per_query * 1024.0 / curated_file_mb)
    gets = w.files_per_day * 3 + athena_gets  # dispatcher check, job HEAD and GET per raw file
    out.add("S3", "GET/HEAD requests", "s3.get", gets * month)
    if ia_days:
        out.add("S3", "lifecycle transitions to Standard-IA", "s3.transition_ia", w.files_per_day * month)
    if glacier_days:
        out.add("S3", "lifecycle transitions to Glacier", "s3.transition_glacier", w.files_per_day * month)
    log_gb = (sum(puts.values()) + gets) * ACCESS_LOG_BYTES_PER_REQUEST / GIB**3 * min(history, 365)
    out.add("S3", "server access logs", "s3.standard", log_gb)


def _glue(out: _Lines, w: Workload, month: float) -> None:
    runs = w.runs_per_day * month
    worker_dpu = WORKER_DPU[w.spark_worker_type] * w.spark_workers
    spark_rate = w.spark_mb_per_second_per_worker * w.spark_workers
    if w.routine_engine == "python":
        seconds = max(MINIMUM_BILLED_SECONDS, w.run_overhead_seconds + w.run_mb / w.python_mb_per_second)
        out.add(
            "Glue",
            f"Python shell runs ({seconds:.0f} s at {PYTHON_SHELL_DPU} DPU)",
            "glue.dpu_hour",
            runs * seconds * PYTHON_SHELL_DPU / 3600.0,
        )
    else:
        seconds = max(MINIMUM_BILLED_SECONDS, w.spark_overhead_seconds + w.run_mb / spark_rate)
        out.add(
            "Glue",
            f"Spark runs ({seconds:.0f} s at {worker_dpu:g} DPU)",
            "glue.dpu_hour",
            runs * seconds * worker_dpu / 3600.0,
        )
    if w.spark_runs_per_month:
        seconds = max(MINIMUM_BILLED_SECONDS, w.spark_overhead_seconds + w.spark_gb_per_run * GIB / spark_rate)
        out.add(
            "Glue",
            f"Spark backfills ({seconds:.0f} s at {worker_dpu:g} DPU)",
            "glue.dpu_hour",
            w.spark_runs_per_month * seconds * worker_dpu / 3600.0,
        )
    # one data and one quarantine table per dataset, a partition per day, a quarantine partition per run
    objects = w.datasets * (2 + w.history_days) + w.runs_per_day * min(w.history_days, w.quarantine_days)
    out.add("Glue", "Data Catalog objects", "glue.catalog_objects", objects)
    requests = (w.runs_per_day * CATALOG_REQUESTS_PER_RUN + w.queries_per_day * CATALOG_REQUESTS_PER_QUERY) * month
    out.add("Glue", "Data Catalog requests", "glue.catalog_requests", requests)


def _orchestration(out: _Lines, w: Workload, month: float) -> None:
    runs = w.runs_per_day * month
    failures = runs * w.failure_rate
    out.add("Step Functions", "state transitions", "sfn.transition", (runs * STATE_TRANSITIONS_PER_RUN) + failures * 3)
    invocations = runs  # one batch per run on average
    out.add("Lambda", "dispatcher + notifier requests", "lambda.request", invocations + failures)
    out.add(
        "Lambda",
        "dispatcher + notifier compute",
        "lambda.gb_second",
        invocations * w.dispatcher_seconds * 0.5 + failures * 1.0 * 0.25,
    )
    idle_polls = SQS_POLLERS * 3 * 60 * 24 * month
    sqs = w.files_per_day * month * 1.1 + idle_polls  # send, receive and delete (batches of 10)
    out.add("SQS", "ingest queue requests", "sqs.request", sqs)
    out.add("EventBridge", "S3 Object Created events", "events.aws_service_event", w.files_per_day * month)
    out.add("SNS", "alerts (state machine and Glue failure rule)", "sns.publish", failures * 2)


def _dynamodb(out: _Lines, w: Workload, month: float) -> None:
    files = w.files_per_day * month
    runs = w.runs_per_day * month
    out.add(
        "DynamoDB",
        "writes (claims, outcomes, runs, locks)",
        "dynamodb.write",
        files * WRITE_UNITS_PER_FILE + runs * WRITE_UNITS_PER_RUN,
    )
    out.add(
        "DynamoDB",
        "reads (contracts, ledgers)",
        "dynamodb.read",
        files * READ_UNITS_PER_FILE + runs * READ_UNITS_PER_RUN,
    )
    stored_gb = (w.files_per_day * w.history_days * FILE_ITEM_KB + w.runs_per_day * w.history_days * RUN_ITEM_KB) / (
        1024.0 * 1024.0
    )
    out.add("DynamoDB", "storage (files and runs history)", "dynamodb.storage", stored_gb)
    out.add("DynamoDB", "point-in-time recovery", "dynamodb.pitr", stored_gb)


def _kms(out: _Lines, w: Workload, month: float) -> None:
    out.add("KMS", "project key", "kms.key", 1)
    out.add(
        "KMS",
        "requests (bucket keys on)",
        "kms.request",
        (w.runs_per_day * KMS_REQUESTS_PER_RUN + w.files_per_day * KMS_REQUESTS_PER_FILE) * month,
    )


def _cloudwatch(out: _Lines, w: Workload, month: float) -> None:
    hours_with_data = min(24.0, w.runs_per_dataset_day) / 24.0
    metrics = w.datasets * RUN_METRICS * METRIC_DIMENSION_SETS
    out.add(
        "CloudWatch",
        f"custom metrics ({metrics}, billed {hours_with_data:.0%} of hours)",
        "cloudwatch.metric",
        metrics * hours_with_data,
    )
    out.add("CloudWatch", "PutMetricData calls", "cloudwatch.put_metric_data", w.runs_per_day * month)
    alarm_metrics = FIXED_ALARM_METRICS + QUARANTINE_ALARM_METRICS * w.quarantine_alarms
    out.add("CloudWatch", f"alarms ({alarm_metrics} metrics)", "cloudwatch.alarm_metric", alarm_metrics)
    out.add("CloudWatch", "dashboard", "cloudwatch.dashboard", w.dashboards)
    out.add("CloudWatch", "log ingestion", "logs.ingest", w.log_gb_per_month)
    stored = w.log_gb_per_month * LOG_STORAGE_RATIO * w.log_retention_days / DAYS_PER_MONTH
    out.add("CloudWatch", f"log storage ({w.log_retention_days} d)", "logs.storage", stored)


def _athena(out: _Lines, w: Workload, month: float) -> None:
    per_query = max(w.gb_scanned_per_query, ATHENA_MINIMUM_GB)
    out.add("Athena", "data scanned", "athena.scanned", w.queries_per_day * per_query * month)


def _network(out: _Lines, w: Workload, month: float) -> None:
    if w.private_network:
        hours = INTERFACE_ENDPOINT_SERVICES * w.availability_zones * HOURS_PER_MONTH
        out.add(
            "VPC",
            f"interface endpoints ({INTERFACE_ENDPOINT_SERVICES} x {w.availability_zones} AZ)",
            "vpc.interface_endpoint_hour",
            hours,
        )
        out.add("VPC", "interface endpoint traffic", "vpc.interface_endpoint_data", w.endpoint_api_gb_per_month)
        out.add("VPC", "S3 and DynamoDB gateway endpoints", "vpc.gateway_endpoint", 2)
    if w.site_to_site_vpn:
        out.add("VPC", "Site-to-Site VPN connection", "vpn.connection_hour", HOURS_PER_MONTH)
        out.add(
            "VPC",
            f"S3 interface endpoint for uploads ({w.availability_zones} AZ)",
            "vpc.interface_endpoint_hour",
            w.availability_zones * HOURS_PER_MONTH,
        )
        out.add(
            "VPC",
            "upload traffic through the S3 interface endpoint",
            "vpc.interface_endpoint_data",
            w.raw_gb_per_day * month,
        )


def _delivery(out: _Lines, w: Workload) -> None:
    out.add("CI/CD", "CodeBuild minutes", "codebuild.medium_minute", w.builds_per_month * w.build_minutes)
    out.add("CI/CD", "build key (CFN/seed.yaml)", "kms.key", 1)


__all__ = [
    "DEFAULT_WORKLOAD",
    "PRICES",
    "PRICES_AS_OF",
    "PRICE_REGION",
    "PRICE_SOURCE",
    "CostLine",
    "Estimate",
    "Price",
    "Workload",
    "estimate",
    "glue_run_cost",
]
