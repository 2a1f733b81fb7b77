"""The IAM permissions of the engine itself, beside those its actions declare.

Resource strings are templates the CDK app fills in. Actions never list these: a playbook's role
is exactly `ENGINE_PERMISSIONS` plus the union of its actions' declared permissions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parry.actions.base import Permission

if TYPE_CHECKING:
    from parry.playbooks.model import Playbook

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

# The partition keys a runner may write (parry/store/store.py): its own playbook's claims and rate
# counters, and cases and decision nonces, whose keys (CASE#<id>, NONCE#<nonce>) name no playbook, so
# IAM cannot keep one runner off another playbook's cases (docs/security.md, "Per-playbook table access").
# RATE-ALL#: the cap across playbooks (parry.store.hourly.GLOBAL_RATE_PREFIX), which every runner counts into
RUNNER_WRITABLE_KEYS = ("CASE#*", "NONCE#*", "CLAIM#{playbook}#*", "RATE#{playbook}#*", "RATE-ALL#*")

# A runner keeps cases like the maintenance function, but writes items under its own keys only:
# dynamodb:LeadingKeys is each written item's partition key (every item of a TransactWriteItems).
RUNNER_CASE_KEEPING: tuple[Permission, ...] = (
    Permission(("dynamodb:GetItem", "dynamodb:Query"), ("{cases_table_arn}", "{cases_table_arn}/index/*")),
    Permission(
        ("dynamodb:PutItem", "dynamodb:UpdateItem"),
        ("{cases_table_arn}",),
        conditions=(("ForAllValues:StringLike", "dynamodb:LeadingKeys", RUNNER_WRITABLE_KEYS),),
    ),
    *CASE_KEEPING[1:],
)

ENGINE_PERMISSIONS: tuple[Permission, ...] = (
    *RUNNER_CASE_KEEPING,
    # the global kill switch
    Permission(("ssm:GetParameter",), ("{kill_switch_parameter_arn}",)),
    # continue a run that nears the Lambda deadline in a fresh invocation
    Permission(("lambda:InvokeFunction",), ("{function_arn}",)),
)


# Every GuardDuty or Security Hub finding is re-read from its service before a runner acts on it
# (parry.routing.findings; a Security Hub custom action on a GuardDuty finding is read back the
# same way, parry.routing.custom_actions). The calls run with the runner's own credentials in the
# security account: the GuardDuty administrator reads its members' findings with its own
# detector, in the finding's region (any region: GuardDuty runs in each), and the Security Hub
# administrator's hub holds its members' findings. ListDetectors supports no resource-level
# permissions (read-only); GetFindings is scoped to this account's detectors and hub.
# Security Hub v2 finding calls are authorized by the CSPM actions: GetFindingsV2 by
# securityhub:GetFindings and BatchUpdateFindingsV2 by securityhub:BatchUpdateFindings (Security Hub
# API reference, GetFindingsV2 and BatchUpdateFindingsV2; the latter's fields can be limited with the
# securityhub:OCSFSyntaxPath/<SeverityId|StatusId|Comment> condition keys), so the v2 re-read needs
# nothing beyond the statement below.
FINDING_READ_PERMISSIONS: tuple[Permission, ...] = (
    Permission(("guardduty:ListDetectors",), ("*",), security_account=True),
    Permission(
        ("guardduty:GetFindings",), ("arn:{partition}:guardduty:*:{account}:detector/*",), security_account=True
    ),
    Permission(
        ("securityhub:GetFindings",),
        ("arn:{partition}:securityhub:{region}:{account}:hub/default",),
        security_account=True,
    ),
)
# Inspector findings are re-read the same way (parry.routing.inspector), by the runners of playbooks
# that take them only; ListFindings supports no resource-level permissions (read-only).
INSPECTOR_READ_PERMISSIONS: tuple[Permission, ...] = (
    Permission(("inspector2:ListFindings",), ("*",), security_account=True),
)
FINDING_SOURCES = frozenset({"aws.guardduty", "aws.securityhub"})
INSPECTOR_SOURCE = "aws.inspector2"
ACCESS_ANALYZER_SOURCE = "aws.access-analyzer"

# IAM Access Analyzer findings, re-read from the analyzer in Parry's account (parry.routing.access_analyzer);
# ListAnalyzers has no resource-level permissions; the GetFinding and GetFindingV2 APIs are both
# authorized by the IAM action access-analyzer:GetFinding (there is no GetFindingV2 action)
ACCESS_ANALYZER_READ_PERMISSIONS: tuple[Permission, ...] = (
    Permission(("access-analyzer:ListAnalyzers",), ("*",), security_account=True),
    Permission(
        ("access-analyzer:GetFinding",),
        ("arn:{partition}:access-analyzer:{region}:{account}:analyzer/*",),
        security_account=True,
    ),
)


def _sources(playbook: Playbook) -> set[str]:
    branches = playbook.trigger.get("$or", [playbook.trigger])
    return {s for branch in branches if isinstance(branch, dict) for s in (branch.get("source") or ())}


def reads_findings(playbook: Playbook) -> bool:
    """Whether the playbook's trigger takes GuardDuty, Security Hub, Inspector or Access Analyzer findings: its runner re-reads them."""
    return bool(_sources(playbook) & (FINDING_SOURCES | {INSPECTOR_SOURCE, ACCESS_ANALYZER_SOURCE}))


def finding_read_permissions(playbook: Playbook) -> tuple[Permission, ...]:
    """What the runner of `playbook` needs to re-read the findings its trigger takes."""
    sources = _sources(playbook)
    return (
        *(FINDING_READ_PERMISSIONS if sources & FINDING_SOURCES else ()),
        *(INSPECTOR_READ_PERMISSIONS if INSPECTOR_SOURCE in sources else ()),
        *(ACCESS_ANALYZER_READ_PERMISSIONS if ACCESS_ANALYZER_SOURCE in sources else ()),
    )


def render(perm: Permission, values: dict[str, str]) -> list[str]:
    """Fill the templates of a permission's resources (for tests and docs; CDK uses tokens)."""
    return [r.format(**values) for r in perm.resources]


# The scheduled maintenance function (functions/runner/maintenance.py): closes expired approvals; the
# stack adds sealing a `continue` and invoking the runners, to re-drive stuck cases.
MAINTENANCE_PERMISSIONS: tuple[Permission, ...] = CASE_KEEPING


def runner_permissions(playbook: Playbook) -> tuple[Permission, ...]:
    """What the CDK app grants the runner of `playbook` (stacks/responder_stack.py), as templates."""
    return (
        *playbook.permissions(),
        *ENGINE_PERMISSIONS,
        *finding_read_permissions(playbook),
    )


def beyond(needed: Playbook, granted: Playbook) -> list[str]:
    """What `needed`'s actions may call that the runner role made for `granted` does not allow, one line
    each: empty when a runner deployed for `granted` can run `needed` (an earlier version sealed in a case).

    Compared as the CDK app grants them, action by action on each resource template and account, so
    a resource the role names differently counts as not allowed."""
    allowed = {
        (action, resource, p.security_account)
        for p in runner_permissions(granted)
        for action in p.actions
        for resource in p.resources
    }
    missing: list[str] = []
    for perm in needed.permissions():
        for action in perm.actions:
            for resource in perm.resources:
                if (action, resource, perm.security_account) not in allowed:
                    missing.append(f"{action} on {resource}")
    return missing
