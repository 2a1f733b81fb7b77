"""The member-account stack: one role per playbook that its runner in the security account may
assume, holding the same action permissions as the runner (not the engine's: cases, evidence and
notifications stay in the security account), and the posture sweep's read-only role.

Deploy it in every member account (`cdk deploy ParryMember`, or as a StackSet from the template).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from parry.actions.base import Permission
from parry.playbooks.model import Playbook
from stacks import naming
from stacks.constructs.posture_sweep import sweep_findings, sweep_statements
from stacks.nag import acknowledge_all, wildcard_findings
from stacks.policies import deny_own_resources, statements
from stacks.tokens import ACCOUNT_ID, PARTITION

MAX_SESSION_SECONDS = 3600


def _trust(
    security_account: str, role_arn: str, organization_id: str | None, external_id: str | None
) -> dict[str, Any]:
    """Only `role_arn` of the security account may assume the role: in the organization and with the
    external id, when those are configured."""
    conditions: dict[str, dict[str, str]] = {"ArnEquals": {"aws:PrincipalArn": role_arn}}
    if organization_id:
        conditions["StringEquals"] = {"aws:PrincipalOrgID": organization_id}
    if external_id:
        conditions.setdefault("StringEquals", {})["sts:ExternalId"] = external_id
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{PARTITION}:iam::{security_account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": conditions,
            }
        ],
    }


def member_permissions(book: Playbook) -> list[Permission]:
    """The playbook's permissions the engine uses through the member role (`Permission.member`,
    the rule the engine follows too); those naming the security account's own resources
    ({topic_arn}, ...) or called from the administrator account stay with the runner."""
    return [p for p in book.permissions() if p.member]


class MemberAccountStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        playbooks: Sequence[Playbook],
        home_region: str,
        security_account: str | None = None,
        organization_id: str | None = None,
        external_id: str | None = None,
        instance_roles: str = "*",
        other_regions: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if security_account is None:
            security_account = CfnParameter(
                self,
                "SecurityAccountId",
                type="String",
                allowed_pattern=r"^\d{12}$",
                description="The account Parry's responder stack runs in",
            ).value_as_string

        self.other_regions = tuple(other_regions)  # beside the home region: the role acts in each
        self.roles: dict[str, iam.CfnRole] = {}
        findings: dict[str, str] = {}
        self.template_values: dict[str, str] = {}
        for book in playbooks:
            perms = member_permissions(book)
            if not perms:
                continue
            runner_role_arn = (
                f"arn:{PARTITION}:iam::{security_account}:role/{naming.runner_role_name(book.name, home_region)}"
            )
            values = {
                "partition": PARTITION,
                "region": home_region,
                "account": ACCOUNT_ID,
                "instance_roles": instance_roles,
            }
            self.template_values = values
            granted = [
                *statements(
                    perms, values, where=f"{book.path or book.name}: playbook {book.name}", other_regions=other_regions
                ),
                *deny_own_resources(perms, values, other_regions=other_regions),
            ]
            # L1, like the runners: one jsii call per role (see stacks/constructs/playbook_runner.py)
            role = iam.CfnRole(
                self,
                f"Role-{book.name}",
                role_name=naming.member_role_name(book.name),
                description=f"Parry playbook {book.name}: assumed by its runner in the security account",
                max_session_duration=MAX_SESSION_SECONDS,
                assume_role_policy_document=_trust(security_account, runner_role_arn, organization_id, external_id),
                policies=[
                    iam.CfnRole.PolicyProperty(
                        policy_name="Permissions", policy_document={"Version": "2012-10-17", "Statement": granted}
                    )
                ],
            )
            findings.update(wildcard_findings(self, perms, values, reasons={}, other_regions=other_regions))
            self.roles[book.name] = role
        self.sweep_role = self._sweep_role(security_account, home_region, organization_id, external_id)
        for rule, reason in sweep_findings((home_region, *other_regions)):
            findings[rule] = f"{findings[rule]} {reason}" if rule in findings else reason
        # once for the stack, which holds these roles only (one jsii call instead of one per role)
        acknowledge_all(self, findings.items())

    def _sweep_role(
        self, security_account: str, home_region: str, organization_id: str | None, external_id: str | None
    ) -> iam.CfnRole:
        """What the scheduled posture sweep reads here (and Parry's own findings, which only this
        account may import), trusted by the sweep function's role in the security account only."""
        sweep_role_arn = f"arn:{PARTITION}:iam::{security_account}:role/{naming.posture_sweep_role_name(home_region)}"
        return iam.CfnRole(
            self,
            "SweepRole",
            role_name=naming.MEMBER_SWEEP_ROLE,
            description="Parry posture sweep: reads Lambda functions and their roles; assumed by the sweep only",
            max_session_duration=MAX_SESSION_SECONDS,
            assume_role_policy_document=_trust(security_account, sweep_role_arn, organization_id, external_id),
            policies=[
                iam.CfnRole.PolicyProperty(
                    policy_name="Sweep",
                    policy_document={
                        "Version": "2012-10-17",
                        "Statement": sweep_statements((home_region, *self.other_regions)),
                    },
                )
            ],
        )
