"""cdk-nag acknowledgements, each with its reason, for findings that are by design.

cdk-nag 3 names every finding (`AwsSolutions::AwsSolutions-IAM5[Resource::<Table.Arn>/index/*]`)
and wants each acknowledged on its own; for wildcard resources the finding id is derived here
from the same template the policy was rendered from, so it cannot drift from the policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import Construct

from parry.actions.base import Permission
from stacks import naming
from stacks.policies import any_region, regional, render_resource

AWS_SOLUTIONS = "AwsSolutions::AwsSolutions-"

# Why each engine wildcard is as narrow as the API allows.
ENGINE_WILDCARD_REASONS = {
    "{cases_table_arn}/index/*": "The engine queries the case table's own secondary indexes (by-opened); "
    "the table ARN bounds the wildcard.",
    "{evidence_bucket_arn}/cases/*": "Evidence keys are per case (cases/<account>/<date>/<case-id>/...), "
    "created at run time; the cases/ prefix of the one evidence bucket is the narrowest scope.",
    "arn:{partition}:guardduty:*:{account}:detector/*": "The runner re-reads every GuardDuty finding it is "
    "handed through this account's detector in the finding's region, whose id it learns at run time "
    "(ListDetectors). Read-only, this account's detectors only.",
}


# Wildcards the deployer sets in context, for actions that pass roles the case recorded.
DEPLOYER_WILDCARD_REASONS = {
    "arn:{partition}:iam::{account}:role/{instance_roles}": "The instance profile's role is the one the case "
    "recorded when it detached it, known only at run time; parry:instanceRoles narrows the roles (name or "
    "path pattern), and iam:PassedToService lets them be passed to EC2 only.",
}


def registry_reason(template: str) -> str:
    """Why a wildcard resource declared by the actions registry is acceptable, said accurately."""
    pinned = (
        "service, resource type and this account"
        if "{account}" in template
        else (
            "service and resource type, and the aws:ResourceAccount condition this account (the ARN "
            "format carries no account)"
        )
    )
    return (
        f"Declared by the actions registry ({template}): the playbook acts on the resource named in the "
        f"triggering event, known only at run time; the ARN pins {pinned}."
    )


def log_streams_finding(function_name: str) -> tuple[str, str]:
    """The IAM5 finding of a function writing its own log streams, with its reason."""
    arn = naming.log_group_arn(
        function_name, partition="<AWS::Partition>", region="<AWS::Region>", account="<AWS::AccountId>"
    )
    return (
        f"IAM5[Resource::{arn}]",
        "The function writes log streams it creates at run time, in its own log group only.",
    )


def acknowledge(scope: Construct, rule: str, reason: str) -> None:
    """Acknowledge one AwsSolutions finding (`L1`, `IAM5[Resource::...]`) on `scope` and below."""
    acknowledge_all(scope, [(rule, reason)])


def acknowledge_all(scope: Construct, findings: Iterable[tuple[str, str]]) -> None:
    """Acknowledge several (rule, reason) findings on `scope` and below, in one jsii call."""
    acks = [Acknowledgment(id=f"{AWS_SOLUTIONS}{rule}", reason=reason) for rule, reason in findings]
    if acks:
        Validations.of(scope).acknowledge(*acks)


def nag_value(resolved: Any) -> str:
    """A resolved CloudFormation value written the way cdk-nag writes it in finding ids."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and len(resolved) == 1:
        ((fn, arg),) = resolved.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join" and arg[0] == "":
            return "".join(nag_value(part) for part in arg[1])
    raise ValueError(f"cannot write {resolved!r} as a cdk-nag finding id")


_FINDING_VALUES: dict[tuple[int, str], str] = {}


def _finding_value(stack: Stack, rendered: str) -> str:
    """`nag_value` of a rendered resource, resolved once per stack (every runner shares most)."""
    key = (id(stack), rendered)
    if key not in _FINDING_VALUES:
        _FINDING_VALUES[key] = nag_value(stack.resolve(rendered))
    return _FINDING_VALUES[key]


def wildcard_findings(
    stack: Stack,
    perms: Iterable[Permission],
    values: Mapping[str, str],
    *,
    reasons: Mapping[str, str],
    unscoped_actions: Iterable[str] = (),
    other_regions: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """The IAM5 (rule, reason) findings of every wildcard resource of `perms`.

    `Resource: "*"` is one finding per policy; its reason lists the actions that use it (those
    declared with "*" because their API has no resource-level permissions, and `unscoped_actions`
    the construct library adds, such as X-Ray's). An infra test holds "*" to read-only actions.
    """
    found: dict[str, str] = {}
    star = set(unscoped_actions)
    for perm in perms:
        for template in perm.resources:
            if template == "*":
                star.update(perm.actions)
                continue
            rendering = any_region(values) if other_regions and regional(template) else values
            rendered = render_resource(template, rendering, where="nag")
            if "*" not in rendered:
                continue
            rule = f"IAM5[Resource::{_finding_value(stack, rendered)}]"
            reason = reasons.get(template) or DEPLOYER_WILDCARD_REASONS.get(template) or registry_reason(template)
            if rendering is not values:
                reason += (
                    " Any region: a Deny statement refuses its actions outside parry:regions (aws:RequestedRegion)."
                )
            found.setdefault(rule, reason)
    if star:
        found["IAM5[Resource::*]"] = (
            "Resource '*' only for actions whose API has no resource-level permissions: " + ", ".join(sorted(star))
        )
    return list(found.items())
