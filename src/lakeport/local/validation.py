"""Validate a state machine definition the way ``ValidateStateMachineDefinition`` reports it.

Two checks: moto's ASL parser (what the emulator will execute) and ``statelint`` (dangling ``Next``,
missing ``End``, unreachable states, bad retriers, which the parser accepts). The result has the AWS
API's shape, so Terraform's plan-time validation gets the answer it expects.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List

ERROR = "ERROR"


def _diagnostic(code: str, message: str, location: str = "") -> Dict[str, str]:
    entry = {"severity": ERROR, "code": code, "message": message}
    if location:
        entry["location"] = location
    return entry


def parser_problems(definition: str) -> List[Dict[str, str]]:
    """What moto's interpreter rejects (empty list when it would run the definition)."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    try:
        AmazonStateLanguageParser.parse(definition)
    except ASLParserException as exc:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", str(exc))]
    except Exception as exc:
        return [_diagnostic("SCHEMA_VALIDATION_FAILED", f"{type(exc).__name__}: {exc}")]
    return []


def lint_problems(definition: str) -> List[str]:
    """statelint's findings, one text per problem (empty list when the definition is clean)."""
    from statelint.linter import Linter

    try:
        document = json.loads(definition)
    except ValueError as exc:
        return [f"the definition is not valid JSON: {exc}"]
    return [str(problem) for problem in Linter.validate(document)]


def validate_definition(definition: str) -> Dict[str, Any]:
    """``{"result": "OK" | "FAIL", "diagnostics": [...], "truncated": False}``."""
    diagnostics = parser_problems(definition)
    diagnostics += [_diagnostic("SCHEMA_VALIDATION_FAILED", problem) for problem in lint_problems(definition)]
    return {"result": "FAIL" if diagnostics else "OK", "diagnostics": diagnostics, "truncated": False}


__all__ = ["lint_problems", "parser_problems", "validate_definition"]
