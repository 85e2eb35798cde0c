"""What a run costs on AWS, estimated from its duration and engine.

List prices (us-east-1, on-demand, as published in November 2026) — the numbers, not the code, come
from AWS's price list; change them here if your region differs:

* Glue: $0.44 per DPU-hour, billed per second. Python shell jobs run at 0.0625 DPU with a 1-minute
  minimum; Spark (Glue 5.x) jobs at ``workers x DPU per worker`` with a 1-minute minimum.
"""

from __future__ import annotations

GLUE_DPU_HOUR_USD = 0.44
PYTHON_SHELL_DPU = 0.0625
SPARK_DEFAULT_WORKERS = 2
SPARK_DPU_PER_WORKER = 1.0  # G.1X
MINIMUM_BILLED_SECONDS = 60.0


def glue_run_cost(engine: str, seconds: float, workers: int = SPARK_DEFAULT_WORKERS) -> float:
    """Estimated USD for one job run of ``seconds`` on ``engine`` (``python`` or ``spark``)."""
    billed = max(float(seconds), MINIMUM_BILLED_SECONDS)
    dpu = PYTHON_SHELL_DPU if engine == "python" else workers * SPARK_DPU_PER_WORKER
    return round(dpu * GLUE_DPU_HOUR_USD * billed / 3600.0, 6)
