"""The scheduled maintenance function: every 15 minutes it closes the cases whose approval window
has passed and tells the on-call (functions/runner/maintenance.py).

Shares the runners' asset and their shape (L1, see playbook_runner.py), with a role that keeps
cases and nothing else: no account's resources, no invoking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.constructs.playbook_runner import ARCHITECTURE, RUNTIME, TRACING_ACTIONS, check_log_retention, lambda_role
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

HANDLER = "maintenance.handler"
SCHEDULE = "rate(15 minutes)"


class Maintenance(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        role_name: str,
        rule_name: str,
        code_bucket: str,
        code_key: str,
        layers: Sequence[str],
        environment: Mapping[str, str],
        permissions: Sequence[Mapping[str, Any]],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        check_log_retention(log_retention_days)
        log_group_name = f"/aws/lambda/{function_name}"
        self.log_group_arn = f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT_ID}:log-group:{log_group_name}:*"
        self.log_group = logs.CfnLogGroup(self, "Logs", log_group_name=log_group_name, retention_in_days=log_retention_days)
        runtime = [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": self.log_group_arn},
            {"Effect": "Allow", "Action": list(TRACING_ACTIONS), "Resource": "*"},
        ]
        self.role = lambda_role(
            self, role_name, "Parry maintenance: closes cases whose approval window has passed", [*permissions, *runtime]
        )
        self.function = lambda_.CfnFunction(
            self,
            "Function",
            function_name=function_name,
            description="Parry maintenance: closes cases whose approval window has passed",
            runtime=RUNTIME,
            architectures=[ARCHITECTURE],
            handler=HANDLER,
            code=lambda_.CfnFunction.CodeProperty(s3_bucket=code_bucket, s3_key=code_key),
            layers=list(layers),
            role=self.role.attr_arn,
            environment=lambda_.CfnFunction.EnvironmentProperty(variables=dict(environment)),
            memory_size=256,
            timeout=300,
            tracing_config=lambda_.CfnFunction.TracingConfigProperty(mode="Active"),
            logging_config=lambda_.CfnFunction.LoggingConfigProperty(log_group=self.log_group.ref),
        )
        function_arn = self.function.attr_arn
        self.rule = events.CfnRule(
            self,
            "Schedule",
            name=rule_name,
            description="Parry: close cases whose approval window has passed",
            schedule_expression=SCHEDULE,
            state="ENABLED",
            targets=[events.CfnRule.TargetProperty(id="Maintenance", arn=function_arn)],
        )
        lambda_.CfnPermission(
            self,
            "ScheduleInvoke",
            action="lambda:InvokeFunction",
            function_name=function_arn,
            principal="events.amazonaws.com",
            source_arn=f"arn:{PARTITION}:events:{REGION}:{ACCOUNT_ID}:rule/{rule_name}",
        )
