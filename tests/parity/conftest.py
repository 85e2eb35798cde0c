"""One local Spark session for every Spark test (starting one takes several seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    pytest.importorskip("pyspark", reason="pyspark is in requirements/dev.lock: make venv")
    from lakeport.engine.spark.session import local_session

    session = local_session(master="local[2]", shuffle_partitions=2, app_name="lakeport-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
