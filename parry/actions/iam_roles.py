"""IAM role containment: revoke the sessions a role already issued, strip its permissions."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from parry.actions._common import deny_all, tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.iam import QUARANTINE_POLICY
from parry.actions.registry import register
from parry.errors import ResourceNotFound

ROLE_ARN = "arn:{partition}:iam::{account}:role/*"
POLICY_ARN = "arn:{partition}:iam::*:policy/*"  # managed policies may be AWS's own (account "aws")
# the name the IAM console gives the same policy ("Revoke active sessions"): operators recognise it
REVOKE_POLICY = "AWSRevokeOlderSessions"
# inline policies Parry puts on a role for containment: never stripped by detach_role_policies
PARRY_POLICIES = (REVOKE_POLICY, QUARANTINE_POLICY)
ROLE_READ = ("iam:GetRole", "iam:ListRoleTags")


def role_name_of(value: str) -> str:
    """A role name from a name or a role ARN (findings give a function's execution role as an ARN)."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


class RoleNamed(ActionParams):
    """Base of parameters with a `role_name` (each declares it, with its doc): an ARN is accepted and
    reduced to the name."""

    role_name: str  # not a field here: a plain class's annotations are not dataclass fields

    def __post_init__(self) -> None:
        object.__setattr__(self, "role_name", role_name_of(self.role_name))


def role_arn_and_tags(ctx: ActionContext, role_name: str) -> tuple[str, dict[str, str]]:
    """The role's ARN and tags; ResourceNotFound if the role does not exist."""
    iam = ctx.client("iam")
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException as exc:
        raise ResourceNotFound(f"IAM role {role_name} does not exist") from exc
    return role["Arn"], tag_dict(iam.list_role_tags(RoleName=role_name).get("Tags"))


CLOCK_SKEW = timedelta(minutes=5)
logger = logging.getLogger(__name__)


def _iso(value: datetime) -> str:
    """Whole seconds, rounded up: the cutoff never falls before the time it was asked to cover."""
    if value.microsecond:
        value = value.replace(microsecond=0) + timedelta(seconds=1)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _not_after_now(value: datetime) -> datetime:
    """min(value, now): no time an event or a request names moves a cutoff past now (a cutoff in 2099
    would deny every session of the role, Parry's own and the incident responders', until 2099).
    A time beyond clock skew is a forgery or a broken sender: logged as a security event."""
    now = datetime.now(UTC)
    if value > now + CLOCK_SKEW:
        logger.warning(
            "security event",
            extra={"security_event": True, "reason": f"a cutoff of {_iso(value)} is in the future: capped to now"},
        )
    return min(value, now)


def revoke_cutoff(ctx: ActionContext, role_name: str) -> str | None:
    """The TokenIssueTime of the role's revoke policy, or None when it has none."""
    iam = ctx.client("iam")
    try:
        doc = iam.get_role_policy(RoleName=role_name, PolicyName=REVOKE_POLICY)["PolicyDocument"]
    except iam.exceptions.NoSuchEntityException:
        return None
    if isinstance(doc, str):
        doc = json.loads(doc)
    statements = doc["Statement"] if isinstance(doc["Statement"], list) else [doc["Statement"]]
    for st in statements:
        cutoff = st.get("Condition", {}).get("DateLessThan", {}).get("aws:TokenIssueTime")
        if cutoff:
            return str(cutoff)
    return None


def revoke_document(cutoff: str) -> dict[str, Any]:
    """AWS's documented revoke-sessions policy: deny everything to credentials issued before `cutoff`."""
    return deny_all({"DateLessThan": {"aws:TokenIssueTime": cutoff}})


@dataclass(frozen=True)
class RevokeParams(RoleNamed):
    role_name: str = field(
        metadata={"doc": "IAM role name or ARN (an instance profile's or a function's execution role)"}
    )
    issued_before: str | None = field(
        default=None,
        metadata={"doc": "revoke sessions issued before this ISO 8601 time (never later than now); default: now"},
    )


@register
class RevokeRoleSessions(Action[RevokeParams]):
    """Deny every request made with role credentials issued before now (AWS's revoke-sessions policy).

    An instance or a function gets fresh credentials from its role; stolen ones stop working. Run
    again in the same case, it is a no-op while the cutoff already covers the triggering event.

    ```yaml
    - id: revoke-sessions
      action: iam.revoke_role_sessions
      with: {role_name: "${target.role}"}
    ```
    """

    name = "iam.revoke_role_sessions"
    Params = RevokeParams
    mutating = True
    summary = f"Revoke older sessions of IAM role {{role_name}} (inline policy {REVOKE_POLICY})"
    undo = "iam.restore_role_sessions"
    permissions = (Permission(ROLE_READ + ("iam:GetRolePolicy", "iam:PutRolePolicy"), (ROLE_ARN,)),)

    def _reference(self, ctx: ActionContext, params: RevokeParams) -> str | None:
        value = params.issued_before or ctx.event.get("time")
        return _iso(_not_after_now(_parse(value))) if value else None

    def observe(self, ctx: ActionContext, params: RevokeParams) -> Observation:
        arn, tags = role_arn_and_tags(ctx, params.role_name)
        cutoff = revoke_cutoff(ctx, params.role_name)
        ref = self._reference(ctx, params)
        done = cutoff is not None and (ref is None or _parse(cutoff) >= _parse(ref))
        return Observation(state={"role_name": params.role_name, "cutoff": cutoff}, arn=arn, tags=tags, done=done)

    def _cutoff(self, ctx: ActionContext, params: RevokeParams) -> str:
        if params.issued_before:
            return _iso(_not_after_now(_parse(params.issued_before)))
        return _iso(datetime.now(UTC))  # covers the event: it happened before now

    def calls(self, ctx: ActionContext, params: RevokeParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("iam:PutRolePolicy", {"RoleName": params.role_name, "PolicyName": REVOKE_POLICY})]

    def apply(self, ctx: ActionContext, params: RevokeParams, seen: Observation) -> dict[str, Any]:
        cutoff = self._cutoff(ctx, params)
        ctx.client("iam").put_role_policy(
            RoleName=params.role_name, PolicyName=REVOKE_POLICY, PolicyDocument=json.dumps(revoke_document(cutoff))
        )
        return {"cutoff": cutoff}

    def undo_params(self, params: RevokeParams, seen: Observation) -> dict[str, Any]:
        return {"role_name": params.role_name, "cutoff": seen.state["cutoff"]}


@dataclass(frozen=True)
class RestoreRevokeParams(RoleNamed):
    role_name: str = field(metadata={"doc": "IAM role name or ARN"})
    cutoff: str | None = field(
        default=None, metadata={"doc": "the earlier cutoff to put back; none: remove the policy"}
    )


@register
class RestoreRoleSessions(Action[RestoreRevokeParams]):
    """Put back the role's revoke-sessions policy as it was (usually: remove it).

    ```yaml
    - id: restore-sessions
      action: iam.restore_role_sessions
      with: {role_name: app-role}
    ```
    """

    name = "iam.restore_role_sessions"
    restores_access = True
    Params = RestoreRevokeParams
    mutating = True
    summary = f"Restore the {REVOKE_POLICY} policy of IAM role {{role_name}} to cutoff {{cutoff}}"
    no_undo_reason = "it is itself the undo of iam.revoke_role_sessions"
    permissions = (
        Permission(ROLE_READ + ("iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"), (ROLE_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: RestoreRevokeParams) -> Observation:
        arn, tags = role_arn_and_tags(ctx, params.role_name)
        cutoff = revoke_cutoff(ctx, params.role_name)
        state = {"role_name": params.role_name, "cutoff": cutoff}
        return Observation(state=state, arn=arn, tags=tags, done=cutoff == params.cutoff)

    def calls(self, ctx: ActionContext, params: RestoreRevokeParams, seen: Observation) -> list[ApiCall]:
        op = "iam:PutRolePolicy" if params.cutoff else "iam:DeleteRolePolicy"
        return [ApiCall(op, {"RoleName": params.role_name, "PolicyName": REVOKE_POLICY})]

    def apply(self, ctx: ActionContext, params: RestoreRevokeParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        if params.cutoff:
            doc = json.dumps(revoke_document(params.cutoff))
            iam.put_role_policy(RoleName=params.role_name, PolicyName=REVOKE_POLICY, PolicyDocument=doc)
        else:
            iam.delete_role_policy(RoleName=params.role_name, PolicyName=REVOKE_POLICY)
        return {}


# ---- permissions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleParams(RoleNamed):
    role_name: str = field(metadata={"doc": "IAM role name or ARN"})


def role_policies(ctx: ActionContext, role_name: str) -> tuple[list[str], dict[str, Any]]:
    """(managed policy ARNs, {inline name: document}) of a role, Parry's own inline policies left out."""
    iam = ctx.client("iam")
    managed = [
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for p in page["AttachedPolicies"]
    ]
    inline: dict[str, Any] = {}
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role_name):
        for name in page["PolicyNames"]:
            if name not in PARRY_POLICIES:
                inline[name] = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
    return sorted(managed), inline


POLICY_READ = ROLE_READ + ("iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy")


@register
class DetachRolePolicies(Action[RoleParams]):
    """Detach every managed policy and delete every inline policy of a role, keeping their documents.

    The before-state holds each inline policy's full document, so `iam.restore_role_policies` puts
    back exactly what was there. Parry's own containment policies stay in place.

    ```yaml
    - id: strip-role
      action: iam.detach_role_policies
      approval: required
      with: {role_name: "${target.role}"}
    ```
    """

    name = "iam.detach_role_policies"
    Params = RoleParams
    mutating = True
    summary = "Detach the managed policies and delete the inline policies of IAM role {role_name}"
    undo = "iam.restore_role_policies"
    permissions = (
        Permission(POLICY_READ + ("iam:DetachRolePolicy", "iam:DeleteRolePolicy"), (ROLE_ARN,)),
        Permission(("iam:DetachRolePolicy",), (POLICY_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: RoleParams) -> Observation:
        arn, tags = role_arn_and_tags(ctx, params.role_name)
        managed, inline = role_policies(ctx, params.role_name)
        state = {"role_name": params.role_name, "managed_policy_arns": managed, "inline_policies": inline}
        return Observation(state=state, arn=arn, tags=tags, done=not managed and not inline)

    def calls(self, ctx: ActionContext, params: RoleParams, seen: Observation) -> list[ApiCall]:
        role, state = params.role_name, seen.state
        return [
            ApiCall("iam:DetachRolePolicy", {"RoleName": role, "PolicyArn": a}) for a in state["managed_policy_arns"]
        ] + [ApiCall("iam:DeleteRolePolicy", {"RoleName": role, "PolicyName": n}) for n in state["inline_policies"]]

    def apply(self, ctx: ActionContext, params: RoleParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        for policy_arn in seen.state["managed_policy_arns"]:
            iam.detach_role_policy(RoleName=params.role_name, PolicyArn=policy_arn)
        for name in seen.state["inline_policies"]:
            iam.delete_role_policy(RoleName=params.role_name, PolicyName=name)
        return {}

    def undo_params(self, params: RoleParams, seen: Observation) -> dict[str, Any]:
        return {
            "role_name": params.role_name,
            "managed_policy_arns": seen.state["managed_policy_arns"],
            "inline_policies": seen.state["inline_policies"],
        }


@dataclass(frozen=True)
class RestorePoliciesParams(RoleNamed):
    role_name: str = field(metadata={"doc": "IAM role name or ARN"})
    managed_policy_arns: list[str] = field(default_factory=list, metadata={"doc": "managed policies to attach"})
    inline_policies: dict[str, Any] = field(default_factory=dict, metadata={"doc": "inline policy name: document"})


@register
class RestoreRolePolicies(Action[RestorePoliciesParams]):
    """Attach the given managed policies and put the given inline policies back on a role.

    ```yaml
    - id: restore-role
      action: iam.restore_role_policies
      with:
        role_name: app-role
        managed_policy_arns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        inline_policies: {}
    ```
    """

    name = "iam.restore_role_policies"
    restores_access = True
    Params = RestorePoliciesParams
    mutating = True
    summary = "Restore the managed and inline policies of IAM role {role_name}"
    no_undo_reason = "it is itself the undo of iam.detach_role_policies"
    permissions = (
        Permission(POLICY_READ + ("iam:AttachRolePolicy", "iam:PutRolePolicy"), (ROLE_ARN,)),
        Permission(("iam:AttachRolePolicy",), (POLICY_ARN,)),
    )

    def _todo(self, state: dict[str, Any], params: RestorePoliciesParams) -> tuple[list[str], list[str]]:
        managed = [a for a in params.managed_policy_arns if a not in state["managed_policy_arns"]]
        inline = [n for n, doc in params.inline_policies.items() if state["inline_policies"].get(n) != doc]
        return managed, inline

    def observe(self, ctx: ActionContext, params: RestorePoliciesParams) -> Observation:
        arn, tags = role_arn_and_tags(ctx, params.role_name)
        managed, inline = role_policies(ctx, params.role_name)
        state = {"role_name": params.role_name, "managed_policy_arns": managed, "inline_policies": inline}
        todo = self._todo(state, params)
        return Observation(state=state, arn=arn, tags=tags, done=not todo[0] and not todo[1])

    def calls(self, ctx: ActionContext, params: RestorePoliciesParams, seen: Observation) -> list[ApiCall]:
        managed, inline = self._todo(seen.state, params)
        role = params.role_name
        return [ApiCall("iam:AttachRolePolicy", {"RoleName": role, "PolicyArn": a}) for a in managed] + [
            ApiCall("iam:PutRolePolicy", {"RoleName": role, "PolicyName": n}) for n in inline
        ]

    def apply(self, ctx: ActionContext, params: RestorePoliciesParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        managed, inline = self._todo(seen.state, params)
        for policy_arn in managed:
            iam.attach_role_policy(RoleName=params.role_name, PolicyArn=policy_arn)
        for name in inline:
            doc = params.inline_policies[name]
            body = doc if isinstance(doc, str) else json.dumps(doc)
            iam.put_role_policy(RoleName=params.role_name, PolicyName=name, PolicyDocument=body)
        return {}
