"""Load contracts from YAML (or plain data) and report every problem with its field path and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import yaml
from pydantic import ValidationError

from ..errors import ContractError, ContractProblem
from .model import Contract

PathKey = Tuple[Union[str, int], ...]
# libyaml's parser where PyYAML was built with it (about ten times faster), the same safe resolver
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PROBLEM_LINE = re.compile(r"^([A-Za-z_][\w.]*): (.*)$")


def load_contract_file(path: Union[str, Path]) -> Contract:
    """Read one contract from a YAML file. Raises :class:`ContractError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(str(path), [ContractProblem("", f"cannot read the file: {exc.strerror}")]) from None
    return load_contract_text(text, source=str(path))


def load_contract_text(text: str, source: str = "<contract>") -> Contract:
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a safe loader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ContractError(source, [ContractProblem("", f"not valid YAML: {reason}", line)]) from None
    lines = _line_index(node) if node is not None else {}
    return load_contract_data(data, source=source, lines=lines)


def load_contract_data(
    data: Any, source: str = "<contract>", lines: Optional[Mapping[PathKey, int]] = None
) -> Contract:
    """Validate plain data (a parsed YAML document or a stored DynamoDB document)."""
    if not isinstance(data, dict):
        raise ContractError(
            source, [ContractProblem("", "a contract is a YAML mapping (dataset:, source:, schema:, …)")]
        )
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(source, _problems(exc, lines or {})) from None


def load_contract_dir(folder: Union[str, Path]) -> List[Contract]:
    """Every ``*.yaml``/``*.yml`` contract in a folder (sorted), all problems of all files at once."""
    contracts: List[Contract] = []
    errors: List[ContractProblem] = []
    for path in sorted(Path(folder).glob("*.y*ml")):
        try:
            contracts.append(load_contract_file(path))
        except ContractError as exc:
            errors.extend(ContractProblem(f"{path.name}:{p.path}", p.reason, p.line) for p in exc.problems)
    if errors:
        raise ContractError(str(folder), errors)
    return contracts


def _problems(exc: ValidationError, lines: Mapping[PathKey, int]) -> List[ContractProblem]:
    problems: List[ContractProblem] = []
    for error in exc.errors():
        loc: PathKey = tuple(_strip_union_tags(error["loc"]))
        message = str(error["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        # model-level checks report several "path: reason" lines at once
        for part in message.split("\n"):
            match = _PROBLEM_LINE.match(part)
            if match and not loc[1:]:
                sub = _parse_path(match.group(1))
                full = loc + sub if loc and loc[-1] != sub[:1] else sub
                problems.append(_problem(full, match.group(2), lines))
            else:
                problems.append(_problem(loc, _friendly(error["type"], part, error), lines))
    return problems


def _problem(loc: PathKey, reason: str, lines: Mapping[PathKey, int]) -> ContractProblem:
    return ContractProblem(".".join(str(p) for p in loc), reason, _nearest_line(loc, lines))


def _strip_union_tags(loc: Tuple[Any, ...]) -> List[Any]:
    # pydantic adds the member type name to locations inside unions; people never wrote those
    return [p for p in loc if not (isinstance(p, str) and ("[" in p or p in ("int", "float", "str", "bool")))]


def _friendly(kind: str, message: str, error: Mapping[str, Any]) -> str:
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"'{error.get('input')}' is not allowed; use {expected}"
    return message[0].lower() + message[1:] if message else message


def _parse_path(text: str) -> PathKey:
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def _nearest_line(loc: PathKey, lines: Mapping[PathKey, int]) -> Optional[int]:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _line_index(root: yaml.Node) -> Dict[PathKey, int]:
    """Map each field path of the YAML document to the (1-based) line where it is written."""
    index: Dict[PathKey, int] = {}

    def walk(node: yaml.Node, path: PathKey) -> None:
        index.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, key.value)
                index[child] = key.start_mark.line + 1
                walk(value, child)
                index[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                walk(item, (*path, position))

    walk(root, ())
    return index


def dump_contract_yaml(contract: Contract) -> str:
    """The contract as YAML, in the order people write it."""
    return yaml.safe_dump(contract.to_document(), sort_keys=False, allow_unicode=True, width=110)
