"""What the CSV reader's tests share: a two-column contract (``id``, ``note``) and a local file
opened as a raw object."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pyarrow import fs

from lakeport.contract import Contract, load_contract_data
from lakeport.engine.python.reader import RawFile
from lakeport.engine.sources import FilesystemOpener, RawOpener


def id_note_contract(dataset: str, *, id_required: bool = True, **source: Any) -> Contract:
    """A CSV dataset of an int ``id`` and a string ``note``; ``source`` adds to its source block
    (``options``, ``max_row_bytes``)."""
    return load_contract_data(
        {
            "dataset": dataset,
            "owner": "tests@example.com",
            "source": {"prefix": dataset.replace(".", "/") + "/", "format": "csv", **source},
            "schema": [
                {"name": "id", "type": "int", "nullable": not id_required},
                {"name": "note", "type": "string"},
            ],
        }
    )


def local_raw(path: Path, dataset: str, opener: Optional[RawOpener] = None) -> RawFile:
    """``path`` as the raw object the reader reads (through ``opener`` if given)."""
    return RawFile(opener or FilesystemOpener(fs.LocalFileSystem(), str(path)), f"file://{path}", dataset)
