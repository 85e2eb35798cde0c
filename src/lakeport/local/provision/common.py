"""Small helpers shared by the provisioning modules."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Iterable, List, Optional

from botocore.exceptions import ClientError

from lakeport.aws import error_code


def exists_ok(call: Callable[..., Any], codes: Iterable[str], **kwargs: Any) -> Optional[Any]:
    """Call and return the answer; ``None`` when it fails with one of ``codes`` (already exists)."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if error_code(exc) in set(codes):
            return None
        raise


def key_value_tags(tags: Dict[str, str], key: str = "Key", value: str = "Value") -> List[Dict[str, str]]:
    """``{"a": "b"}`` -> ``[{"Key": "a", "Value": "b"}]`` (the spelling varies per service)."""
    return [{key: k, value: v} for k, v in tags.items()]


def policy(*statements: Dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


__all__ = ["exists_ok", "key_value_tags", "policy"]
