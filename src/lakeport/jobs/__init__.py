"""Glue job entry points: thin scripts that parse Glue-style arguments and call :func:`entry.run_job`."""
