"""Security Hub custom actions for the `manual: true` playbooks, one custom resource for all.

AWS::SecurityHub::ActionTarget exists in only some regions' CloudFormation registries (cfn-lint
E3006 elsewhere) and aws-cdk-lib has no class for it, while the Security Hub API works wherever
Security Hub is enabled. A small inline Lambda reconciles the actions with the list (create,
rename, delete); action ARNs are deterministic, so rules name them without a lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.tokens import ACCOUNT_ID, PARTITION, REGION

HANDLER_SOURCE = Path(__file__).with_name("security_hub_actions_handler.py")
RESOURCE_TYPE = "Custom::ParrySecurityHubActions"


def action_arn(action_id: str) -> str:
    return f"arn:{PARTITION}:securityhub:{REGION}:{ACCOUNT_ID}:action/custom/{action_id}"


def stack_arn(stack_name: str) -> str:
    """Every deployment of the stack: its id ends in a UUID CloudFormation picks at creation."""
    return f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/*"


FINDING_SOURCES = frozenset({"aws.guardduty", "aws.securityhub"})


def takes_findings(trigger: Mapping[str, Any]) -> bool:
    """Whether a trigger (or one of its `$or` branches) takes GuardDuty or Security Hub findings:
    only such a playbook gets a custom action, since the action hands it the selected findings (a
    playbook started by run requests alone would find nothing to act on in them)."""
    alternatives = trigger.get("$or")
    branches = alternatives if isinstance(alternatives, list) else [trigger]
    return any(FINDING_SOURCES & set(branch.get("source") or []) for branch in branches if isinstance(branch, dict))


class SecurityHubActions(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        actions: Mapping[str, tuple[str, str, str]],  # playbook -> (id, name, description)
        function_name: str,
        role_name: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.arns = {playbook: action_arn(aid) for playbook, (aid, _, _) in actions.items()}

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Parry: keeps the playbooks' Security Hub custom actions in step (deploy time only)",
            inline_policies={
                "SecurityHubActions": iam.PolicyDocument.from_json(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                                "Resource": self.log_group.log_group_arn,
                            },
                            {
                                # the handler asks CloudFormation whether a request is its own
                                "Effect": "Allow",
                                "Action": "cloudformation:DescribeStackResource",
                                "Resource": stack_arn(Stack.of(self).stack_name),
                            },
                            {
                                # these APIs take no resource-level permissions
                                "Effect": "Allow",
                                "Action": [
                                    "securityhub:CreateActionTarget",
                                    "securityhub:UpdateActionTarget",
                                    "securityhub:DeleteActionTarget",
                                ],
                                "Resource": "*",
                            },
                        ],
                    }
                )
            },
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description="Parry: keeps the playbooks' Security Hub custom actions in step (CloudFormation only)",
            runtime=lambda_.Runtime.PYTHON_3_13,
            runtime_management_mode=lambda_.RuntimeManagementMode.FUNCTION_UPDATE,  # as the runners'
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(HANDLER_SOURCE.read_text()),
            role=self.role,
            timeout=Duration.minutes(2),
            memory_size=256,
            log_group=self.log_group,
        )
        self.resource = CustomResource(
            self,
            "Actions",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "Actions": [
                    {"Id": aid, "Name": name, "Description": description}
                    for aid, name, description in sorted(actions.values())
                ]
            },
        )
