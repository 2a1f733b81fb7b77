"""The IAM permissions of the engine itself, beside those its actions declare.

Resource strings are templates the CDK app fills in. Actions never list these: a playbook's role
is exactly `ENGINE_PERMISSIONS` plus the union of its actions' declared permissions.
"""

from __future__ import annotations

from parry.actions.base import Permission

# Keeping a case: its record, its evidence and the on-call's notifications.
CASE_KEEPING: tuple[Permission, ...] = (
    # case store: claim, checkpoint, approvals, rate counters
    Permission(
        ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"),
        ("{cases_table_arn}", "{cases_table_arn}/index/*"),
    ),
    # evidence: write once under retention, read back the chain head when resuming
    Permission(("s3:PutObject", "s3:PutObjectRetention", "s3:GetObject"), ("{evidence_bucket_arn}/cases/*",)),
    Permission(("s3:ListBucket",), ("{evidence_bucket_arn}",)),
    Permission(("kms:GenerateDataKey", "kms:Decrypt"), ("{data_key_arn}",)),
    Permission(("kms:Sign", "kms:GetPublicKey"), ("{signing_key_arn}",)),
    # approval requests, blocked and expired cases are told to the on-call, notify step or not
    Permission(("sns:Publish",), ("{topic_arn}",)),
)

ENGINE_PERMISSIONS: tuple[Permission, ...] = (
    *CASE_KEEPING,
    # the global kill switch
    Permission(("ssm:GetParameter",), ("{kill_switch_parameter_arn}",)),
    # continue a run that nears the Lambda deadline in a fresh invocation
    Permission(("lambda:InvokeFunction",), ("{function_arn}",)),
)


# A Security Hub custom action on a GuardDuty finding (parry/custom_actions.py): the runner reads
# the finding back from GuardDuty, because the ASFF copy Security Hub sends lacks the fields the
# playbooks read. Only manual playbooks have a custom action, so only their runners need it. Both
# calls run with the runner's own credentials in the security account (the GuardDuty
# administrator reads its members' findings there). ListDetectors supports no resource-level
# permissions (read-only); GetFindings is scoped to this account's detectors.
CUSTOM_ACTION_PERMISSIONS: tuple[Permission, ...] = (
    Permission(("guardduty:ListDetectors",), ("*",), security_account=True),
    Permission(
        ("guardduty:GetFindings",), ("arn:{partition}:guardduty:{region}:{account}:detector/*",), security_account=True
    ),
)


def render(perm: Permission, values: dict[str, str]) -> list[str]:
    """Fill the templates of a permission's resources (for tests and docs; CDK uses tokens)."""
    return [r.format(**values) for r in perm.resources]


# The scheduled maintenance function (functions/runner/maintenance.py): closes expired approvals.
MAINTENANCE_PERMISSIONS: tuple[Permission, ...] = CASE_KEEPING
