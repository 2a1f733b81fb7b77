"""One playbook's runner: its function, role, log group and dead-letter queue with an alarm.

Written with CloudFormation-level (L1) constructs on purpose: a runner is repeated per playbook,
and every L2 construct and helper call is a round trip to jsii's Node process (an L2 runner and
its routes cost ~65 ms of synth per playbook; bench/synth.py). The template is the same a
reviewer would expect from the L2s, spelled out: an inline least-privilege policy, async invoke
settings, an encrypted TLS-only dead-letter queue and an alarm on its depth.

The stack renders the role's statements with the function's ARN built from its name rather than
referenced, so the role can allow the function to invoke itself without a circular dependency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import naming
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

RUNTIME = "python3.13"
ARCHITECTURE = "arm64"
HANDLER = "handler.handler"
ASYNC_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
DATA_KEY_REUSE_SECONDS = 3600
# The runtime (and the boto3 it bundles) changes only when a deploy updates the function, never under
# a running Parry; "Manual" would need a runtime version ARN, known only from a deployed function
# (docs/deploy.md, "Runtime updates").
RUNTIME_UPDATES = "FunctionUpdate"
TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")  # no resource-level permissions

_RETENTION_NAMES = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


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
        code_bucket: str,
        code_key: str,
        layers: Sequence[str],
        environment: Mapping[str, str],
        permissions: Sequence[Mapping[str, Any]],
        data_key_arn: str,
        alarm_topic_arn: str,
        log_retention_days: int,
        reserved_concurrency: int | None = None,
        memory_size: int = 512,
        timeout_seconds: int = 300,
    ) -> None:
        """`permissions`: the IAM statements the playbook and the engine need; the runner adds
        what Lambda itself needs (its DLQ here; its logs and X-Ray in `lambda_function`)."""
        super().__init__(scope, construct_id)
        self.playbook_name = playbook_name
        self.function_name = function_name

        self.dlq = sqs.CfnQueue(
            self,
            "DeadLetterQueue",
            queue_name=dlq_name,
            kms_master_key_id=data_key_arn,
            kms_data_key_reuse_period_seconds=DATA_KEY_REUSE_SECONDS,
            message_retention_period=DLQ_RETENTION_SECONDS,
        )
        self.dlq_arn: str = self.dlq.attr_arn  # each attribute read is a jsii round trip: read once

        self.log_group, self.role, self.function = lambda_function(
            self,
            function_name=function_name,
            description=f"Parry runner for playbook {playbook_name}",
            handler=HANDLER,
            role_name=role_name,
            statements=[*permissions, {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": self.dlq_arn}],
            code_bucket=code_bucket,
            code_key=code_key,
            layers=layers,
            environment=environment,
            log_retention_days=log_retention_days,
            memory_size=memory_size,
            timeout_seconds=timeout_seconds,
            reserved_concurrency=reserved_concurrency,
        )

        lambda_.CfnEventInvokeConfig(
            self,
            "AsyncInvoke",
            function_name=self.function.ref,
            qualifier="$LATEST",
            maximum_retry_attempts=ASYNC_RETRY_ATTEMPTS,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            destination_config=lambda_.CfnEventInvokeConfig.DestinationConfigProperty(
                on_failure=lambda_.CfnEventInvokeConfig.OnFailureProperty(destination=self.dlq_arn)
            ),
        )

        cloudwatch.CfnAlarm(
            self,
            "DeadLetterAlarm",
            alarm_name=f"{dlq_name}-depth",
            alarm_description=f"Parry playbook {playbook_name}: events failed and wait in {dlq_name}",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions=[cloudwatch.CfnAlarm.DimensionProperty(name="QueueName", value=self.dlq.attr_queue_name)],
            statistic="Maximum",
            period=60,
            evaluation_periods=1,
            threshold=1,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[alarm_topic_arn],
        )

    def accept_dead_letters_from(self, rule_arns: Sequence[str]) -> None:
        """The DLQ's policy: TLS only, and EventBridge may send the events these rules could not
        deliver (the function's own failures arrive through its role)."""
        sqs.CfnQueuePolicy(
            self,
            "DeadLetterQueuePolicy",
            queues=[self.dlq.ref],
            policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": {"AWS": "*"},
                        "Action": "sqs:*",
                        "Resource": self.dlq_arn,
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    *(
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "events.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": self.dlq_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": arn}},
                        }
                        for arn in rule_arns
                    ),
                ],
            },
        )


class LambdaFunction(NamedTuple):
    log_group: logs.CfnLogGroup
    role: iam.CfnRole
    function: lambda_.CfnFunction


def lambda_function(
    scope: Construct,
    *,
    function_name: str,
    description: str,
    handler: str,
    role_name: str,
    statements: Sequence[Mapping[str, Any]],
    code_bucket: str,
    code_key: str,
    layers: Sequence[str],
    environment: Mapping[str, str],
    log_retention_days: int,
    memory_size: int,
    timeout_seconds: int,
    reserved_concurrency: int | None = None,
) -> LambdaFunction:
    """A python3.13/arm64 function of Parry's asset, traced, with its own log group (kept for
    `log_retention_days`) and a role only Lambda may assume, whose one inline policy is
    `statements` plus what Lambda itself needs: the function's log streams and X-Ray."""
    check_log_retention(log_retention_days)
    log_group = logs.CfnLogGroup(
        scope, "Logs", log_group_name=f"/aws/lambda/{function_name}", retention_in_days=log_retention_days
    )
    # the log group's Arn attribute, from its name: the function's LoggingConfig refers to the group
    log_streams = naming.log_group_arn(function_name, partition=PARTITION, region=REGION, account=ACCOUNT_ID)
    role = iam.CfnRole(
        scope,
        "Role",
        role_name=role_name,
        description=description,
        assume_role_policy_document={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        policies=[
            iam.CfnRole.PolicyProperty(
                policy_name="Permissions",
                policy_document={
                    "Version": "2012-10-17",
                    "Statement": [
                        *statements,
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": log_streams,
                        },
                        {"Effect": "Allow", "Action": list(TRACING_ACTIONS), "Resource": "*"},
                    ],
                },
            )
        ],
    )
    function = lambda_.CfnFunction(
        scope,
        "Function",
        function_name=function_name,
        description=description,
        runtime=RUNTIME,
        runtime_management_config=lambda_.CfnFunction.RuntimeManagementConfigProperty(
            update_runtime_on=RUNTIME_UPDATES
        ),
        architectures=[ARCHITECTURE],
        handler=handler,
        code=lambda_.CfnFunction.CodeProperty(s3_bucket=code_bucket, s3_key=code_key),
        layers=list(layers),
        role=role.attr_arn,
        environment=lambda_.CfnFunction.EnvironmentProperty(variables=dict(environment)),
        memory_size=memory_size,
        timeout=timeout_seconds,
        tracing_config=lambda_.CfnFunction.TracingConfigProperty(mode="Active"),
        logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=log_group.ref),
        reserved_concurrent_executions=reserved_concurrency,
    )
    return LambdaFunction(log_group, role, function)


def check_log_retention(days: int) -> None:
    if days not in _RETENTION_NAMES:
        raise ValueError(f"log retention of {days} days is not one CloudWatch offers: {sorted(_RETENTION_NAMES)}")


def log_retention(days: int) -> logs.RetentionDays:
    """`days` as the L2 enum (the Security Hub actions function uses the L2 Function)."""
    check_log_retention(days)
    return getattr(logs.RetentionDays, _RETENTION_NAMES[days])
