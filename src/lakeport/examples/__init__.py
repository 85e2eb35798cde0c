"""The example datasets the demo and ``lakeport local up`` use: contracts and the raw files they describe.

They ship inside the package, so the demo runs from an installed wheel in any folder;
``lakeport examples <folder>`` copies them out to be read, edited and applied.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

FOLDER = Path(__file__).resolve().parent
PARTS = ("contracts", "raw")


def copy_examples(target: Path) -> List[Path]:
    """Copy ``contracts/`` and ``raw/`` into ``target``; refuses to overwrite a file that is there."""
    sources = sorted(p for part in PARTS for p in (FOLDER / part).rglob("*") if p.is_file())
    clashes = [target / p.relative_to(FOLDER) for p in sources if (target / p.relative_to(FOLDER)).exists()]
    if clashes:
        from ..errors import ConfigurationError

        raise ConfigurationError(
            f"{clashes[0]} is already there ({len(clashes)} of the example files are)",
            hint="choose an empty folder, or remove the old copy first",
        )
    copied = []
    for source in sources:
        destination = target / source.relative_to(FOLDER)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        copied.append(destination)
    return copied


__all__ = ["FOLDER", "copy_examples"]
