"""The scheduled posture sweep (`parry sweep --security-hub`, parry/runtime/posture_sweep.py).

An EventBridge Scheduler schedule invokes the function; its role reads Lambda functions, layers,
event source mappings and execution roles' policies in this account, and writes nothing but
Parry's own Security Hub findings (import, and the workflow of those it resolves) and one notice
of new results on Parry's topic. In member accounts it reads through the member stack's
read-only sweep role (the same `sweep_statements`), the one role it may assume. It shares the
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

# Read-only: List* calls with no resource-level permissions, and Get*/List* on the account's
# functions, layers, roles and policies in each region the sweep covers (AWS's managed policies too).
# ACCOUNT_ID is the stack's own account: the security account here, a member account in the member stack.
_READ_ANYWHERE = [
    "lambda:ListFunctions",
    "lambda:ListEventSourceMappings",
    "lambda:ListLayers",
    "lambda:ListLayerVersions",
]
_READ_FUNCTIONS = [
    "lambda:GetPolicy",
    "lambda:GetFunctionUrlConfig",
    "lambda:ListAliases",
    "lambda:GetFunctionEventInvokeConfig",
]
_READ_ROLES = ["iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy"]
_ROLES = f"arn:{PARTITION}:iam::{ACCOUNT_ID}:role/*"
_POLICIES = (f"arn:{PARTITION}:iam::{ACCOUNT_ID}:policy/*", f"arn:{PARTITION}:iam::aws:policy/*")


def _functions(region: str) -> str:
    return f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:function:*"


def _layer_versions(region: str) -> str:
    return f"arn:{PARTITION}:lambda:{region}:{ACCOUNT_ID}:layer:*:*"


def _hub(region: str) -> str:
    return f"arn:{PARTITION}:securityhub:{region}:{ACCOUNT_ID}:hub/default"


def _product(region: str) -> str:
    return f"arn:{PARTITION}:securityhub:{region}:{ACCOUNT_ID}:product/{ACCOUNT_ID}/default"


def sweep_statements(regions: Sequence[str]) -> list[dict[str, Any]]:
    """What one account's sweep calls (parry/posture/reader.py, findings.py) in `regions`: reads, and
    Parry's own findings in that account's Security Hub (BatchImportFindings with the default product
    ARN takes only findings whose AwsAccountId is the caller's account, so each account writes its own)."""
    return [
        {"Effect": "Allow", "Action": _READ_ANYWHERE, "Resource": "*"},
        {"Effect": "Allow", "Action": _READ_FUNCTIONS, "Resource": [_functions(r) for r in regions]},
        {
            "Effect": "Allow",
            "Action": "lambda:GetLayerVersionPolicy",
            "Resource": [_layer_versions(r) for r in regions],
        },
        {"Effect": "Allow", "Action": _READ_ROLES, "Resource": _ROLES},
        {"Effect": "Allow", "Action": ["iam:GetPolicy", "iam:GetPolicyVersion"], "Resource": list(_POLICIES)},
        # the only writes: Parry's findings into the account's own product, and resolving them
        {"Effect": "Allow", "Action": "securityhub:BatchImportFindings", "Resource": [_product(r) for r in regions]},
        {
            "Effect": "Allow",
            "Action": ["securityhub:GetFindings", "securityhub:BatchUpdateFindings"],
            "Resource": [_hub(r) for r in regions],
        },
    ]


def sweep_findings(regions: Sequence[str]) -> list[tuple[str, str]]:
    """cdk-nag's IAM5 on each wildcard of `sweep_statements(regions)`, with why it is needed."""

    def nag(arn: str) -> str:
        return f"IAM5[Resource::{arn.replace(PARTITION, '<AWS::Partition>').replace(ACCOUNT_ID, '<AWS::AccountId>')}]"

    findings = [
        (
            "IAM5[Resource::*]",
            "ListFunctions, ListEventSourceMappings, ListLayers and ListLayerVersions have no resource-level "
            "permissions; X-Ray neither.",
        ),
        (nag(_ROLES), "The sweep reads the policies of every function's execution role; read-only."),
        (
            nag(_POLICIES[0]),
            "The sweep reads the documents of the managed policies attached to execution roles; read-only.",
        ),
        (nag(_POLICIES[1]), "The sweep reads AWS managed policies attached to execution roles; read-only."),
    ]
    for region in regions:
        findings += [
            (nag(_functions(region)), f"The sweep reads every function of the account in {region}; read-only."),
            (
                nag(_layer_versions(region)),
                f"The sweep reads every layer version's permissions in {region}; read-only.",
            ),
            (nag(_hub(region)), f"The account's Security Hub in {region}: Parry's own findings only."),
            (nag(_product(region)), f"The account's own custom product in {region}: Parry's findings only."),
        ]
    return findings


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
        regions: Sequence[str],
        topic_arn: str,
        data_key_arn: str,
        member_accounts: Sequence[str] = (),
        member_role_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        statements = [
            *sweep_statements(regions),
            # one notice of a sweep's new results, on Parry's encrypted topic
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": data_key_arn},
        ]
        if member_accounts:  # the member stack's read-only role, in the configured member accounts only
            statements.append(
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": [f"arn:{PARTITION}:iam::{a}:role/{member_role_name}" for a in member_accounts],
                }
            )
        self.log_group, self.role, self.function = lambda_function(
            self,
            function_name=function_name,
            description="Parry posture sweep: checks every Lambda function, findings to Security Hub",
            handler=HANDLER,
            role_name=role_name,
            statements=statements,
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
