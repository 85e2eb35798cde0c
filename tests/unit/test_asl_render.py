"""The state machine template renders like Terraform's templatefile, into a definition statelint accepts."""

from __future__ import annotations

import json

import pytest
from statelint.linter import Linter

from lakeport.errors import ConfigurationError
from lakeport.orchestration.asl import ingest_variables, load_template, render, render_ingest
from lakeport.resources import Resources

RESOURCES = Resources.for_deployment()
NOTIFIER = RESOURCES.function_arn(RESOURCES.notifier_function_name())


def test_placeholders_are_replaced_by_their_values() -> None:
    assert render('{"Table": "${table}", "Job": "${ job }"}', {"table": "t1", "job": "j"}) == (
        '{"Table": "t1", "Job": "j"}'
    )


def test_escaped_placeholders_and_jsonpath_dollars_are_left_alone() -> None:
    text = '{"a.$": "$.x", "b.$": "$$.Execution.Id", "c": "$${literal}", "d": "${v}"}'
    assert render(text, {"v": "1"}) == '{"a.$": "$.x", "b.$": "$$.Execution.Id", "c": "${literal}", "d": "1"}'


def test_an_unknown_placeholder_is_an_error_that_names_it() -> None:
    with pytest.raises(ConfigurationError, match=r"undefined variable.*missing"):
        render('"${missing}"', {})


def test_an_unused_variable_is_an_error_that_names_it() -> None:
    with pytest.raises(ConfigurationError, match=r"not used.*extra"):
        render('"${used}"', {"used": "1", "extra": "2"})


@pytest.mark.parametrize("text", ['"${a.b}"', '"${upper(x)}"', '"%{ if true }x%{ endif }"'])
def test_template_expressions_and_directives_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError):
        render(text, {"x": "1"})


def test_a_value_that_would_break_the_json_string_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="quote"):
        render('"${name}"', {"name": 'bad"name'})


def test_the_packaged_template_is_valid_json_before_rendering() -> None:
    json.loads(load_template())


def test_the_rendered_ingest_state_machine_passes_statelint() -> None:
    definition = render_ingest(RESOURCES, NOTIFIER)

    assert Linter.validate(definition) == []


def test_the_rendered_ingest_state_machine_names_the_deployment_resources() -> None:
    text = json.dumps(render_ingest(RESOURCES, NOTIFIER))

    assert "${" not in text
    for value in ingest_variables(RESOURCES, NOTIFIER).values():
        assert value in text
    states = render_ingest(RESOURCES, NOTIFIER)["States"]
    assert states["RunPythonJob"]["Parameters"]["JobName"] == RESOURCES.python_job_name
    assert states["RunSparkJob"]["Parameters"]["JobName"] == RESOURCES.spark_job_name
    assert states["RecordFailure"]["Parameters"]["FunctionName"] == NOTIFIER


def test_the_rendered_ingest_state_machine_parses_in_the_emulator_interpreter() -> None:
    from lakeport.local.validation import parser_problems

    assert parser_problems(json.dumps(render_ingest(RESOURCES, NOTIFIER))) == []


def _expected_wait_hours(retrier: dict) -> float:
    """The mean time a retrier keeps trying: FULL jitter sleeps a uniform share of each delay."""
    delays = [
        min(retrier["IntervalSeconds"] * retrier["BackoffRate"] ** k, retrier["MaxDelaySeconds"])
        for k in range(retrier["MaxAttempts"])
    ]
    share = 0.5 if retrier.get("JitterStrategy") == "FULL" else 1.0
    return sum(delays) * share / 3600


@pytest.mark.parametrize("state", ["RunPythonJob", "RunSparkJob"])
def test_a_busy_glue_job_is_waited_for_hours_not_minutes(state: str) -> None:
    """Glue's refusal of a run (MaxConcurrentRuns reached) is capacity, not failure: the file waits.

    The old policy gave up after 6 tries, about a minute; a run of a big file holds a slot longer.
    Only past about half a day does the execution fail (and the failed-executions alarm fires).
    """
    definition = render_ingest(RESOURCES, NOTIFIER)
    [capacity] = [
        r for r in definition["States"][state]["Retry"] if "Glue.ConcurrentRunsExceededException" in r["ErrorEquals"]
    ]
    assert capacity["ErrorEquals"] == ["Glue.ConcurrentRunsExceededException"]
    assert 10 <= _expected_wait_hours(capacity) <= 24
    # while it waits, a freed slot is taken within a minute
    assert capacity["MaxDelaySeconds"] <= 60
    others = [r for r in definition["States"][state]["Retry"] if r is not capacity]
    assert all(_expected_wait_hours(r) < 0.1 for r in others)  # real errors still surface in minutes


def test_transient_failures_are_retried_for_longer_than_a_dead_runs_lock_lease() -> None:
    """A killed run's dataset lock frees itself when its lease runs out; the runs waiting behind it
    must still be retrying then, or they fail for good and need a person."""
    from lakeport.ingest import DEFAULT_LOCK_LEASE
    from lakeport.orchestration.environment import DEFAULT_RETRY_WAIT_SECONDS

    states = render_ingest(RESOURCES, NOTIFIER)["States"]
    [choice] = states["IsTransient"]["Choices"]
    [limit] = [c["NumericLessThan"] for c in choice["And"] if c.get("Variable") == "$.attempt"]
    assert states["WaitBeforeRetry"]["SecondsPath"] == "$.retry_wait_seconds"
    assert limit * DEFAULT_RETRY_WAIT_SECONDS > DEFAULT_LOCK_LEASE
