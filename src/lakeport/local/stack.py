"""The whole lakeport deployment on one machine: emulator, resources, Glue runner, queue consumer.

:class:`LocalStack` composes the embedded emulator (:mod:`.emulator`), provisioning (:mod:`.provision`),
the local Glue runner (:mod:`.glue_runner`), in-process Lambda functions (:mod:`.lambdas`) and an SQS
poller that plays the Lambda event source mapping of the ingest queue (:mod:`.sqs_poller`). What runs
inside is plugged in from outside::

    with LocalStack() as stack:
        lakeport.local.pipeline.wire(stack)  # the real dispatcher, notifier and Glue job entries
        # (or plug your own: stack.set_dispatcher(h), stack.set_notifier(h), stack.register_job(name, entry))
        ...                                          # put files into stack.resources.raw_bucket
        stack.wait_idle()

The state machine that runs is the real one, rendered from the packaged ASL file.

``LocalStack(resources, emulator=..., attach=True)`` provisions nothing: it attaches the runner and
the queue poller to resources that already exist in the emulator (created by ``terraform apply``
with the endpoints pointed at it), found by the names in ``resources``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Union

from botocore.exceptions import ClientError

from lakeport.aws import AwsContext
from lakeport.errors import ConfigurationError, LakeportError
from lakeport.local import lambdas
from lakeport.local.emulator import LOCAL_CREDENTIALS, EmbeddedAws
from lakeport.local.glue_runner import GlueRunner, JobEntry
from lakeport.local.provision import (
    DEFAULT_MAX_CONCURRENT_RUNS,
    LOCAL_VISIBILITY_TIMEOUT_SECONDS,
    Provisioned,
    provision,
)
from lakeport.local.sqs_poller import SqsPoller
from lakeport.local.state import LocalState, RestoreSummary
from lakeport.resources import Resources


class StackNotIdleError(LakeportError):
    """:meth:`LocalStack.wait_idle` ran out of time; the message says what was still busy."""


@dataclass(frozen=True)
class IngestFeed:
    """The ingest queue and the dispatcher function the queue poller connects."""

    queue_url: str
    queue_arn: str
    dispatcher_function_arn: str


class LocalStack:
    """Start/stop the local deployment; register the job entries and the Lambda handlers."""

    def __init__(
        self,
        resources: Optional[Resources] = None,
        *,
        emulator: Optional[EmbeddedAws] = None,
        port: Optional[int] = None,
        max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS,
        visibility_timeout_seconds: int = LOCAL_VISIBILITY_TIMEOUT_SECONDS,
        batch_size: int = 100,
        batching_window_seconds: float = 0.5,
        glue_workers: int = 4,
        attach: bool = False,
        state_dir: Optional[Path] = None,
    ) -> None:
        self.resources = resources or Resources.for_deployment()
        # True: the resources exist already (terraform apply against the emulator); find, do not create.
        self.attach = attach
        # A folder that keeps S3, DynamoDB and the catalog across restarts (None: forget at stop).
        self.state = LocalState(state_dir) if state_dir is not None else None
        if self.state is not None and (emulator is not None or attach):
            raise ConfigurationError(
                "a state directory needs the stack's own emulator and provisioning",
                hint="start the stack without an emulator of its own or attach, or without a state directory",
            )
        self.restored: Optional[RestoreSummary] = None
        self._own_emulator = emulator is None
        self.emulator = emulator or EmbeddedAws(port=port, region=self.resources.region, state=self.state)
        self.max_concurrent_runs = max_concurrent_runs
        self.visibility_timeout_seconds = visibility_timeout_seconds
        self.batch_size = batch_size
        self.batching_window_seconds = batching_window_seconds
        self.glue = GlueRunner(self.resources.account_id, self.resources.region, workers=glue_workers)
        self.provisioned: Optional[Provisioned] = None
        self.feed: Optional[IngestFeed] = None
        self._aws: Optional[AwsContext] = None
        self._poller: Optional[SqsPoller] = None
        self._registered_functions: List[str] = []
        self._running = False

    # -- plug points -------------------------------------------------------------------------

    def _job_name(self, job: str) -> str:
        return {"python": self.resources.python_job_name, "spark": self.resources.spark_job_name}.get(job, job)

    def register_job(self, job: str, entry: Union[JobEntry, str]) -> None:
        """Run ``entry`` for the Glue job ``job``: ``"python"``, ``"spark"`` or a full job name."""
        self.glue.register(self._job_name(job), entry)

    def register_function(self, function_name: str, handler: lambdas.LambdaHandler) -> None:
        """Run ``handler`` in-process when the Lambda function ``function_name`` is invoked."""
        lambdas.register_lambda(function_name, handler)
        if function_name not in self._registered_functions:
            self._registered_functions.append(function_name)

    def set_dispatcher(self, handler: lambdas.LambdaHandler) -> None:
        """The dispatcher Lambda handler; the ingest queue's messages are delivered to it."""
        self.register_function(self.resources.dispatcher_function_name(), handler)

    def set_notifier(self, handler: lambdas.LambdaHandler) -> None:
        """The notifier Lambda handler the state machine invokes on failure."""
        self.register_function(self.resources.notifier_function_name(), handler)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def aws(self) -> AwsContext:
        if self._aws is None:
            raise RuntimeError("the local stack is not running; call start() first")
        return self._aws

    @property
    def endpoint_url(self) -> str:
        return self.emulator.endpoint_url

    def start(self) -> LocalStack:
        """Start the emulator (unless one was given), provision (or attach), start the runner and the poller."""
        if self._running:
            return self
        if self.state is not None:
            self.state.open()
        if self.emulator.port is None:
            try:
                self.emulator.start()
            except BaseException:
                if self.state is not None:
                    self.state.close()
                raise
        self._aws = self.emulator.context()
        if self.state is not None:
            # moto's models live in the process: what this stack holds comes from its folder only
            self.emulator.reset()
        if self.attach:
            self.feed = self._attach(self._aws)
        else:
            self.provisioned = provision(
                self._aws,
                self.resources,
                max_concurrent_runs=self.max_concurrent_runs,
                visibility_timeout_seconds=self.visibility_timeout_seconds,
            )
            self.feed = IngestFeed(
                queue_url=self.provisioned.ingest_queue_url,
                queue_arn=self.provisioned.ingest_queue_arn,
                dispatcher_function_arn=self.provisioned.dispatcher_function_arn,
            )
            if self.state is not None:
                self.restored = self.state.restore(self.endpoint_url)
        self.glue.start()
        dispatcher = lambdas.function_name_of(self.feed.dispatcher_function_arn)
        self._poller = SqsPoller(
            self._aws.client("sqs"),
            self.feed.queue_url,
            self.feed.queue_arn,
            self.resources.region,
            self.feed.dispatcher_function_arn,
            lambda: lambdas.registered_lambda(dispatcher),
            batch_size=self.batch_size,
            batching_window_seconds=self.batching_window_seconds,
        ).start()
        self._running = True
        return self

    def _attach(self, aws: AwsContext) -> IngestFeed:
        """Find the ingest queue and the dispatcher function by name; take over the queue's mappings.

        The emulator would deliver the queue's messages to the dispatcher itself, synchronously inside
        each SendMessage, one message per call and ignoring ``batchItemFailures``. The poller plays the
        event source mapping instead (as in a provisioned stack, which has none), so the mappings of
        the ingest queue are disabled.
        """
        sqs, functions = aws.client("sqs"), aws.client("lambda")
        queue, function = self.resources.ingest_queue_name, self.resources.dispatcher_function_name()
        try:
            queue_url = str(sqs.get_queue_url(QueueName=queue)["QueueUrl"])
            queue_arn = str(
                sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            )
            function_arn = str(functions.get_function(FunctionName=function)["Configuration"]["FunctionArn"])
        except ClientError as exc:
            raise ConfigurationError(
                f"cannot attach to deployment {self.resources.name_prefix} on {self.endpoint_url}: the ingest queue"
                f" {queue} or the dispatcher function {function} is missing ({exc})",
                hint="apply terraform/ against the emulator first, or start the stack without attach to provision it",
            ) from None
        mappings = functions.list_event_source_mappings(EventSourceArn=queue_arn)["EventSourceMappings"]
        for mapping in mappings:
            if mapping.get("State") != "Disabled":
                functions.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
        return IngestFeed(queue_url=queue_url, queue_arn=queue_arn, dispatcher_function_arn=function_arn)

    def stop(self) -> None:
        """Stop the poller and the runner, forget the handlers, stop the emulator if it is ours."""
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        self.glue.stop()
        for name in self._registered_functions:
            lambdas.unregister_lambda(name)
        self._registered_functions.clear()
        if self._own_emulator:
            self.emulator.stop()
        if self.state is not None:
            self.state.close()
        self._running = False

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> Dict[str, str]:
        """Environment variables that point an AWS SDK, the AWS CLI or lakeport at this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.resources.region,
            "AWS_REGION": self.resources.region,
            "LAKEPORT_NAME_PREFIX": self.resources.name_prefix,
            "LAKEPORT_ACCOUNT_ID": self.resources.account_id,
        }

    # -- waiting -----------------------------------------------------------------------------

    def busy_parts(self) -> List[str]:
        """What is still in progress; empty when the stack is idle."""
        busy: List[str] = []
        if self._poller is not None and self._poller.busy():
            busy.append("the dispatcher is handling a batch")
        assert self.feed is not None
        counts = self.aws.client("sqs").get_queue_attributes(
            QueueUrl=self.feed.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        visible = int(counts.get("ApproximateNumberOfMessages", 0))
        in_flight = int(counts.get("ApproximateNumberOfMessagesNotVisible", 0))
        if visible or in_flight:
            busy.append(f"the ingest queue holds {visible} visible and {in_flight} in-flight message(s)")
        running = self.running_executions()
        if running:
            busy.append(f"{len(running)} execution(s) running: {', '.join(running[:3])}")
        if self.glue.busy():
            busy.append("Glue job runs are starting or running")
        return busy

    def running_executions(self) -> List[str]:
        sfn = self.aws.client("stepfunctions")
        arns: List[str] = []
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.resources.state_machine_arn(), statusFilter="RUNNING"
        ):
            arns += [execution["executionArn"] for execution in page["executions"]]
        return arns

    def wait_idle(self, timeout: float = 60.0, poll_seconds: float = 0.1, limit: Optional[float] = None) -> None:
        """Wait until no message is queued or in flight, no execution runs and no job run is active.

        ``timeout`` bounds a stall, not the wait: while the stack makes progress (what is busy
        changes, or a job run is inside its entry point) the wait goes on, so a loaded machine only
        makes it longer; a stack that stays the same for ``timeout`` seconds fails at once with what
        it is stuck on. ``limit`` (default ten times ``timeout``) caps the whole wait. Idle must be
        observed twice in a row, so a hand-over between parts (a message deleted just as its
        execution starts) is not mistaken for the end.
        """
        started = last_progress = time.monotonic()
        cap = limit if limit is not None else 10 * timeout
        quiet = 0
        previous: Optional[List[str]] = None
        while True:
            busy = self.busy_parts()
            quiet = 0 if busy else quiet + 1
            if quiet >= 2:
                return
            now = time.monotonic()
            if busy != previous or self.glue.executing():
                last_progress = now
            previous = busy
            if now - last_progress >= timeout:
                raise StackNotIdleError(
                    f"the local stack made no progress for {timeout:.0f} s: {'; '.join(busy)}",
                    hint="look at the executions (lakeport runs) and the dispatcher's logs",
                )
            if now - started >= cap:
                raise StackNotIdleError(
                    f"the local stack was still busy after {cap:.0f} s, though not stuck: {'; '.join(busy)}",
                    hint="a run takes longer than this wait allows; look at lakeport runs",
                )
            time.sleep(poll_seconds)


__all__ = ["IngestFeed", "LocalStack", "StackNotIdleError"]
