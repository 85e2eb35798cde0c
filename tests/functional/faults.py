"""Fault injection for run tests: make one call crash once, and a small model of what a table holds.

The model is the specification the crash tests check the curated zone against: every valid row of
every delivered file, combined per write mode, partition by partition.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from lakeport.ledger.files import FileLedger

Row = Tuple[int, str, int]  # (id, day, value)


class Crash(RuntimeError):
    """The injected failure: a process dying at that very line looks the same to the ledgers."""


def crash_once(
    target: Any,
    name: str,
    monkeypatch: Any,
    after: int = 0,
    when: Optional[Callable[..., bool]] = None,
) -> Dict[str, int]:
    """Make ``target.name`` raise :class:`Crash` on its (after+1)-th matching call, then behave.

    ``when(*args, **kwargs)`` chooses which calls count (default: all of them).
    """
    original: Callable[..., Any] = getattr(target, name)
    calls = {"n": 0, "crashed": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if calls["crashed"] or (when is not None and not when(*args, **kwargs)):
            return original(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == after + 1:
            calls["crashed"] = 1
            raise Crash(f"injected crash in {name}")
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return calls


# -- the model of a table ---------------------------------------------------------------------------


def csv_rows(text: str) -> List[Row]:
    """The rows of a generated ``id,day,value`` file (header first), as typed tuples."""
    out = []
    for line in text.strip().splitlines()[1:]:
        ident, day, value = line.split(",")
        out.append((int(ident), day, int(value)))
    return out


def valid(rows: Iterable[Row]) -> List[Row]:
    """Rows that pass the test contract's rule (value >= 0)."""
    return [r for r in rows if r[2] >= 0]


def by_partition(rows: Iterable[Row]) -> Dict[str, List[Row]]:
    out: Dict[str, List[Row]] = {}
    for row in rows:
        out.setdefault(row[1], []).append(row)
    return out


def apply_run(mode: str, table: Dict[str, List[Row]], run: Sequence[Row]) -> Dict[str, List[Row]]:
    """The table after one run of valid rows ``run`` (in manifest order) in write mode ``mode``."""
    new = {day: list(rows) for day, rows in table.items()}
    if mode == "append":
        for row in run:
            new.setdefault(row[1], []).append(row)
    elif mode == "overwrite_partitions":
        for day, rows in by_partition(run).items():
            new[day] = rows
    elif mode == "upsert":
        latest: Dict[int, Row] = {}
        for row in run:
            latest[row[0]] = row
        for day in list(new):
            new[day] = [r for r in new[day] if r[0] not in latest]
        for row in latest.values():
            new.setdefault(row[1], []).append(row)
    else:
        raise ValueError(mode)
    return new


def touched(mode: str, before: Dict[str, List[Row]], after: Dict[str, List[Row]]) -> Set[str]:
    """The partitions whose content a run changed."""
    days = set(before) | set(after)
    return {d for d in days if sorted(before.get(d, [])) != sorted(after.get(d, []))}


def mixed(before: Dict[str, List[Row]], after: Dict[str, List[Row]], switched: Set[str]) -> List[Row]:
    """What a reader sees when exactly the partitions ``switched`` show the new generation."""
    rows: List[Row] = []
    for day in set(before) | set(after):
        rows += (after if day in switched else before).get(day, [])
    return sorted(rows)


def flatten(table: Dict[str, List[Row]]) -> List[Row]:
    return sorted(r for rows in table.values() for r in rows)


# -- reading the curated zone ------------------------------------------------------------------------


def visible_rows(lake: Any, dataset: str) -> List[Row]:
    """Every row a reader of the catalog sees now, straight from the files it points at."""
    return sorted((r["id"], str(r["day"]), r["value"]) for r in lake.read_curated(dataset))


def ledger(lake: Any) -> FileLedger:
    return FileLedger(lake.aws.client("dynamodb"), lake.resources.files_table)
