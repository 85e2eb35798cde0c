"""One ingest run, end to end: the algorithm both engines share.

lock the dataset -> claim the objects -> create or evolve the Iceberg table -> the engine writes data
files (invisible) -> upsert: the latest row per key wins within the run -> check the accounting ->
commit ONE Iceberg snapshot (the moment readers see the run) -> file ledger -> run ledger -> metrics
-> unlock.

A crash anywhere before the snapshot commit leaves the table as it was; a crash after it leaves the
run's rows visible and the ledgers behind, which a retry of the same run id brings up to date: the
snapshot summary names the run (``lakeport.run-id``), so the retry finds its commit and does not
commit again. Rows read always equal rows written + quarantined + duplicates dropped, per file and per
run, or the run fails before anything becomes visible.

**The commit point.** Just before the commit the run records ``commit_run`` on the dataset lock and
on each of its file claims. From then on the run can only go forward: any failure is reported as
:class:`~lakeport.errors.CommitIncompleteError` (transient, so the state machine retries the same
run id), the claims are never marked FAILED, no other run may lock the dataset or take the objects,
and the retry claims again even the objects it had already recorded, redoes the run (same names,
same rows) and finishes the commit and the ledgers. The record is cleared once the ledgers are done.

**What a reader sees.** The snapshot before the run or the snapshot after it, whatever partitions
the run touched: Iceberg swaps the table's metadata pointer in one Glue ``UpdateTable`` call.

**Why the dataset lock stays.** Iceberg's optimistic commit keeps the *table* consistent when two
writers commit at once (the second plans again on the new snapshot, see
:mod:`lakeport.iceberg.commit`). The lock keeps the *ledgers* consistent: one run at a time owns a
dataset's claims and its commit record, so "each object exactly once" and the roll-forward of an
interrupted commit stay simple. Writers outside lakeport (table maintenance, Athena ``OPTIMIZE``)
do not take the lock and are handled by the optimistic commit alone.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

from .aws import AwsContext, translate
from .catalog import QUARANTINE_TABLE, Catalog
from .clock import from_epoch, iso
from .contract import Contract
from .cost import glue_run_cost
from .engine.dedupe import supersede_within_run
from .engine.layout import TableLayout, source_id, split_uri
from .engine.model import QUARANTINED, SUCCEEDED, EngineJob, EngineResult, FileOutcome, SourceInput
from .errors import AccountingError, CommitIncompleteError, LakeportError
from .iceberg.commit import CommitOutcome, RunCommit
from .iceberg.reading import table_keys
from .iceberg.tables import CONTRACT_VERSION_PROPERTY, CuratedTables, open_catalog
from .ledger.files import CLAIMED, FAILED, FileLedger, SourceObject
from .ledger.locks import DatasetLock, Heartbeat, LockLease
from .ledger.runs import RunLedger, RunRecord, finished_state, new_run_id
from .metrics import publish_run_metrics
from .registry import ContractRegistry
from .resources import Resources

log = logging.getLogger(__name__)

# A run's dataset lock and object claims are leased for minutes and renewed by a heartbeat while
# the run lives: a killed run frees its dataset within a lease, not hours later.
DEFAULT_LOCK_LEASE = 300
HEARTBEATS_PER_LEASE = 5


@dataclass
class IngestRequest:
    """What to ingest: a dataset, the raw objects (in order) and how the run was started."""

    dataset: str
    objects: Sequence[SourceObject]
    run_id: Optional[str] = None
    force: bool = False
    engine: str = "python"
    engine_reason: str = "chosen by the caller"
    contract_version: Optional[int] = None
    execution_arn: Optional[str] = None
    job_run_id: Optional[str] = None
    reprocessing: bool = False
    """The objects are quarantined rows written out as JSON Lines (see :mod:`lakeport.recovery`)."""


@dataclass
class RunSummary:
    """The outcome of a run, as printed by the CLI and returned by the Glue job."""

    dataset: str
    run_id: str
    state: str
    engine: str
    engine_reason: str
    files: List[FileOutcome] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    partitions: List[str] = field(default_factory=list)
    seconds: float = 0.0
    error: Optional[str] = None
    snapshot_id: Optional[int] = None
    commit: Optional[CommitOutcome] = None

    def totals(self) -> Dict[str, int]:
        keys = ("rows_read", "rows_written", "rows_quarantined", "rows_duplicate", "bytes_read")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    @property
    def rejected(self) -> List[FileOutcome]:
        """The files rejected as a whole: none of their rows is in the table."""
        return [f for f in self.files if f.state == QUARANTINED]

    @property
    def rejection(self) -> Optional[str]:
        """The first rejected file and why, and how many more there are."""
        rejected = self.rejected
        if not rejected:
            return None
        first = rejected[0]
        more = f" (and {len(rejected) - 1} more file(s))" if len(rejected) > 1 else ""
        return f"{first.source.uri}: {first.reason}{more}"


EngineFactory = Callable[[str], Any]


def default_engine(name: str) -> Any:
    if name == "spark":
        from .engine.spark.engine import SparkEngine

        return SparkEngine()
    from .engine.python.engine import PythonEngine

    return PythonEngine()


class Ingestor:
    """Runs ingests for one deployment (its buckets and tables) through one AWS context."""

    def __init__(
        self,
        aws: AwsContext,
        resources: Resources,
        *,
        engine_factory: EngineFactory = default_engine,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        lock_lease_seconds: int = DEFAULT_LOCK_LEASE,
        claim_lease_seconds: int = DEFAULT_LOCK_LEASE,
        heartbeat_seconds: Optional[float] = None,
        publish_metrics: bool = True,
        filesystem: Any = None,
        iceberg_catalog: Any = None,
    ) -> None:
        self.aws = aws
        self.resources = resources
        self.engine_factory = engine_factory
        self.clock = clock
        self.lock_lease_seconds = lock_lease_seconds
        self.claim_lease_seconds = claim_lease_seconds
        self.heartbeat_seconds = (
            heartbeat_seconds
            if heartbeat_seconds is not None
            else min(lock_lease_seconds, claim_lease_seconds) / HEARTBEATS_PER_LEASE
        )
        self.publish_metrics = publish_metrics
        ddb = aws.client("dynamodb")
        self.registry = ContractRegistry(ddb, resources.datasets_table)
        self.files = FileLedger(ddb, resources.files_table)
        self.runs = RunLedger(ddb, resources.runs_table)
        self.lock = DatasetLock(ddb, resources.datasets_table)
        self.catalog = Catalog(aws.client("glue"))
        self._filesystem = filesystem
        self._iceberg_catalog = iceberg_catalog
        self._tables: Optional[CuratedTables] = None

    @property
    def filesystem(self) -> Any:
        if self._filesystem is None:
            self._filesystem = self.aws.s3_filesystem()
        return self._filesystem

    @property
    def tables(self) -> CuratedTables:
        """The deployment's curated Iceberg tables (pyiceberg's Glue catalog over this context)."""
        if self._tables is None:
            catalog = self._iceberg_catalog if self._iceberg_catalog is not None else open_catalog(self.aws)
            self._tables = CuratedTables(catalog, self.aws.client("glue"))
        return self._tables

    def layout(self, contract: Contract) -> TableLayout:
        return TableLayout.for_contract(
            contract, f"s3://{self.resources.curated_bucket}", f"s3://{self.resources.quarantine_bucket}"
        )

    # -- the run ------------------------------------------------------------------------------------

    def run(self, request: IngestRequest) -> RunSummary:
        started = time.monotonic()
        contract = self.registry.get(request.dataset, request.contract_version)
        if request.reprocessing:
            contract = for_reprocessing(contract)
        run_id = request.run_id or new_run_id(self.clock())
        record = self.runs.start(
            RunRecord(
                dataset=contract.dataset,
                run_id=run_id,
                engine=request.engine,
                engine_reason=request.engine_reason,
                contract_version=contract.version,
                files=len(request.objects),
                file_uris=[o.uri for o in request.objects],
                execution_arn=request.execution_arn,
                job_run_id=request.job_run_id,
            )
        )
        # a retried run keeps its first start time, so its lineage columns and files are identical
        ingested_at = _parse_time(record.started_at) or self.clock()
        summary = RunSummary(contract.dataset, run_id, "RUNNING", request.engine, request.engine_reason)
        claimed: List[SourceObject] = []
        commit = _Commit()
        heartbeat: Optional[Heartbeat] = None
        try:
            lease = self.lock.acquire(contract.dataset, run_id, self.lock_lease_seconds)
            if lease.taken_from:
                self._abandon(contract.dataset, lease, run_id)
            heartbeat = Heartbeat(
                self.lock,
                self.files,
                contract.dataset,
                run_id,
                self.lock_lease_seconds,
                self.claim_lease_seconds,
                self.heartbeat_seconds,
            ).__enter__()
            commit.begun = lease.resuming
            claimed = self._claim(contract, run_id, request, summary, resume=lease.resuming)
            heartbeat.watch(claimed)
            if lease.resuming:
                # the rows of these objects may be visible already: keep them with this run
                for obj in claimed:
                    self.files.mark_committing(obj, run_id)
            result = self._ingest(contract, run_id, ingested_at, request.engine, claimed, summary, commit)
            summary.files = result.files if result is not None else []
            summary.state = finished_state(len(summary.files), len(summary.rejected))
            summary.seconds = time.monotonic() - started
            self._record_success(contract, run_id, summary, {o.uri: o for o in claimed})
            if commit.begun:
                self.lock.end_commit(contract.dataset, run_id)
            self._publish_success(contract, summary)
            return summary
        except Exception as exc:
            error = translate(exc, f"ingest run {run_id} of {contract.dataset}")
            if commit.begun:
                error = CommitIncompleteError(
                    f"dataset {contract.dataset}: run {run_id} stopped after it began making its output"
                    f" visible: {error.one_line()}",
                    hint=f"retry run {run_id} (the state machine does; by hand: 'lakeport replay"
                    f" {contract.dataset} --run {run_id}'); no other run of the dataset can start until it"
                    " has finished",
                )
            self._record_failure(contract, run_id, claimed, error, transient=error.transient)
            if error is exc:
                raise
            raise error from exc
        finally:
            if heartbeat is not None:
                heartbeat.__exit__(None, None, None)
            try:
                self.lock.release(contract.dataset, run_id)
            except LakeportError:
                log.warning(
                    "could not release the lock of %s held by %s; it expires on its own",
                    contract.dataset,
                    run_id,
                )

    def _claim(
        self, contract: Contract, run_id: str, request: IngestRequest, summary: RunSummary, resume: bool = False
    ) -> List[SourceObject]:
        claimed = []
        for obj in request.objects:
            claim = self.files.claim(
                obj,
                contract.dataset,
                run_id,
                lease_seconds=self.claim_lease_seconds,
                force=request.force,
                resume=resume,
            )
            if not claim.claimed:
                summary.skipped.append(claim.describe())
                continue
            earlier = None if request.force or resume else self.files.same_content(obj)
            if earlier is not None:
                # the same bytes again under the same key: reading them would only quarantine every
                # row as a duplicate key; the ledger records the delivery and what it duplicates
                why = (
                    f"the same content (ETag {obj.etag}, {obj.size} bytes) as version {earlier.version_id}"
                    f" ingested by run {earlier.run_id}: a duplicate delivery, not read again"
                    " (lakeport replay <dataset> --object <uri> reads it anyway)"
                )
                self.files.finish(obj, run_id, SUCCEEDED, 0, 0, 0, 0, reason=why)
                summary.skipped.append(f"{obj.uri} (version {obj.version_id}): {why}")
                continue
            claimed.append(obj)
        return claimed

    def _ingest(
        self,
        contract: Contract,
        run_id: str,
        ingested_at: datetime,
        engine_name: str,
        objects: List[SourceObject],
        summary: RunSummary,
        commit: Optional[_Commit] = None,
    ) -> Optional[EngineResult]:
        if not objects:
            return None
        layout = self.layout(contract)
        table = self.tables.ensure(contract, layout.table_location)
        from .engine.python.engine import quarantine_schema

        quarantine_columns = [
            (
                f.name,
                "timestamp"
                if f.name == "lakeport_ingested_at"
                else "bigint"
                if f.name == "lakeport_source_row"
                else "string",
            )
            for f in quarantine_schema(contract)
        ]
        self.catalog.ensure_table(
            contract, layout.quarantine_location, columns=quarantine_columns, table_type=QUARANTINE_TABLE
        )
        sources = [self._source_input(obj) for obj in objects]
        job = EngineJob(
            contract=contract,
            run_id=run_id,
            ingested_at=ingested_at.replace(tzinfo=None) if ingested_at.tzinfo else ingested_at,
            sources=sources,
            layout=layout,
            input_filesystem=self.filesystem,
            output_filesystem=self.filesystem,
            remote_output=True,
            table_keys=lambda: table_keys(table, self.filesystem, contract, run_id),
            s3_client=self.aws.client("s3"),
        )
        engine = self.engine_factory(engine_name)
        result: EngineResult = engine.run(job)
        if contract.write_mode == "upsert":
            for source_uri, superseded in supersede_within_run(self.filesystem, contract, result).items():
                outcome = next(o for o in result.files if o.source.uri == source_uri)
                outcome.rows_duplicate += superseded
                outcome.rows_written -= superseded
        self._check_accounting(contract, run_id, result.files)
        self._note_missing_columns(contract, run_id, result.files)
        self._quarantine_rejected_files(contract, layout, run_id, objects, result.files)
        # the commit point: from here on this run only goes forward (see the module docstring)
        self.lock.begin_commit(contract.dataset, run_id)
        if commit is not None:
            commit.begun = True
        for obj in objects:
            self.files.mark_committing(obj, run_id)
        # the moment of truth: one snapshot with every file of the run
        new_files = [w.uri for o in result.files if o.state == SUCCEEDED for w in o.files if w.rows > 0]
        committed = self.commit_files(contract, run_id, new_files)
        if any(o.quarantine_files for o in result.files):
            self.catalog.set_partitions(
                contract.database,
                contract.quarantine_table,
                {(run_id,): layout.quarantine_run_location(run_id)},
            )
        summary.partitions = [layout.partition_path(k).rstrip("/") or "(table)" for k in sorted(result.partitions())]
        summary.snapshot_id = committed.snapshot_id
        summary.commit = committed
        return result

    def commit_files(self, contract: Contract, run_id: str, new_files: List[str]) -> CommitOutcome:
        """Commit a run's data files as one snapshot of the dataset's table (idempotent per run id)."""
        properties = {"lakeport.dataset": contract.dataset}
        if contract.version is not None:
            properties[CONTRACT_VERSION_PROPERTY] = str(contract.version)
        committer = RunCommit(
            lambda: self.tables.load(contract), contract, run_id, self.filesystem, properties=properties
        )
        outcome = committer.commit(new_files)
        if outcome.attempts > 1:
            log.info("%s run %s: committed after %d attempts", contract.dataset, run_id, outcome.attempts)
        return outcome

    def _source_input(self, obj: SourceObject) -> SourceInput:
        version = obj.ledger_key[1]
        return SourceInput(
            uri=obj.uri, version=version, size=obj.size, source_id=source_id(obj.uri, version), key=obj.key
        )

    @staticmethod
    def _note_missing_columns(contract: Contract, run_id: str, outcomes: List[FileOutcome]) -> None:
        """A file that lacks some of the contract's (nullable) columns succeeds with them null; its
        ledger entry and the run's output say which, and which of the file's columns went unread."""
        for outcome in outcomes:
            if outcome.state != SUCCEEDED or not outcome.missing_columns:
                continue
            note = f"no column {', '.join(repr(n) for n in outcome.missing_columns)} in the file: left null"
            if outcome.ignored_columns:
                shown = outcome.ignored_columns[:10]
                more = ", ..." if len(outcome.ignored_columns) > 10 else ""
                note += f"; the file's {', '.join(repr(n) for n in shown)}{more} not read"
            outcome.reason = note
            log.warning("%s run %s: %s: %s", contract.dataset, run_id, outcome.source.uri, note)

    @staticmethod
    def _check_accounting(contract: Contract, run_id: str, outcomes: List[FileOutcome]) -> None:
        for outcome in outcomes:
            if not outcome.balanced:
                raise AccountingError(
                    f"dataset {contract.dataset}, run {run_id}: {outcome.source.uri} read {outcome.rows_read} rows"
                    f" but wrote {outcome.rows_written}, quarantined {outcome.rows_quarantined} and dropped"
                    f" {outcome.rows_duplicate}; nothing was made visible",
                    hint="this is a lakeport bug: keep the run id and report it",
                )

    def _quarantine_rejected_files(
        self,
        contract: Contract,
        layout: TableLayout,
        run_id: str,
        objects: List[SourceObject],
        outcomes: List[FileOutcome],
    ) -> None:
        by_uri = {o.uri: o for o in objects}
        for outcome in outcomes:
            if outcome.state != QUARANTINED:
                continue
            obj = by_uri[outcome.source.uri]
            target = layout.rejected_file_location(run_id, obj.key)
            bucket, _, key = split_uri(target)[1].partition("/")
            source: Dict[str, str] = {"Bucket": obj.bucket, "Key": obj.key}
            if obj.version_id and obj.version_id != "null":
                source["VersionId"] = obj.version_id
            try:
                # server-side copy of the exact version, whatever the key looks like
                self.aws.client("s3").copy_object(Bucket=bucket, Key=key, CopySource=source)
                outcome.rejected_copy = target
            except Exception as exc:
                error = translate(exc, f"copying rejected {obj.uri} to the quarantine zone")
                if error.transient:
                    raise error from exc
                log.warning("%s", error.one_line())

    # -- ledgers ----------------------------------------------------------------------------------

    def _record_success(
        self, contract: Contract, run_id: str, summary: RunSummary, objects: Dict[str, SourceObject]
    ) -> None:
        for outcome in summary.files:
            self.files.finish(
                objects[outcome.source.uri],
                run_id,
                SUCCEEDED if outcome.state == SUCCEEDED else QUARANTINED,
                outcome.rows_read,
                outcome.rows_written,
                outcome.rows_quarantined,
                outcome.rows_duplicate,
                reason=outcome.reason,
                quarantine_uri=outcome.rejected_copy,
            )
        totals = summary.totals()
        rejected = summary.rejected
        self.runs.finish(
            contract.dataset,
            run_id,
            state=summary.state,
            files_rejected=len(rejected),
            bytes_rejected=sum(f.source.size for f in rejected),
            rejection=summary.rejection,
            partitions=summary.partitions,
            partition_count=len(summary.partitions),
            duration_seconds=round(summary.seconds, 3),
            estimated_cost_usd=glue_run_cost(summary.engine, summary.seconds),
            rows_read=totals["rows_read"],
            rows_written=totals["rows_written"],
            rows_quarantined=totals["rows_quarantined"],
            rows_duplicate=totals["rows_duplicate"],
            bytes_read=totals["bytes_read"],
            snapshot_id=summary.snapshot_id,
        )

    def _publish_success(self, contract: Contract, summary: RunSummary) -> None:
        """Metrics of a committed run: a CloudWatch failure here is logged, never fails the run."""
        if not self.publish_metrics:
            return
        totals = summary.totals()
        try:
            publish_run_metrics(
                self.aws.client("cloudwatch"),
                self.resources.metrics_namespace,
                contract.dataset,
                seconds=summary.seconds,
                files_failed=0,
                files_quarantined=sum(1 for f in summary.files if f.state == QUARANTINED),
                engine=summary.engine,
                rows_read=totals["rows_read"],
                rows_written=totals["rows_written"],
                rows_quarantined=totals["rows_quarantined"],
                rows_duplicate=totals["rows_duplicate"],
                bytes_read=totals["bytes_read"],
            )
        except Exception as exc:
            log.warning(
                "run %s of %s is complete but its metrics were not published: %s",
                summary.run_id,
                contract.dataset,
                translate(exc, "publishing run metrics").one_line(),
            )

    def _abandon(self, dataset: str, lease: LockLease, run_id: str) -> None:
        """The lock was taken over from a run that stopped renewing it: if that run is still shown
        RUNNING, record it FAILED (it can no longer finish: its commit had not begun, or the lock
        could not have been taken) and mark the objects it still held FAILED, so that they are
        replayed like those of any failed run. Never stops this run."""
        dead = lease.taken_from
        assert dead is not None
        expired = iso(from_epoch(lease.taken_from_expired_at)) if lease.taken_from_expired_at else "unknown"
        error = (
            f"abandoned: run {dead} stopped renewing the lock of {dataset} (its process was killed or lost);"
            f" its lease expired at {expired} and run {run_id} took the dataset over. Nothing of it was made"
            f" visible; its objects are FAILED: 'lakeport replay {dataset} --run {dead}' ingests them"
        )
        try:
            if not self.runs.abandon(dataset, dead, error):
                return
            log.warning("%s", error)
            for record in self.files.for_run(dead):
                if record.state == CLAIMED and record.run_id == dead and not record.commit_run:
                    self.files.finish(record.source, dead, FAILED, 0, 0, 0, 0, reason=error)
        except Exception as exc:
            log.warning("could not record run %s as abandoned: %s", dead, translate(exc, "abandoning a run").one_line())

    def _record_failure(
        self,
        contract: Contract,
        run_id: str,
        claimed: List[SourceObject],
        error: LakeportError,
        transient: bool,
    ) -> None:
        """A transient failure leaves the claims for the retry; a terminal one marks them FAILED.

        A run past its commit point always fails transiently (:class:`CommitIncompleteError`)."""
        try:
            self.runs.fail(contract.dataset, run_id, error.one_line())
            if not transient:
                for obj in claimed:
                    self.files.finish(obj, run_id, FAILED, 0, 0, 0, 0, reason=error.one_line())
            if self.publish_metrics and not transient:
                publish_run_metrics(
                    self.aws.client("cloudwatch"),
                    self.resources.metrics_namespace,
                    contract.dataset,
                    rows_read=0,
                    rows_written=0,
                    rows_quarantined=0,
                    rows_duplicate=0,
                    bytes_read=0,
                    seconds=0.0,
                    files_failed=len(claimed),
                    files_quarantined=0,
                )
        except Exception as exc:
            log.error(
                "could not record the failure of run %s: %s",
                run_id,
                translate(exc, "recording a failed run").one_line(),
            )


def for_reprocessing(contract: Contract) -> Contract:
    """The contract as it reads quarantined rows again: JSON Lines of text values (UTF-8, uncompressed),
    and no file-level ``max_bad_ratio`` (such a file holds only rows that failed once, so a high share
    failing again says nothing about the file). Columns, rules and the table stay as they are."""
    from .contract import SourceOptions

    source = contract.source.model_copy(
        update={"format": "jsonl", "options": SourceOptions(encoding="utf-8", compression="none")}
    )
    quality = contract.quality.model_copy(update={"max_bad_ratio": 1.0})
    return contract.model_copy(update={"source": source, "quality": quality})


@dataclass
class _Commit:
    """Whether the run has passed its commit point (in this attempt or an earlier one)."""

    begun: bool = False


def _parse_time(text: Optional[str]) -> Optional[datetime]:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc)


__all__ = ["IngestRequest", "Ingestor", "RunSummary"]
