"""IAM statements from Parry's declared permissions (actions registry and engine).

Resource templates (`arn:{partition}:iam::{account}:user/*`, `{cases_table_arn}/index/*`) are
filled with CDK tokens. A template naming a value the app does not provide fails the synth with
the playbook and template named, rather than deploying a policy that cannot work.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from parry.actions.base import Permission

# Beside read-only APIs without resource-level permissions (READ_VERBS), the only actions allowed
# on Resource "*". Extend with care; an infra test checks every "*" resource against both.
UNSCOPABLE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
)


# Parry's own resources (parry/guardrails.py OWN_RESOURCE_PATTERNS), per service, as IAM ARNs.
OWN_RESOURCES = {
    "iam": ("arn:{partition}:iam::{account}:role/parry-*", "arn:{partition}:iam::{account}:role/Parry*"),
    "lambda": (
        "arn:{partition}:lambda:{region}:{account}:function:parry-*",
        "arn:{partition}:lambda:{region}:{account}:function:Parry*",
    ),
}
READ_VERBS = ("Get", "List", "Describe", "Lookup", "BatchGet", "Head")


class TemplateError(ValueError):
    """A permission resource template names a value the CDK app does not provide."""


def template_fields(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field]


def render_resource(template: str, values: Mapping[str, str], *, where: str) -> str:
    missing = [f for f in template_fields(template) if f not in values]
    if missing:
        raise TemplateError(
            f"{where}: resource template {template!r} uses {{{missing[0]}}}; "
            f"the CDK app provides {', '.join('{' + k + '}' for k in sorted(values))}"
        )
    return template.format(**values)


def unpinned(template: str) -> bool:
    """Whether a wildcard ARN template cannot name the account (`arn:...:s3:::*`,
    `arn:...:ec2:{region}::snapshot/*`): its statement is pinned by aws:ResourceAccount instead."""
    return template != "*" and "*" in template and "account" not in template_fields(template)


def regional(template: str) -> bool:
    return "region" in template_fields(template)


def any_region(values: Mapping[str, str]) -> dict[str, str]:
    """`values` with {region} a wildcard: the resource in whichever region it is (parry:regions)."""
    return {**values, "region": "*"}


def statements(
    perms: Iterable[Permission], values: Mapping[str, str], *, where: str, other_regions: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """One Allow statement (IAM JSON) per declared permission, resources rendered with `values`.

    A statement with a wildcard ARN that carries no account gets an aws:ResourceAccount condition
    on `values["account"]`, so `s3:::*` means this account's buckets, not every bucket in AWS.
    A permission's own `conditions` (iam:PassedToService, ...) are rendered into the same block.
    With `other_regions`, resources naming {region} hold in any region, and one Deny statement
    refuses their actions outside the home region (`values["region"]`) and those: one ARN or one
    aws:RequestedRegion list per statement would outgrow IAM's 10,240 characters of a role's policies.
    """
    out = []
    regional_actions: set[str] = set()
    for perm in perms:
        for action in perm.actions:
            if action == "*" or action.endswith(":*"):
                raise TemplateError(f"{where}: permission {action!r} is a whole-service wildcard")
        if "iam:PassRole" in perm.actions and not any(key == "iam:PassedToService" for _, key, _ in perm.conditions):
            # without it, a role passable to EC2 is passable to Lambda, Glue, ... with their own powers
            raise TemplateError(f"{where}: iam:PassRole needs an iam:PassedToService condition")
        widened = bool(other_regions) and any(regional(r) for r in perm.resources)
        if widened:
            regional_actions.update(perm.actions)
        rendering = any_region(values) if widened else values
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": list(perm.actions),
            "Resource": [render_resource(r, rendering, where=where) for r in perm.resources],
        }
        condition: dict[str, dict[str, Any]] = {}
        if any(unpinned(r) for r in perm.resources):
            condition["StringEquals"] = {"aws:ResourceAccount": values["account"]}
        for operator, key, templates in perm.conditions:
            rendered = [render_resource(t, values, where=where) for t in templates]
            condition.setdefault(operator, {})[key] = rendered[0] if len(rendered) == 1 else rendered
        if condition:
            statement["Condition"] = condition
        out.append(statement)
    if regional_actions:
        out.append(
            {
                "Effect": "Deny",
                "Action": sorted(regional_actions),
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": [values["region"], *other_regions]}},
            }
        )
    return out


def deny_own_resources(
    perms: Iterable[Permission],
    values: Mapping[str, str],
    *,
    keep: Iterable[str] = (),
    other_regions: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Deny statements that keep a playbook's changing actions off Parry's own roles and functions.

    The engine's guardrails already refuse them; this makes IAM refuse them too, so a bug in a
    playbook or an action cannot rewrite the responder's own permissions or code. Actions in
    `keep` (the engine's own, such as invoking itself to continue a case) are never denied.
    With `other_regions` the playbook acts in any region, and so the denial holds in every region.
    """
    perms = list(perms)
    kept = set(keep)
    rendering = any_region(values) if other_regions else values
    out = []
    for service, arns in OWN_RESOURCES.items():
        actions = sorted(
            {
                a
                for perm in perms
                for a in perm.actions
                if a.split(":")[0] == service and not a.split(":")[1].startswith(READ_VERBS) and a not in kept
            }
        )
        if actions:
            out.append(
                {
                    "Effect": "Deny",
                    "Action": actions,
                    "Resource": [render_resource(r, rendering, where="own resources") for r in arns],
                }
            )
    return out
