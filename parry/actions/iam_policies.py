"""One managed policy on one IAM user, role or group: detach it, and attach it back (its undo).

`iam.detach_role_policies` strips a role of everything; these take away exactly the grant an
event names (AdministratorAccess attached by someone who should not have), and leave the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.iam import USER_ARN, USER_READ
from parry.actions.iam_roles import ROLE_ARN, ROLE_READ, role_name_of
from parry.actions.registry import register
from parry.errors import ActionError, ResourceNotFound

GROUP_ARN = "arn:{partition}:iam::{account}:group/*"
KINDS = ("user", "role", "group")
# Per kind: the API's name for the principal (UserName ...), and its List/Detach/Attach operations
API = {
    "user": ("UserName", "ListAttachedUserPolicies", "DetachUserPolicy", "AttachUserPolicy"),
    "role": ("RoleName", "ListAttachedRolePolicies", "DetachRolePolicy", "AttachRolePolicy"),
    "group": ("GroupName", "ListAttachedGroupPolicies", "DetachGroupPolicy", "AttachGroupPolicy"),
}


@dataclass(frozen=True)
class PolicyAttachmentParams(ActionParams):
    kind: str = field(metadata={"doc": "what the policy is attached to: user, role or group"})
    principal_name: str = field(metadata={"doc": "the user, role or group name (a role ARN is accepted)"})
    policy_arn: str = field(
        metadata={"doc": "the managed policy's ARN, e.g. arn:aws:iam::aws:policy/AdministratorAccess"}
    )

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ActionError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.policy_arn.startswith("arn:") or ":policy/" not in self.policy_arn:
            raise ActionError(f"policy_arn must be a managed policy's ARN, not {self.policy_arn[:200]!r}")
        object.__setattr__(self, "principal_name", role_name_of(self.principal_name))


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _principal(ctx: ActionContext, params: PolicyAttachmentParams) -> tuple[str, dict[str, str]]:
    """The principal's ARN and tags (groups have none); ResourceNotFound if it does not exist."""
    iam = ctx.client("iam")
    name = params.principal_name
    try:
        if params.kind == "user":
            user = iam.get_user(UserName=name)["User"]  # with the user's tags (at most 50)
            return user["Arn"], tag_dict(user.get("Tags"))
        if params.kind == "role":
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
            return arn, tag_dict(iam.list_role_tags(RoleName=name).get("Tags"))
        return iam.get_group(GroupName=name, MaxItems=1)["Group"]["Arn"], {}
    except iam.exceptions.NoSuchEntityException as exc:
        raise ResourceNotFound(f"IAM {params.kind} {name} does not exist") from exc


def _attached(ctx: ActionContext, params: PolicyAttachmentParams) -> list[str]:
    key, operation, _, _ = API[params.kind]
    pages = ctx.client("iam").get_paginator(_snake(operation)).paginate(**{key: params.principal_name})
    return sorted(p["PolicyArn"] for page in pages for p in page["AttachedPolicies"])


class _PolicyAttachment(Action[PolicyAttachmentParams]):
    Params = PolicyAttachmentParams
    mutating = True
    attached: bool  # the end state

    def observe(self, ctx: ActionContext, params: PolicyAttachmentParams) -> Observation:
        arn, tags = _principal(ctx, params)
        policies = _attached(ctx, params)
        state = {
            "kind": params.kind,
            "principal_name": params.principal_name,
            "policy_arn": params.policy_arn,
            "attached_policy_arns": policies,
            "attached": params.policy_arn in policies,
        }
        return Observation(state=state, arn=arn, tags=tags, done=state["attached"] == self.attached)

    def _operation(self, params: PolicyAttachmentParams) -> str:
        return API[params.kind][3 if self.attached else 2]

    def calls(self, ctx: ActionContext, params: PolicyAttachmentParams, seen: Observation) -> list[ApiCall]:
        key = API[params.kind][0]
        return [ApiCall(f"iam:{self._operation(params)}", {key: params.principal_name, "PolicyArn": params.policy_arn})]

    def apply(self, ctx: ActionContext, params: PolicyAttachmentParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        call = getattr(iam, _snake(self._operation(params)))
        try:
            call(**{API[params.kind][0]: params.principal_name, "PolicyArn": params.policy_arn})
        except iam.exceptions.NoSuchEntityException as exc:
            raise ResourceNotFound(f"{self.describe(params)}: {exc}") from exc
        return {}

    def unmet(self, ctx: ActionContext, params: PolicyAttachmentParams, after: Observation) -> list[str]:
        if after.done:
            return []
        state = "still attached to" if not self.attached else "not attached to"
        return [f"{params.policy_arn} is {state} IAM {params.kind} {params.principal_name}"]


def _permissions(step: int) -> tuple[Permission, ...]:
    """Reading each kind of principal and its attached policies, and the List plus `step` operation on it."""
    return (
        Permission(USER_READ + ("iam:ListAttachedUserPolicies", f"iam:{API['user'][step]}"), (USER_ARN,)),
        Permission(ROLE_READ + ("iam:ListAttachedRolePolicies", f"iam:{API['role'][step]}"), (ROLE_ARN,)),
        Permission(("iam:GetGroup", "iam:ListAttachedGroupPolicies", f"iam:{API['group'][step]}"), (GROUP_ARN,)),
    )


@register
class DetachPolicy(_PolicyAttachment):
    """Detach one managed policy from an IAM user, role or group; every other grant stays.

    ```yaml
    - id: detach-admin
      action: iam.detach_policy
      with: {kind: role, principal_name: "${target.role}", policy_arn: "arn:aws:iam::aws:policy/AdministratorAccess"}
    ```
    """

    name = "iam.detach_policy"
    summary = "Detach managed policy {policy_arn} from IAM {kind} {principal_name}"
    attached = False
    undo = "iam.attach_policy"
    permissions = _permissions(2)


@register
class AttachPolicy(_PolicyAttachment):
    """Attach a managed policy to an IAM user, role or group again: the undo of `iam.detach_policy`.

    ```yaml
    - id: reattach
      action: iam.attach_policy
      with: {kind: role, principal_name: app-role, policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    ```
    """

    name = "iam.attach_policy"
    restores_access = True
    summary = "Attach managed policy {policy_arn} to IAM {kind} {principal_name}"
    attached = True
    undo = "iam.detach_policy"
    permissions = _permissions(3)
