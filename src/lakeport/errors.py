"""The lakeport error tree.

Two branches under :class:`LakeportError`:

* :class:`TransientError` — the same call may succeed if retried later (a held lock, throttling, a
  service hiccup). The state machine retries these with backoff.
* :class:`TerminalError` — retrying will not help until a person changes something (the contract,
  the input file, the configuration). The state machine records these and notifies.

The class names are part of the interface: the Glue entry points print ``<ClassName>: <message>``
as the job's error message, and the state machine matches on it. Messages name the dataset, the
object or the run and say what to do next.
"""

from __future__ import annotations

from typing import Optional, Sequence


class LakeportError(Exception):
    """Root of every error lakeport raises on purpose."""

    transient = False

    def __init__(self, message: str, *, hint: Optional[str] = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message}\n  hint: {hint}")

    @property
    def code(self) -> str:
        """The name the state machine and the ledgers know this error by."""
        return type(self).__name__

    def one_line(self) -> str:
        """``Code: message (hint: ...)`` on a single line, for job error messages and ledgers."""
        text = f"{self.code}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return " ".join(text.split())


class TransientError(LakeportError):
    """Safe to retry: nothing was committed, and the cause is expected to go away."""

    transient = True


class TerminalError(LakeportError):
    """Retrying will not help until something is changed."""


# --- transient -------------------------------------------------------------------------------


class DatasetBusyError(TransientError):
    """Another run holds the dataset's lock; this run must wait for it."""


class AwsTransientError(TransientError):
    """Throttling or a 5xx from AWS that survived the SDK's own retries."""


class CommitConflictError(TransientError):
    """Other writers kept committing to the run's Iceberg table; the run committed nothing."""


class CommitIncompleteError(TransientError):
    """A run began making its output visible and stopped; only a retry of the same run id may go on.

    Transient on purpose: the retry rolls the run forward (never back), and until it has, the
    dataset accepts no other run and the run's objects stay with it.
    """


# --- terminal --------------------------------------------------------------------------------


class ConfigurationError(TerminalError):
    """lakeport is pointed at resources that do not exist or are set up wrongly."""


class ContractError(TerminalError):
    """A dataset contract is invalid. Carries one entry per problem found."""

    def __init__(self, source: str, problems: Sequence[ContractProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}: {len(self.problems)} problem(s) in the dataset contract"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines), hint="fix the contract and validate it again")

    def one_line(self) -> str:
        return f"{self.code}: {self.source}: " + "; ".join(str(p) for p in self.problems)


class ContractProblem:
    """One thing wrong in a contract: where (a field path, and a line when known) and why."""

    def __init__(self, path: str, reason: str, line: Optional[int] = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line

    def __str__(self) -> str:
        where = self.path or "<contract>"
        if self.line is not None:
            where += f" (line {self.line})"
        return f"{where}: {self.reason}"

    def __repr__(self) -> str:
        return f"ContractProblem({self.path!r}, {self.reason!r}, line={self.line!r})"


class ContractConflictError(TerminalError):
    """Applying a contract lost an optimistic-lock race, or would break the table under ``strict``."""


class DatasetNotFoundError(TerminalError):
    """No contract is applied for the dataset."""


class InputFileError(TerminalError):
    """A raw file cannot be ingested as a whole (unreadable, wrong shape, too many bad rows)."""

    def __init__(self, dataset: str, source: str, reason: str, *, hint: Optional[str] = None) -> None:
        self.dataset = dataset
        self.source = source
        self.reason = reason
        super().__init__(f"dataset {dataset}: {source}: {reason}", hint=hint)


class AccountingError(TerminalError):
    """Rows read do not equal rows written + quarantined + dropped: a bug; the run is not committed."""


class ClaimLostError(TerminalError):
    """A run tried to record an object's outcome after its claim passed to another run (lease expired)."""


class AlreadyIngestedError(TerminalError):
    """The object was already ingested; ingest it again only with ``--force`` (a replay)."""


__all__ = [
    "AccountingError",
    "AlreadyIngestedError",
    "AwsTransientError",
    "ClaimLostError",
    "CommitConflictError",
    "CommitIncompleteError",
    "ConfigurationError",
    "ContractConflictError",
    "ContractError",
    "ContractProblem",
    "DatasetBusyError",
    "DatasetNotFoundError",
    "InputFileError",
    "LakeportError",
    "TerminalError",
    "TransientError",
]
