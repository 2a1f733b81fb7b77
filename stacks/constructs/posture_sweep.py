"""The scheduled posture sweep (`parry sweep --security-hub`, parry/runtime/posture_sweep.py).

An EventBridge Scheduler schedule invokes the function; its role reads Lambda functions, layers,
event source mappings and execution roles' policies in this account, and writes nothing but
Parry's own Security Hub findings (import, and the workflow of those it resolves). It shares the
runners' asset and shape (L1, see playbook_runner.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from stacks.constructs.playbook_runner import lambda_function
from stacks.tokens import ACCOUNT_ID, PARTITION

HANDLER = "posture_sweep.handler"
SCHEDULE = "rate(6 hours)"
SCHEDULE_RETRIES = 2
SCHEDULE_MAX_EVENT_AGE_SECONDS = 3600

# Read-only: List* calls with no resource-level permissions, and Get*/List* on this account's
# functions, layers, roles and policies (any region the sweep covers; AWS's managed policies too).
_FUNCTIONS = f"arn:{PARTITION}:lambda:*:{ACCOUNT_ID}:function:*"
_LAYER_VERSIONS = f"arn:{PARTITION}:lambda:*:{ACCOUNT_ID}:layer:*:*"
_HUB = f"arn:{PARTITION}:securityhub:*:{ACCOUNT_ID}:hub/default"
_PRODUCT = f"arn:{PARTITION}:securityhub:*:{ACCOUNT_ID}:product/{ACCOUNT_ID}/default"
SWEEP_STATEMENTS: tuple[dict[str, Any], ...] = (
    {
        "Effect": "Allow",
        "Action": [
            "lambda:ListFunctions",
            "lambda:ListEventSourceMappings",
            "lambda:ListLayers",
            "lambda:ListLayerVersions",
        ],
        "Resource": "*",
    },
    {
        "Effect": "Allow",
        "Action": [
            "lambda:GetPolicy",
            "lambda:GetFunctionUrlConfig",
            "lambda:ListAliases",
            "lambda:GetFunctionEventInvokeConfig",
        ],
        "Resource": _FUNCTIONS,
    },
    {"Effect": "Allow", "Action": "lambda:GetLayerVersionPolicy", "Resource": _LAYER_VERSIONS},
    {
        "Effect": "Allow",
        "Action": ["iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy"],
        "Resource": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/*",
    },
    {
        "Effect": "Allow",
        "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"],
        "Resource": [f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy/*", f"arn:{PARTITION}:iam::aws:policy/*"],
    },
    # the only writes: Parry's findings into its own product, and resolving them
    {"Effect": "Allow", "Action": "securityhub:BatchImportFindings", "Resource": _PRODUCT},
    {"Effect": "Allow", "Action": ["securityhub:GetFindings", "securityhub:BatchUpdateFindings"], "Resource": _HUB},
)

# cdk-nag's IAM5 on each wildcard above, with why it is needed (acknowledged on the construct)
POSTURE_SWEEP_FINDINGS: tuple[tuple[str, str], ...] = (
    (
        "IAM5[Resource::*]",
        "ListFunctions, ListEventSourceMappings, ListLayers and ListLayerVersions have no resource-level permissions; X-Ray neither.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:lambda:*:<AWS::AccountId>:function:*]",
        "The sweep reads every function of this account, in each region it covers; read-only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:lambda:*:<AWS::AccountId>:layer:*:*]",
        "The sweep reads the permissions of every layer version of this account; read-only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/*]",
        "The sweep reads the policies of every function's execution role; read-only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*]",
        "The sweep reads the documents of the managed policies attached to execution roles; read-only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:iam::aws:policy/*]",
        "The sweep reads AWS managed policies attached to execution roles; read-only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:hub/default]",
        "This account's Security Hub in each region the sweep covers: Parry's own findings only.",
    ),
    (
        "IAM5[Resource::arn:<AWS::Partition>:securityhub:*:<AWS::AccountId>:product/<AWS::AccountId>/default]",
        "This account's own custom product in each region the sweep covers: Parry's findings only.",
    ),
)


class PostureSweep(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        function_name: str,
        role_name: str,
        schedule_name: str,
        schedule_role_name: str,
        code_bucket: str,
        code_key: str,
        layers: Sequence[str],
        environment: Mapping[str, str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group, self.role, self.function = lambda_function(
            self,
            function_name=function_name,
            description="Parry posture sweep: checks every Lambda function, findings to Security Hub",
            handler=HANDLER,
            role_name=role_name,
            statements=SWEEP_STATEMENTS,
            code_bucket=code_bucket,
            code_key=code_key,
            layers=layers,
            environment=environment,
            log_retention_days=log_retention_days,
            memory_size=512,
            timeout_seconds=900,
        )
        function_arn = self.function.attr_arn
        self.schedule_role = iam.CfnRole(
            self,
            "ScheduleRole",
            role_name=schedule_role_name,
            description="EventBridge Scheduler: invokes the Parry posture sweep, nothing else",
            assume_role_policy_document={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
                    }
                ],
            },
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="Invoke",
                    policy_document={
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}],
                    },
                )
            ],
        )
        self.schedule = scheduler.CfnSchedule(
            self,
            "Schedule",
            name=schedule_name,
            description="Parry: sweep every Lambda function's posture",
            schedule_expression=SCHEDULE,
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=function_arn,
                role_arn=self.schedule_role.attr_arn,
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=SCHEDULE_RETRIES,
                    maximum_event_age_in_seconds=SCHEDULE_MAX_EVENT_AGE_SECONDS,
                ),
            ),
        )
