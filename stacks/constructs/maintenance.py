"""The scheduled maintenance function: every 15 minutes it closes the cases whose approval window
has passed and tells the on-call, and asks the runner of each stuck RUNNING case to continue it
(functions/runner/maintenance.py).

Shares the runners' asset and their shape (L1, see playbook_runner.py), with a role that keeps
cases, seals continuations and invokes the runners, and nothing else: no account's resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from parry.engine.vanished import SWEEP_MINUTES
from stacks.constructs.playbook_runner import lambda_function
from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

HANDLER = "maintenance.handler"
SCHEDULE = f"rate({SWEEP_MINUTES} minutes)"  # parry.engine.vanished looks at one older day a sweep


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
        self.log_group, self.role, self.function = lambda_function(
            self,
            function_name=function_name,
            description="Parry maintenance: closes expired approvals, re-drives stuck cases",
            handler=HANDLER,
            role_name=role_name,
            statements=permissions,
            code_bucket=code_bucket,
            code_key=code_key,
            layers=layers,
            environment=environment,
            log_retention_days=log_retention_days,
            memory_size=256,
            timeout_seconds=300,
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
