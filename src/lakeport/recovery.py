"""Recovery: replay raw objects, finish a stopped run, and reprocess quarantined rows after a fix.

**Replay** ingests objects again through :meth:`Ingestor.run` with ``force``: objects named
explicitly, or taken from the files ledger by time range and state. What a replay does to the table
follows the write mode:

* ``append`` adds the object's rows again. A replay of an object that already wrote rows is refused
  unless duplicates are explicitly allowed; objects that wrote nothing (FAILED, or QUARANTINED as a
  whole file) are always safe to replay.
* ``overwrite_partitions`` and ``upsert`` are idempotent: replaying the same object twice leaves the
  same table. They are not time travel: the replayed rows replace what the partitions (or keys) hold
  *now*, so replaying an old object over newer deliveries brings its values back.

**Resume** runs a given run id again with its own objects: the way to finish a run that stopped
after its commit point when the state machine's retries are exhausted (see :mod:`lakeport.ingest`).

**Quarantine reprocess** takes the rows a run quarantined (every column kept as the text that was
read) and writes them, sorted by source object and row, as a JSON Lines object of
``{source column name: text}`` records into the artifacts bucket (not the raw bucket, so the
dispatcher never sees it). The object is ingested with the dataset's current contract read as JSON
Lines, where text converts exactly as the CSV text did: rows that pass are written, rows that still
fail are quarantined again under the new run (the file-level ``max_bad_ratio`` does not apply: such
an object holds only rows that failed once). The object's key is derived from the quarantine run
and a digest of its content, and it is written only once, so reprocessing the same run twice finds
the same object in the files ledger and ingests nothing the second time. Rows of files that were
rejected as a whole are left to a replay of those files.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

from .aws import AwsContext, translate
from .contract import Contract
from .engine.layout import list_parquet, split_uri
from .errors import ConfigurationError, DatasetNotFoundError, TerminalError
from .ingest import Ingestor, IngestRequest, RunSummary
from .ledger.files import DONE_STATES, FINAL_STATES, QUARANTINED, FileRecord, SourceObject
from .ledger.runs import run_second, start_order
from .resources import Resources
from .s3objects import list_objects

REPROCESS_PREFIX = "quarantine-reprocess"
REPLAY_STATES = FINAL_STATES


class DuplicateReplayError(TerminalError):
    """An append-mode replay would add rows that are already in the table."""


@dataclass
class ReplayPlan:
    """What a replay would ingest, and what it leaves out and why."""

    dataset: str
    write_mode: str
    objects: List[SourceObject] = field(default_factory=list)
    already_written: List[FileRecord] = field(default_factory=list)
    left_out: List[str] = field(default_factory=list)


@dataclass
class ReprocessOutcome:
    """One quarantine run reprocessed: the object written and the run that ingested it (if any)."""

    quarantine_run: str
    object_uri: Optional[str]
    rows: int
    rows_from_rejected_files: int
    summary: Optional[RunSummary] = None
    skipped: Optional[str] = None


TimeBound = Union[datetime, str, None]


class Recovery:
    """Replays, resumes and quarantine reprocessing for one deployment."""

    def __init__(self, aws: AwsContext, resources: Resources, ingestor: Optional[Ingestor] = None) -> None:
        self.aws = aws
        self.resources = resources
        self.ingestor = ingestor or Ingestor(aws, resources)

    # -- replay ------------------------------------------------------------------------------------

    def plan_replay(
        self,
        dataset: str,
        uris: Sequence[str] = (),
        since: TimeBound = None,
        until: TimeBound = None,
        state: Optional[str] = None,
    ) -> ReplayPlan:
        """Choose the objects: the ``uris`` given (their current versions), else the ledger's objects
        of ``dataset`` updated in [since, until] (optionally of one state)."""
        contract = self.ingestor.registry.get(dataset)
        plan = ReplayPlan(contract.dataset, contract.write_mode)
        if state is not None and state not in REPLAY_STATES:
            raise ConfigurationError(f"--state is one of {', '.join(REPLAY_STATES)}, not {state!r}")
        if uris:
            candidates = self._listed(contract, uris)
        else:
            records = self.ingestor.files.for_dataset(contract.dataset, since=since, until=until, state=state)
            candidates = [r.source for r in records if r.state in REPLAY_STATES]
        seen = set()
        for obj in sorted(candidates, key=lambda o: (o.key, o.ledger_key[1])):
            if obj.ledger_key in seen:
                continue
            seen.add(obj.ledger_key)
            if obj.bucket != self.resources.raw_bucket:
                plan.left_out.append(f"{obj.uri}: not a raw object (quarantine reprocess objects are replayed by it)")
                continue
            record = self.ingestor.files.get(obj)
            if record is not None and record.state in DONE_STATES and (record.rows_written or 0) > 0:
                plan.already_written.append(record)
            plan.objects.append(obj)
        return plan

    def replay(
        self,
        dataset: str,
        uris: Sequence[str] = (),
        since: TimeBound = None,
        until: TimeBound = None,
        state: Optional[str] = None,
        allow_duplicates: bool = False,
        engine: str = "python",
    ) -> RunSummary:
        plan = self.plan_replay(dataset, uris, since, until, state)
        if not plan.objects:
            raise ConfigurationError(
                f"dataset {plan.dataset}: nothing to replay"
                + (f" ({'; '.join(plan.left_out)})" if plan.left_out else ""),
                hint="name objects with --object, or widen --since/--until/--state",
            )
        if plan.write_mode == "append" and plan.already_written and not allow_duplicates:
            shown = ", ".join(f"{r.uri} ({r.rows_written} rows, run {r.run_id})" for r in plan.already_written[:5])
            more = len(plan.already_written) - 5
            raise DuplicateReplayError(
                f"dataset {plan.dataset} appends: replaying {len(plan.already_written)} object(s) that already"
                f" wrote rows would add those rows a second time: {shown}" + (f" and {more} more" if more > 0 else ""),
                hint="pass --allow-duplicates if that is really wanted; to correct data, fix it at the source and"
                " deliver a new file, or use overwrite_partitions/upsert, where a replay is idempotent",
            )
        return self.ingestor.run(
            IngestRequest(
                dataset=plan.dataset,
                objects=plan.objects,
                force=True,
                engine=engine,
                engine_reason=f"lakeport replay of {len(plan.objects)} object(s)",
            )
        )

    def resume(self, dataset: str, run_id: str, engine: str = "python") -> RunSummary:
        """Run ``run_id`` again with its own objects and id (finishes a run stopped past its commit point)."""
        records = [r for r in self.ingestor.files.for_run(run_id) if r.dataset == dataset]
        if not records:
            raise DatasetNotFoundError(
                f"dataset {dataset}: run {run_id} claimed no object",
                hint="'lakeport runs <dataset>' lists the runs; 'lakeport replay <dataset> --object …' ingests objects",
            )
        return self.ingestor.run(
            IngestRequest(
                dataset=dataset,
                objects=[r.source for r in sorted(records, key=lambda r: r.key)],
                run_id=run_id,
                engine=engine,
                engine_reason=f"lakeport replay --run {run_id}",
            )
        )

    def _listed(self, contract: Contract, uris: Iterable[str]) -> List[SourceObject]:
        found: List[SourceObject] = []
        for uri in uris:
            if not uri.startswith("s3://"):
                raise ConfigurationError(f"{uri!r} is not an s3:// URI", hint="e.g. s3://<raw bucket>/<key>")
            try:
                objects = list_objects(self.aws.client("s3"), uri, contract)
            except Exception as exc:
                raise translate(exc, f"listing {uri}") from exc
            if not objects:
                raise ConfigurationError(f"dataset {contract.dataset}: no object at {uri}")
            found += objects
        return found

    # -- quarantine reprocess ----------------------------------------------------------------------

    def quarantine_runs(self, dataset: str) -> Dict[str, str]:
        """Run id -> location of every run with quarantined rows, oldest first."""
        contract = self.ingestor.registry.get(dataset)
        if not self.ingestor.catalog.table_exists(contract.database, contract.quarantine_table):
            return {}
        partitions = self.ingestor.catalog.get_partitions(contract.database, contract.quarantine_table)
        found = {values[0]: location for values, location in partitions.items()}
        # only runs that share their second with another need the runs ledger to say which started first
        per_second = Counter(run_second(run_id) for run_id in found)

        def started(run_id: str) -> Optional[str]:
            if per_second[run_second(run_id)] == 1:
                return None
            record = self.ingestor.runs.get(contract.dataset, run_id)
            return record.started_at if record else None

        order = sorted(found, key=lambda r: start_order(r, started(r)))
        return {run_id: found[run_id] for run_id in order}

    def reprocess_quarantine(
        self, dataset: str, run_ids: Sequence[str] = (), engine: str = "python"
    ) -> List[ReprocessOutcome]:
        """Reprocess the quarantined rows of ``run_ids`` (default: every run with quarantined rows)."""
        contract = self.ingestor.registry.get(dataset)
        available = self.quarantine_runs(contract.dataset)
        wanted = list(run_ids) or list(available)
        unknown = [r for r in wanted if r not in available]
        if unknown:
            raise ConfigurationError(
                f"dataset {contract.dataset}: run(s) {', '.join(unknown)} quarantined no rows",
                hint=f"'lakeport quarantine {contract.dataset}' shows the quarantined rows and their runs",
            )
        return [self._reprocess_one(contract, run_id, available[run_id], engine) for run_id in wanted]

    def _reprocess_one(self, contract: Contract, run_id: str, location: str, engine: str) -> ReprocessOutcome:
        rejected = {r.uri for r in self.ingestor.files.for_run(run_id) if r.state == QUARANTINED}
        rows = self._quarantined_rows(contract, location)
        kept = [r for r in rows if r["lakeport_source"] not in rejected]
        outcome = ReprocessOutcome(run_id, None, len(kept), len(rows) - len(kept))
        if not kept:
            outcome.skipped = "no quarantined rows outside rejected files"
            return outcome
        body = reprocess_body(contract, kept)
        digest = hashlib.sha256(body).hexdigest()[:16]
        key = f"{REPROCESS_PREFIX}/{contract.database}/{contract.table}/{run_id}/{digest}.jsonl"
        obj = self._put_once(self.resources.artifacts_bucket, key, body)
        outcome.object_uri = obj.uri
        summary = self.ingestor.run(
            IngestRequest(
                dataset=contract.dataset,
                objects=[obj],
                engine=engine,
                engine_reason=f"quarantine reprocess of run {run_id}",
                reprocessing=True,
            )
        )
        outcome.summary = summary
        if not summary.files:
            outcome.skipped = "; ".join(summary.skipped) or "nothing ingested"
        return outcome

    def _quarantined_rows(self, contract: Contract, location: str) -> List[Dict[str, Any]]:
        import pyarrow.parquet as pq

        filesystem = self.ingestor.filesystem
        wanted = [c.name for c in contract.columns]
        rows: List[Dict[str, Any]] = []
        for uri in list_parquet(filesystem, location):
            table = pq.read_table(split_uri(uri)[1], filesystem=filesystem)
            present = [c for c in wanted if c in table.column_names]
            for row in table.select([*present, "lakeport_source", "lakeport_source_row"]).to_pylist():
                rows.append(row)
        return rows

    def _put_once(self, bucket: str, key: str, body: bytes) -> SourceObject:
        """Write ``body`` at ``key`` unless an object is there already (the key names the content's
        digest, so an existing object holds these very rows), and return it as the ledger knows it."""
        from botocore.exceptions import ClientError

        from .aws import error_code
        from .s3objects import head_object

        s3 = self.aws.client("s3")
        try:
            try:
                return head_object(s3, bucket, key)
            except ClientError as exc:
                if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-ndjson", IfNoneMatch="*")
            except ClientError as exc:
                if error_code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise  # otherwise another process wrote the same rows first
            return head_object(s3, bucket, key)
        except Exception as exc:
            raise translate(exc, f"writing s3://{bucket}/{key}") from exc


def reprocess_body(contract: Contract, rows: List[Dict[str, Any]]) -> bytes:
    """Deterministic JSON Lines: one ``{source column name: text}`` record per row, sorted by source
    object and row; a value that was read as null stays null."""
    ordered = sorted(
        rows, key=lambda r: (str(r["lakeport_source"]), r["lakeport_source_row"] is None, r["lakeport_source_row"] or 0)
    )
    lines = []
    for row in ordered:
        record = {c.source_name: row.get(c.name) for c in contract.columns}
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode("utf-8")


__all__ = [
    "DuplicateReplayError",
    "Recovery",
    "ReplayPlan",
    "ReprocessOutcome",
    "reprocess_body",
]
