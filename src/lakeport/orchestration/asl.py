"""Render the ingest state machine definition from its template.

The ASL file in this package is a Terraform ``templatefile`` template whose placeholders are quoted
(``"${datasets_table}"``), so the template itself stays valid JSON. Terraform renders it on AWS; local
mode renders the same file with :func:`render`, which implements the subset of ``templatefile`` the
file uses: ``${name}`` interpolation of plain identifiers and the ``$${`` escape. Anything else
(expressions, ``%{`` directives) is refused rather than rendered differently from Terraform.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any, Dict, Mapping

from lakeport.errors import ConfigurationError
from lakeport.resources import Resources

INGEST_TEMPLATE = "ingest.asl.json"

# `$${` is Terraform's escape for a literal `${`; `%%{` the escape for a literal `%{`.
_TOKEN = re.compile(r"\$\$\{|%%\{|\$\{([^}]*)\}|%\{")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_UNSAFE_IN_JSON_STRING = re.compile(r'["\\\x00-\x1f]')


def render(template_text: str, variables: Mapping[str, str]) -> str:
    """Substitute ``${name}`` with ``variables[name]``, as Terraform's ``templatefile`` does.

    Raises :class:`ConfigurationError` for a placeholder with no variable, a variable no placeholder
    uses, a template construct this renderer does not implement, or a value that would break the
    JSON string it is placed in.
    """
    used: set[str] = set()
    missing: list[str] = []

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        if token == "%%{":
            return "%{"
        if token == "%{":
            raise ConfigurationError(
                "the state machine template uses a Terraform directive (%{...}), which local rendering "
                "does not implement",
                hint="keep the template to plain ${name} placeholders",
            )
        name = match.group(1).strip()
        if not _IDENTIFIER.match(name):
            raise ConfigurationError(
                f"the state machine template has the expression ${{{match.group(1)}}}; only plain "
                "${name} placeholders are supported",
                hint="compute the value before rendering and pass it as a variable",
            )
        if name not in variables:
            missing.append(name)
            return token
        used.add(name)
        value = str(variables[name])
        if _UNSAFE_IN_JSON_STRING.search(value):
            raise ConfigurationError(
                f"the value of template variable {name!r} ({value!r}) contains a quote, backslash or "
                "control character and would break the JSON definition",
            )
        return value

    rendered = _TOKEN.sub(substitute, template_text)
    if missing:
        raise ConfigurationError(
            f"the state machine template uses undefined variable(s): {', '.join(sorted(set(missing)))}",
            hint="pass a value for each placeholder",
        )
    unused = sorted(set(variables) - used)
    if unused:
        raise ConfigurationError(
            f"template variable(s) not used by the state machine template: {', '.join(unused)}",
            hint="remove them, or add the placeholder to the template",
        )
    return rendered


def load_template(name: str = INGEST_TEMPLATE) -> str:
    """The packaged template text (read through importlib.resources, so it works from a wheel)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def ingest_variables(resources_: Resources, notifier_function_arn: str) -> Dict[str, str]:
    """The template variables of the ingest state machine; Terraform passes the same set."""
    return {
        "datasets_table": resources_.datasets_table,
        "runs_table": resources_.runs_table,
        "python_job_name": resources_.python_job_name,
        "spark_job_name": resources_.spark_job_name,
        "alerts_topic_arn": resources_.alerts_topic_arn(),
        "notifier_function_arn": notifier_function_arn,
    }


def render_ingest(resources_: Resources, notifier_function_arn: str) -> Dict[str, Any]:
    """The ingest state machine definition for a deployment, as a JSON document."""
    text = render(load_template(), ingest_variables(resources_, notifier_function_arn))
    try:
        definition: Dict[str, Any] = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"the rendered ingest state machine is not valid JSON: {exc}") from None
    return definition


__all__ = ["INGEST_TEMPLATE", "ingest_variables", "load_template", "render", "render_ingest"]
