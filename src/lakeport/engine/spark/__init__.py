"""The Spark engine: the python engine's semantics on a Spark cluster (Glue 5.x: Spark 3.5).

See :mod:`lakeport.engine.spark.engine` and ``docs/engines.md``.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401 - fail here, with a clear message, rather than deep in an import chain
except ImportError as missing:
    from ...errors import ConfigurationError

    raise ConfigurationError(
        "the Spark engine needs pyspark 3.5 (Glue 5.x provides it; this Python has none)",
        hint="install it with 'pip install lakeport[spark]' (or 'make venv'), plus Java 17; or run the python engine",
    ) from missing
