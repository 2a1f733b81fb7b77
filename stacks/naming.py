"""Physical names of Parry's resources.

Parry's guardrails treat `role/parry-*` and `function:parry-*` as its own and never act on them,
so every role and function is named here with that prefix. The member-account stack uses the
same functions, so the trust between the two accounts cannot drift.
"""

from __future__ import annotations

import hashlib

IAM_ROLE_MAX = 64
LAMBDA_NAME_MAX = 64
QUEUE_NAME_MAX = 80
RULE_NAME_MAX = 64
PREFIX = "parry-"


def fit(name: str, limit: int) -> str:
    """`name`, or when longer than `limit` a prefix of it plus a hash of the whole (stable, unique)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def function_name(playbook: str) -> str:
    return fit(f"{PREFIX}{playbook}", LAMBDA_NAME_MAX)


def runner_role_name(playbook: str, region: str) -> str:
    # IAM is global: the region keeps two deployments of Parry in one account apart.
    return fit(f"{PREFIX}{playbook}-{region}", IAM_ROLE_MAX)


def member_role_name(playbook: str) -> str:
    return fit(f"{PREFIX}member-{playbook}", IAM_ROLE_MAX)


def auditor_role_name(region: str) -> str:
    return fit(f"{PREFIX}auditor-{region}", IAM_ROLE_MAX)


def log_group_arn(function: str, *, partition: str, region: str, account: str) -> str:
    """The Arn attribute of a function's log group (it covers the group's log streams)."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{function}:*"


def dlq_name(playbook: str) -> str:
    return fit(f"{PREFIX}{playbook}-dlq", QUEUE_NAME_MAX)


def rule_name(playbook: str, kind: str) -> str:
    return fit(f"{PREFIX}{playbook}-{kind}", RULE_NAME_MAX)


# Not `parry-...`: playbook names are lowercase, so this can never collide with a runner's name,
# and the guardrails' `function:Parry*` and `role/Parry*` patterns still protect it.
SECURITY_HUB_ACTIONS_FUNCTION = "Parry-SecurityHubActions"


def security_hub_actions_role_name(region: str) -> str:
    return fit(f"Parry-SecurityHubActions-{region}", IAM_ROLE_MAX)


def security_hub_action_id(playbook: str) -> str:
    """Security Hub custom action ids are at most 20 alphanumeric characters."""
    return "Parry" + hashlib.sha256(playbook.encode()).hexdigest()[:15]


def security_hub_action_names(playbooks: list[str]) -> dict[str, str]:
    """Custom action names (at most 20 characters; the description carries the full name): the
    playbook name, cut to 20, with a hash only where two cut names would look the same."""
    cut = {p: p[:20].rstrip("-") for p in playbooks}
    seen: dict[str, int] = {}
    for name in cut.values():
        seen[name] = seen.get(name, 0) + 1
    return {
        p: name if seen[name] == 1 else f"{p[:11]}-{hashlib.sha256(p.encode()).hexdigest()[:8]}"
        for p, name in cut.items()
    }


# The scheduled maintenance function, named like the Security Hub actions function (see there).
MAINTENANCE_FUNCTION = "Parry-Maintenance"


def maintenance_role_name(region: str) -> str:
    return fit(f"Parry-Maintenance-{region}", IAM_ROLE_MAX)


# The scheduled posture sweep (named like the Security Hub actions function), and its schedule's role.
POSTURE_SWEEP_FUNCTION = "Parry-PostureSweep"


def posture_sweep_role_name(region: str) -> str:
    return fit(f"Parry-PostureSweep-{region}", IAM_ROLE_MAX)


# The sweep's role in each member account (stacks/member_account_stack.py), trusted by the sweep's
# role only; capitalised like the sweep, so no playbook's member role (parry-member-<playbook>) takes it.
MEMBER_SWEEP_ROLE = "Parry-MemberSweep"


def posture_schedule_role_name(region: str) -> str:
    return fit(f"Parry-PostureSchedule-{region}", IAM_ROLE_MAX)


# The front door people's requests enter by (named like the Security Hub actions function).
CONTROL_PLANE_FUNCTION = "Parry-ControlPlane"


def control_plane_role_name(region: str) -> str:
    return fit(f"Parry-ControlPlane-{region}", IAM_ROLE_MAX)


# The regional forwarder (stacks/regional_forwarder.py): one rule per account and region, and its
# role, named after the region it forwards from (IAM is global; a StackSet deploys one per region).
FORWARDER_RULE = "parry-forwarder"


def forwarder_role_name(region: str) -> str:
    return fit(f"{PREFIX}forwarder-{region}", IAM_ROLE_MAX)


def role_arn(role_name: str, *, partition: str, account: str) -> str:
    """A role's ARN from its name (Parry's roles have no path): policies name roles this way, by
    string, so a role and a resource whose policy names it never depend on each other."""
    return f"arn:{partition}:iam::{account}:role/{role_name}"
