"""The two KMS HMAC keys that seal control requests, so a runner can tell Parry's own from a forgery.

The request key: only the control-plane role may GenerateMac, only the runners may VerifyMac. The
continuation key: only the runners may GenerateMac and VerifyMac (a runner continuing its own case).
The account root keeps the administrative actions, each listed, and never `kms:*`: so no identity
policy in the account, however wide, can make or check a MAC, nor grant itself the right to
(CreateGrant is left out too). Roles are named by ARN string in an aws:PrincipalArn condition, not
as principals: KMS would refuse a key policy naming a role that does not exist yet, and the roles'
own policies name the keys, which would be a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnDeletionPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.tokens import ACCOUNT_ID, PARTITION

MAC_ALGORITHM = "HMAC_SHA_256"
# Key administration without use: no GenerateMac/VerifyMac, no CreateGrant, no kms:*.
ADMINISTRATIVE_ACTIONS = (
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListKeyPolicies",
    "kms:ListGrants",
    "kms:ListResourceTags",
    "kms:RevokeGrant",
    "kms:EnableKey",
    "kms:DisableKey",
    "kms:UpdateKeyDescription",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:CreateAlias",
    "kms:UpdateAlias",
    "kms:DeleteAlias",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
)
# A sealed request lives five minutes: a deleted key needs no long window to drain.
PENDING_WINDOW_DAYS = 7


def mac_statements(sid: str, action: str, role_arns: Sequence[str]) -> list[dict[str, Any]]:
    """Allow `action` to exactly `role_arns` (with the HMAC algorithm Parry uses), and deny it to
    every other principal, so that neither a grant nor a later statement can widen it. Without
    roles (no playbook deployed), deny it to all."""
    if not role_arns:
        return [{"Sid": f"Deny{sid}", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": action, "Resource": "*"}]
    return [
        {
            "Sid": f"Allow{sid}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"},
            "Action": action,
            "Resource": "*",
            "Condition": {
                "ArnEquals": {"aws:PrincipalArn": list(role_arns)},
                "StringEquals": {"kms:MacAlgorithm": MAC_ALGORITHM},
            },
        },
        {
            "Sid": f"Deny{sid}ToOthers",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": action,
            "Resource": "*",
            "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(role_arns)}},
        },
    ]


def hmac_key(scope: Construct, construct_id: str, *, description: str, statements: list[dict[str, Any]]) -> kms.CfnKey:
    key = kms.CfnKey(
        scope,
        construct_id,
        description=description,
        key_spec="HMAC_256",
        key_usage="GENERATE_VERIFY_MAC",
        pending_window_in_days=PENDING_WINDOW_DAYS,
        key_policy={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdministersTheKeyButCannotUseIt",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"},
                    "Action": list(ADMINISTRATIVE_ACTIONS),
                    "Resource": "*",
                },
                *statements,
            ],
        },
    )
    key.cfn_options.deletion_policy = CfnDeletionPolicy.DELETE
    key.cfn_options.update_replace_policy = CfnDeletionPolicy.DELETE
    return key


class RequestKeys(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        control_plane_role_arn: str | None,
        runner_role_arns: Sequence[str],
        maintenance_role_arn: str | None = None,
    ) -> None:
        """Role ARNs as strings built from the roles' names (stacks/naming.py), not references;
        without a front door (no playbooks), `control_plane_role_arn` is None. The maintenance role
        seals continuations too (re-driving a stuck case through its runner), and checks none."""
        super().__init__(scope, construct_id)
        self.request_key = hmac_key(
            self,
            "RequestKey",
            description="Parry: seals the control plane's requests to the runners (HMAC)",
            statements=[
                *mac_statements(
                    "GenerateMac", "kms:GenerateMac", [control_plane_role_arn] if control_plane_role_arn else []
                ),
                *mac_statements("VerifyMac", "kms:VerifyMac", runner_role_arns),
            ],
        )
        self.continuation_key = hmac_key(
            self,
            "ContinuationKey",
            description="Parry: seals a runner's continuation of its own case (HMAC)",
            statements=[
                *mac_statements(
                    "GenerateMac",
                    "kms:GenerateMac",
                    [*runner_role_arns, *([maintenance_role_arn] if maintenance_role_arn else [])],
                ),
                *mac_statements("VerifyMac", "kms:VerifyMac", runner_role_arns),
            ],
        )
        self.request_key_arn: str = self.request_key.attr_arn
        self.continuation_key_arn: str = self.continuation_key.attr_arn

    def runner_statements(self) -> list[dict[str, Any]]:
        """What a runner's role needs: check the control plane's seal, seal and check its own continuations."""
        return [
            {"Effect": "Allow", "Action": "kms:VerifyMac", "Resource": self.request_key_arn},
            {
                "Effect": "Allow",
                "Action": ["kms:GenerateMac", "kms:VerifyMac"],
                "Resource": self.continuation_key_arn,
            },
        ]

    def control_plane_statements(self) -> list[dict[str, Any]]:
        return [{"Effect": "Allow", "Action": "kms:GenerateMac", "Resource": self.request_key_arn}]

    def maintenance_statements(self) -> list[dict[str, Any]]:
        """What the maintenance role needs to ask a runner to continue a stuck case: seal a continue."""
        return [{"Effect": "Allow", "Action": "kms:GenerateMac", "Resource": self.continuation_key_arn}]
