"""Glue Python-shell job (Python 3.9): ingest one run with the python engine.

Glue runs this file as a script with ``--name value`` arguments; the lakeport wheel is installed
with ``--additional-python-modules``.
"""

import sys

from lakeport.jobs.entry import main

if __name__ == "__main__":
    sys.exit(main(engine_name="python"))
