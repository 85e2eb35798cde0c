"""The local Glue runner: executes a Python entry point for every job run the emulator starts.

moto accepts ``StartJobRun`` (and enforces the job's ``MaxConcurrentRuns`` there, raising
``ConcurrentRunsExceededException`` as Glue does) but runs nothing. The runner keeps new runs in
``STARTING`` (moto's manual state transition), watches each job's runs from a thread, and hands every
new run to a small worker pool. A worker marks the run ``RUNNING``, calls the entry registered for
the job with the run's arguments, and then marks it ``SUCCEEDED``, or ``FAILED`` with an
``ErrorMessage`` the state machine can read (``[transient] `` in front when a retry may help).

Entries are plain callables ``(arguments) -> None`` taking Glue-style arguments
(``{"--dataset": "sales.orders", ...}``), or ``"package.module:function"`` text naming one.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Union

from lakeport.errors import ConfigurationError, LakeportError
from lakeport.resources import LOCAL_ACCOUNT_ID, LOCAL_REGION

JobEntry = Callable[[Dict[str, str]], None]
"""A job's entry point: called with the run's Glue arguments; raises to fail the run."""

TRANSIENT_MARKER = "[transient] "
"""Prefix of a failed run's ErrorMessage when retrying may help; the state machine matches on it."""

JOB_RUN_MODEL = "glue::job_run"
ACTIVE_STATES = ("STARTING", "RUNNING", "WAITING", "STOPPING")
MAX_ERROR_MESSAGE = 4000

_log = logging.getLogger(__name__)
_manual_transition_users = 0
_manual_transition_lock = threading.Lock()


def _hold_job_runs(hold: bool) -> None:
    """Keep new job runs in STARTING while at least one runner is active (moto's state manager)."""
    global _manual_transition_users
    from moto.moto_api import state_manager

    with _manual_transition_lock:
        _manual_transition_users += 1 if hold else -1
        if hold and _manual_transition_users == 1:
            state_manager.set_transition(JOB_RUN_MODEL, {"progression": "manual", "times": 10**9})
        elif not hold and _manual_transition_users == 0:
            state_manager.unset_transition(JOB_RUN_MODEL)


def resolve_entry(entry: Union[JobEntry, str]) -> JobEntry:
    """A callable as is; ``"package.module:function"`` imported and looked up."""
    if callable(entry):
        return entry
    module_name, _, attribute = str(entry).partition(":")
    if not module_name or not attribute:
        raise ConfigurationError(
            f"Glue job entry {entry!r} is neither a callable nor 'package.module:function' text",
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot load Glue job entry {entry!r}: {exc}") from None
    if not callable(target):
        raise ConfigurationError(f"Glue job entry {entry!r} is not callable")
    return target


def run_arguments(
    default_arguments: Optional[Mapping[str, str]],
    run_arguments_: Optional[Mapping[str, str]],
    non_overridable_arguments: Optional[Mapping[str, str]] = None,
) -> Dict[str, str]:
    """The arguments a job run sees, merged as Glue merges them.

    The job's ``DefaultArguments``, overridden by the run's ``Arguments``, overridden in turn by the
    job's ``NonOverridableArguments``.
    """
    merged = dict(default_arguments or {})
    merged.update(run_arguments_ or {})
    merged.update(non_overridable_arguments or {})
    return {str(key): str(value) for key, value in merged.items()}


def failure_message(exc: BaseException) -> str:
    """The ErrorMessage of a run whose entry raised ``exc``: one line, transient errors marked."""
    if isinstance(exc, LakeportError):
        text = exc.one_line()
        if exc.transient:
            text = TRANSIENT_MARKER + text
    else:
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
    if len(text) > MAX_ERROR_MESSAGE:
        text = text[: MAX_ERROR_MESSAGE - 3] + "..."
    return text


@dataclass
class JobRunRecord:
    """One run the runner executed, for reports and tests."""

    job_name: str
    run_id: str
    arguments: Dict[str, str]
    state: str = "STARTING"
    error_message: Optional[str] = None
    started: float = field(default_factory=time.time)
    seconds: Optional[float] = None


class GlueRunner:
    """Run registered entries for the emulator's Glue job runs until :meth:`stop`."""

    def __init__(
        self,
        account_id: str = LOCAL_ACCOUNT_ID,
        region: str = LOCAL_REGION,
        *,
        workers: int = 4,
        poll_seconds: float = 0.05,
    ) -> None:
        self.account_id = account_id
        self.region = region
        self.workers = workers
        self.poll_seconds = poll_seconds
        self._entries: Dict[str, JobEntry] = {}
        self._seen: Set[str] = set()
        self._pending: Dict[str, Future[None]] = {}
        self._records: List[JobRunRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._pool: Optional[ThreadPoolExecutor] = None

    # -- registration ------------------------------------------------------------------------

    def register(self, job_name: str, entry: Union[JobEntry, str]) -> None:
        """Run ``entry`` for every run of ``job_name`` (replaces an earlier registration)."""
        resolved = resolve_entry(entry)
        with self._lock:
            self._entries[job_name] = resolved

    def entry_for(self, job_name: str) -> Optional[JobEntry]:
        with self._lock:
            return self._entries.get(job_name)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> GlueRunner:
        if self._thread is not None:
            return self
        _hold_job_runs(True)
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="glue-run")
        self._thread = threading.Thread(target=self._watch, name="glue-runner", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop watching, cancel runs that have not started, wait for running entries to return."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout)
        self._thread = None
        assert self._pool is not None
        with self._lock:
            pending = list(self._pending.items())
        for run_id, future in pending:
            if future.cancel():
                self._finish_cancelled(run_id)
        self._pool.shutdown(wait=True)
        self._pool = None
        _hold_job_runs(False)

    def __enter__(self) -> GlueRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state -------------------------------------------------------------------------------

    def _backend(self) -> Any:
        from moto.glue.models import glue_backends

        return glue_backends[self.account_id][self.region]

    def busy(self) -> bool:
        """True while any job run is starting or running (or queued for a worker)."""
        with self._lock:
            if self._pending:
                return True
        for job in list(self._backend().jobs.values()):
            for run in list(job.job_runs):
                if run.status in ACTIVE_STATES:
                    return True
        return False

    def executing(self) -> int:
        """How many job runs are inside their entry point right now (work under way, not waiting)."""
        with self._lock:
            return sum(1 for r in self._records if r.state == "RUNNING")

    def records(self) -> List[JobRunRecord]:
        """The runs executed so far, oldest first."""
        with self._lock:
            return list(self._records)

    # -- the watcher and the workers ------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                self._submit_new_runs()
            except Exception:  # the watcher must outlive a hiccup, e.g. a reset while iterating
                _log.exception("the local Glue runner could not scan the emulator's job runs")
            self._stopping.wait(self.poll_seconds)

    def _submit_new_runs(self) -> None:
        for job in list(self._backend().jobs.values()):
            for run in list(job.job_runs):
                if run.job_run_id in self._seen or run.status != "STARTING":
                    continue
                self._seen.add(run.job_run_id)
                arguments = run_arguments(job.default_arguments, run.arguments, job.non_overridable_arguments)
                arguments.setdefault("--JOB_NAME", job.name)
                arguments.setdefault("--JOB_RUN_ID", run.job_run_id)
                record = JobRunRecord(job_name=job.name, run_id=run.job_run_id, arguments=arguments)
                assert self._pool is not None
                with self._lock:
                    self._records.append(record)
                    self._pending[run.job_run_id] = self._pool.submit(self._execute, run, record)

    def _execute(self, run: Any, record: JobRunRecord) -> None:
        from moto.core.utils import utcnow

        started = time.monotonic()
        run.started_on = run.modified_on = utcnow()
        run.status = record.state = "RUNNING"
        try:
            entry = self.entry_for(record.job_name)
            if entry is None:
                raise ConfigurationError(
                    f"no local entry point is registered for Glue job {record.job_name}",
                    hint="register one with LocalStack.register_job / GlueRunner.register",
                )
            entry(dict(record.arguments))
        except SystemExit as exc:  # a Glue script may end with sys.exit(); 0 means success
            error = None if exc.code in (None, 0) else f"SystemExit: the job script exited with {exc.code}"
        except Exception as exc:
            error = failure_message(exc)
            _log.info("Glue job %s run %s failed: %s", record.job_name, record.run_id, error)
        else:
            error = None
        self._complete(run, record, error, time.monotonic() - started)

    def _complete(self, run: Any, record: JobRunRecord, error: Optional[str], seconds: float) -> None:
        from moto.core.utils import utcnow

        run.completed_on = run.modified_on = utcnow()
        run.error_message = error
        state = "FAILED" if error else "SUCCEEDED"
        with self._lock:
            record.error_message, record.seconds, record.state = error, seconds, state
            self._pending.pop(record.run_id, None)
        run.status = state

    def _finish_cancelled(self, run_id: str) -> None:
        for job in list(self._backend().jobs.values()):
            for run in list(job.job_runs):
                if run.job_run_id == run_id:
                    record = next((r for r in self.records() if r.run_id == run_id), None)
                    if record is not None:
                        self._complete(run, record, "the local Glue runner stopped before the run began", 0.0)
                        record.state = run.status = "STOPPED"
                    return
        with self._lock:
            self._pending.pop(run_id, None)


__all__ = [
    "TRANSIENT_MARKER",
    "GlueRunner",
    "JobEntry",
    "JobRunRecord",
    "failure_message",
    "resolve_entry",
    "run_arguments",
]
