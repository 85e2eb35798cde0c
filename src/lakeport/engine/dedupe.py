"""Within one upsert run, the latest row per primary key wins (manifest order, then row order).

The engines write every valid row; before the run's files are committed, the files holding rows
that a later row of the same run supersedes are rewritten without them (same name, so a retry
does the same). The superseded rows are counted per source object as duplicates, so the accounting
``read = written + quarantined + duplicates`` still holds. Rows already in the table whose key
arrives are replaced at commit time (:mod:`lakeport.iceberg.commit`).
"""

from __future__ import annotations

from typing import Any, Dict, List, Set, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..contract import Contract
from ..iceberg.commit import key_array
from .layout import split_uri
from .model import SUCCEEDED, EngineResult, PartitionKey, WrittenFile


def supersede_within_run(filesystem: Any, contract: Contract, result: EngineResult) -> Dict[str, int]:
    """Rewrite the run's files without rows superseded later in the same run; rows dropped per source."""
    from .python.writer import PARQUET_OPTIONS

    keys = list(contract.primary_key)
    order_of = {o.source.uri: i for i, o in enumerate(result.files)}
    written: List[Tuple[PartitionKey, WrittenFile]] = [
        (w.partition, w) for o in result.files if o.state == SUCCEEDED for w in o.files
    ]
    superseded: Dict[str, int] = {}
    if not written:
        return superseded
    pieces = []
    for index, (_key, wf) in enumerate(written):
        table = pq.read_table(
            split_uri(wf.uri)[1],
            columns=[*keys, "lakeport_source", "lakeport_source_row"],
            filesystem=filesystem,
            partitioning=None,
        )
        sources = pc.cast(table.column("lakeport_source"), pa.string()).to_pylist()
        source_index = np.array([order_of[s] for s in sources], dtype=np.int64)
        order = source_index * (1 << 40) + table.column("lakeport_source_row").to_numpy()
        pieces.append(
            pa.table(
                {
                    "__key": key_array(table, keys),
                    "__order": pa.array(order, pa.int64()),
                    "__file": pa.array(np.full(table.num_rows, index, dtype=np.int32)),
                    "__row": pa.array(np.arange(table.num_rows, dtype=np.int64)),
                }
            )
        )
    incoming = pa.concat_tables(pieces)
    best = incoming.group_by("__key").aggregate([("__order", "max")])
    winners = incoming.join(best, keys=["__key", "__order"], right_keys=["__key", "__order_max"], join_type="left semi")
    if winners.num_rows == incoming.num_rows:
        return superseded
    winner_ids = set(zip(winners.column("__file").to_pylist(), winners.column("__row").to_pylist()))
    losers_by_file: Dict[int, Set[int]] = {}
    for f, r, o in zip(
        incoming.column("__file").to_pylist(),
        incoming.column("__row").to_pylist(),
        incoming.column("__order").to_pylist(),
    ):
        if (f, r) not in winner_ids:
            losers_by_file.setdefault(f, set()).add(r)
            source_uri = result.files[o >> 40].source.uri
            superseded[source_uri] = superseded.get(source_uri, 0) + 1
    for index, (_key, wf) in enumerate(written):
        drop = losers_by_file.get(index)
        if not drop:
            continue
        table = pq.read_table(split_uri(wf.uri)[1], filesystem=filesystem, partitioning=None)
        keep = np.ones(table.num_rows, dtype=bool)
        keep[list(drop)] = False
        with filesystem.open_output_stream(split_uri(wf.uri)[1]) as sink:
            pq.write_table(table.filter(pa.array(keep)), sink, **PARQUET_OPTIONS)
        wf.rows -= len(drop)
    return superseded
