"""What the Lambda handlers read from their environment (only when invoked, never at import).

Terraform sets ``LAKEPORT_NAME_PREFIX`` and ``LAKEPORT_ACCOUNT_ID``; every resource name follows from
them (:meth:`lakeport.resources.Resources.for_deployment`). A name that does not follow the rule can
be given on its own as ``LAKEPORT_<FIELD>`` (``LAKEPORT_RAW_BUCKET``, ``LAKEPORT_FILES_TABLE``, ...).
``LAKEPORT_RETRY_WAIT_SECONDS`` is how long an execution waits before running a job again after a
transient failure (15 s by default; local mode uses 1 s).
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from typing import Mapping, Optional

from lakeport.errors import ConfigurationError
from lakeport.resources import Resources

DEFAULT_RETRY_WAIT_SECONDS = 15
RETRY_WAIT_VARIABLE = "LAKEPORT_RETRY_WAIT_SECONDS"
_DERIVED = ("name_prefix", "account_id", "region")


def resources_from_environment(environ: Optional[Mapping[str, str]] = None) -> Resources:
    """The deployment's names: from the prefix and account, then any ``LAKEPORT_<FIELD>`` override."""
    env = os.environ if environ is None else environ
    resources = Resources.from_environment(env)
    overrides = {}
    for item in fields(Resources):
        if item.name in _DERIVED:
            continue
        value = env.get(f"LAKEPORT_{item.name.upper()}")
        if value:
            overrides[item.name] = value
    return replace(resources, **overrides) if overrides else resources


def retry_wait_seconds(environ: Optional[Mapping[str, str]] = None) -> int:
    env = os.environ if environ is None else environ
    text = env.get(RETRY_WAIT_VARIABLE)
    if not text:
        return DEFAULT_RETRY_WAIT_SECONDS
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise ConfigurationError(f"{RETRY_WAIT_VARIABLE}={text!r} is not a whole number of seconds >= 0")
    return value


__all__ = ["DEFAULT_RETRY_WAIT_SECONDS", "RETRY_WAIT_VARIABLE", "resources_from_environment", "retry_wait_seconds"]
