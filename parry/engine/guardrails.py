"""Guardrails: what automation must never touch, and when it must stop to ask.

Protected resources are refused with a recorded reason: anything tagged `parry:protected=true`,
anything matching a configured ARN pattern, and always Parry's own roles and functions (so a
playbook can never contain the responder itself). A storm of cases waits for approval: past the
playbook's hourly limit in one account, or past the cap on every playbook's cases together.
"""

from __future__ import annotations

import fnmatch

PROTECTED_TAG = "parry:protected"
# Parry's own resources: the CDK app names every role and function with this prefix.
OWN_RESOURCE_PATTERNS = (
    "arn:*:iam::*:role/parry-*",
    "arn:*:iam::*:role/Parry*",
    "arn:*:lambda:*:*:function:parry-*",
    "arn:*:lambda:*:*:function:Parry*",
)


def protection_reason(arn: str | None, tags: dict[str, str], patterns: tuple[str, ...] | list[str] = ()) -> str | None:
    """Why this resource is protected, or None when automation may act on it."""
    if str(tags.get(PROTECTED_TAG, "")).lower() == "true":
        return f"{arn or 'resource'} is tagged {PROTECTED_TAG}=true"
    if arn:
        for pattern in OWN_RESOURCE_PATTERNS:
            if fnmatch.fnmatchcase(arn, pattern):
                return f"{arn} is one of Parry's own resources"
        for pattern in patterns:
            if fnmatch.fnmatchcase(arn, pattern):
                return f"{arn} matches the protected pattern {pattern}"
    return None


def rate_limit_reason(
    playbook: str,
    account: str,
    *,
    limit: int | None,
    count: int | None,
    cap: int,
    total: int | None,
    over: tuple[str, ...] = (),
) -> str | None:
    """Why a new case must wait for approval (None: it may run): `count` of this playbook's cases in
    `account` this hour over the playbook's `limit`, or `total` of all cases over the global `cap`;
    or `over` names them ("playbook", "all"): the limits the case's claim found reached."""
    if limit and ("playbook" in over or (count is not None and count > limit)):
        return f"more than {limit} cases of {playbook} in account {account} this hour (guardrails.max_cases_per_hour)"
    if cap and ("all" in over or (total is not None and total > cap)):
        return f"more than {cap} cases of all playbooks this hour (parry:maxCasesPerHour)"
    return None
