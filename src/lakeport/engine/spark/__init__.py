"""The Spark engine: the python engine's semantics on a Spark cluster (Glue 5.x: Spark 3.5)."""
