"""The command-line interface (Python 3.11+)."""
