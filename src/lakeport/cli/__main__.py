"""``python -m lakeport.cli``: the ``lakeport`` command."""

from .main import run

run()
