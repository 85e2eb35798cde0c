"""lakeport: on-premise files into an AWS data lake, validated, partitioned, catalogued, accounted for."""

__version__ = "0.1.0"

__all__ = ["__version__"]
