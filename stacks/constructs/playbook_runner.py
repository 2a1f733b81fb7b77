"""One playbook's runner: its function, role, log group and dead-letter queue with an alarm.

The role starts empty; the stack grants it exactly the playbook's permissions and the engine's.
The function's ARN is built from its name rather than referenced, so the role can allow the
function to invoke itself without a circular dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
HANDLER = "handler.handler"
ASYNC_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.hours(1)
DLQ_RETENTION = Duration.days(14)

_RETENTION_NAMES = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
    60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
    365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS",
    1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
_RETENTION = {days: getattr(logs.RetentionDays, name) for days, name in _RETENTION_NAMES.items()}


@jsii.implements(lambda_.IDestination)
class _QueueDestination:
    """An SQS on-failure destination that grants nothing: the stack writes the role's policy."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, scope: Construct, fn: lambda_.IFunction, *, type: lambda_.DestinationType) -> lambda_.DestinationConfig:  # noqa: A002
        return lambda_.DestinationConfig(destination=self._queue.queue_arn)


class PlaybookRunner(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        playbook_name: str,
        function_name: str,
        role_name: str,
        dlq_name: str,
        code: lambda_.Code,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str],
        data_key: kms.IKey,
        alarm_topic: sns.ITopic,
        log_retention_days: int,
        reserved_concurrency: int | None = None,
        memory_size: int = 512,
        timeout: Duration = Duration.minutes(5),
    ) -> None:
        super().__init__(scope, construct_id)
        self.playbook_name = playbook_name
        self.function_name = function_name

        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Parry runner for playbook {playbook_name}",
        )

        self.dlq = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=dlq_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=data_key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention(log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=f"Parry runner for playbook {playbook_name}",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=code,
            layers=list(layers),
            role=self.role,
            environment=dict(environment),
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=self.log_group,
            reserved_concurrent_executions=reserved_concurrency,
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            on_failure=_QueueDestination(self.dlq),
        )

        self.function_arn = f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:{function_name}"

        self.dlq_depth = self.dlq.metric_approximate_number_of_messages_visible(
            period=Duration.minutes(1), statistic="Maximum"
        )
        self.dlq_alarm = cloudwatch.Alarm(
            self,
            "DeadLetterAlarm",
            alarm_name=f"{dlq_name}-depth",
            alarm_description=f"Parry playbook {playbook_name}: events failed and wait in {dlq_name}",
            metric=self.dlq_depth,
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.dlq_alarm.add_alarm_action(cw_actions.SnsAction(alarm_topic))

    def runtime_statements(self) -> list[dict[str, Any]]:
        """What the function needs from Lambda itself, as IAM JSON: write its logs, fail into its
        DLQ. (Active tracing adds the X-Ray statement to the role on its own.)"""
        return [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": self.log_group.log_group_arn,
            },
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": self.dlq.queue_arn},
        ]


def log_retention(days: int) -> logs.RetentionDays:
    allowed = sorted(_RETENTION)
    if days not in _RETENTION:
        raise ValueError(f"log retention of {days} days is not one CloudWatch offers: {allowed}")
    return _RETENTION[days]
