"""The Spark session the engine runs on, and the settings its semantics depend on."""

from __future__ import annotations

import os
import sys
from typing import Dict, Optional

from pyspark.sql import SparkSession

from ...errors import ConfigurationError

REQUIRED_SETTINGS: Dict[str, str] = {
    # impossible dates give null (rejected with a reason), never a rolled date, never a failed job
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    # no value is ever shifted by the session's time zone
    "spark.sql.session.timeZone": "UTC",
    # invalid make_date/make_timestamp/cast results are null and become reasons, not job failures
    "spark.sql.ansi.enabled": "false",
}
"""Session settings the conversion expressions rely on; :func:`configure` applies them."""

TUNING: Dict[str, str] = {
    # Arrow batches between the JVM and the Python reader/writer
    "spark.sql.execution.arrow.maxRecordsPerBatch": "65536",
    # The conversion of a wide table is one large generated function; HotSpot does not compile a
    # method above 8000 bytes of bytecode and would interpret it (3-4x slower here). Above this size
    # Spark generates smaller functions per operator instead, which are compiled.
    "spark.sql.codegen.hugeMethodLimit": "8000",
}
_DEFAULTS = {"spark.sql.execution.arrow.maxRecordsPerBatch": "10000", "spark.sql.codegen.hugeMethodLimit": "65535"}
"""Spark's own defaults: a session still at its default gets the tuning above."""


def configure(spark: SparkSession) -> SparkSession:
    """Apply :data:`REQUIRED_SETTINGS` (and tuning not set by the caller) to a session."""
    for key, value in REQUIRED_SETTINGS.items():
        spark.conf.set(key, value)
    for key, value in TUNING.items():
        if spark.conf.get(key, None) in (None, _DEFAULTS.get(key)):
            spark.conf.set(key, value)
    return spark


def local_session(
    master: str = "local[2]",
    shuffle_partitions: int = 4,
    app_name: str = "lakeport",
    extra: Optional[Dict[str, str]] = None,
) -> SparkSession:
    """A local session for tests, benchmarks and ``lakeport ingest --engine spark`` on one machine.

    Python workers run the interpreter of this process (so they import the same lakeport).
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.bindAddress", "127.0.0.1")
    )
    for key, value in {**REQUIRED_SETTINGS, **TUNING, **(extra or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def default_session() -> SparkSession:
    """The active session (the Glue job script creates it), else ``getOrCreate()``.

    Outside a cluster that is a local session whose Python workers run this interpreter.
    """
    active = SparkSession.getActiveSession()
    if active is not None:
        return configure(active)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        return configure(SparkSession.builder.getOrCreate())
    except Exception as exc:  # pyspark reports a missing Java as a generic runtime error
        raise ConfigurationError(
            f"cannot start a local Spark session: {' '.join(str(exc).split())[:300]}",
            hint="the Spark engine needs Java 17 (JAVA_HOME or java on PATH); or run the python engine",
        ) from exc
