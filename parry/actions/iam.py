"""IAM user and access-key containment (role actions live in `iam_roles`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import deny_all, tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ActionError, ResourceNotFound

USER_ARN = "arn:{partition}:iam::{account}:user/*"
USER_READ = ("iam:GetUser",)  # GetUser answers with the user's tags too


def user_arn_and_tags(ctx: ActionContext, user_name: str) -> tuple[str, dict[str, str]]:
    """The user's ARN and tags; ResourceNotFound if the user does not exist.

    One GetUser (AWS answers with the user's tags; there are at most 50, so no ListUserTags), read once
    per case and invocation (`ctx.reads`): no Parry action changes a user's name, path or
    tags, so the protection check and the post-condition of a later step need not ask again.
    """
    key = ("iam:user", ctx.account, user_name)
    if key not in ctx.reads:
        iam = ctx.client("iam")
        try:
            user = iam.get_user(UserName=user_name)["User"]
        except iam.exceptions.NoSuchEntityException as exc:
            raise ResourceNotFound(f"IAM user {user_name} does not exist") from exc
        ctx.reads[key] = (user["Arn"], tag_dict(user.get("Tags")))
    arn, tags = ctx.reads[key]
    return arn, dict(tags)


def access_key_status(ctx: ActionContext, user_name: str, access_key_id: str) -> str:
    keys = ctx.client("iam").list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    for key in keys:
        if key["AccessKeyId"] == access_key_id:
            return key["Status"]
    raise ResourceNotFound(f"access key {access_key_id} of IAM user {user_name} does not exist")


@dataclass(frozen=True)
class AccessKeyParams(ActionParams):
    user_name: str = field(metadata={"doc": "IAM user that owns the key"})
    access_key_id: str = field(metadata={"doc": "the access key id (AKIA...)"})


class _SetAccessKeyStatus(Action[AccessKeyParams]):
    Params = AccessKeyParams
    mutating = True
    target_status: str

    def observe(self, ctx: ActionContext, params: AccessKeyParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        status = access_key_status(ctx, params.user_name, params.access_key_id)
        return Observation(
            state={"user_name": params.user_name, "access_key_id": params.access_key_id, "status": status},
            arn=arn,
            tags=tags,
            done=status == self.target_status,
        )

    def calls(self, ctx: ActionContext, params: AccessKeyParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall(
                "iam:UpdateAccessKey",
                {"UserName": params.user_name, "AccessKeyId": params.access_key_id, "Status": self.target_status},
            )
        ]

    def apply(self, ctx: ActionContext, params: AccessKeyParams, seen: Observation) -> dict[str, Any]:
        ctx.client("iam").update_access_key(
            UserName=params.user_name, AccessKeyId=params.access_key_id, Status=self.target_status
        )
        return {}


@register
class DeactivateAccessKey(_SetAccessKeyStatus):
    """Make an access key Inactive: every request signed with it fails from now on.

    ```yaml
    - id: deactivate-key
      action: iam.deactivate_access_key
      with: {user_name: "${target.user}", access_key_id: "${target.key}"}
    ```
    """

    name = "iam.deactivate_access_key"
    summary = "Deactivate access key {access_key_id} of IAM user {user_name}"
    target_status = "Inactive"
    undo = "iam.activate_access_key"
    permissions = (Permission(USER_READ + ("iam:ListAccessKeys", "iam:UpdateAccessKey"), (USER_ARN,)),)


@register
class ActivateAccessKey(_SetAccessKeyStatus):
    """Make an access key Active again: the undo of `iam.deactivate_access_key`.

    ```yaml
    - id: reactivate-key
      action: iam.activate_access_key
      with: {user_name: alice, access_key_id: AKIAEXAMPLE}
    ```
    """

    name = "iam.activate_access_key"
    restores_access = True
    summary = "Reactivate access key {access_key_id} of IAM user {user_name}"
    target_status = "Active"
    undo = "iam.deactivate_access_key"
    permissions = DeactivateAccessKey.permissions


# ---- deleting a key, only once it is captured ----------------------------------------------------

CAPTURE_USER_ACTION = "evidence.capture_iam_user"


def key_captured(ctx: ActionContext, user_name: str, access_key_id: str) -> bool:
    """True when an earlier step of this case captured `user_name` with this key among its keys."""
    for result in ctx.prior.values():
        if result.get("action") != CAPTURE_USER_ACTION or result.get("status") not in ("succeeded", "noop"):
            continue
        output = result.get("output") or {}
        if output.get("user_name") == user_name and access_key_id in output.get("access_key_ids", ()):
            return True
    return False


@register
class DeleteAccessKey(Action[AccessKeyParams]):
    """Delete an access key for good. Refused unless the user was captured earlier in the case.

    Deactivating is the containment; deleting is for when the key must never come back. Because a
    deleted key is gone, the step is refused unless an earlier `evidence.capture_iam_user` step of
    the same case captured the user with this key.

    ```yaml
    - id: delete-key
      action: iam.delete_access_key
      approval: required
      with: {user_name: "${target.user}", access_key_id: "${target.key}"}
    ```
    """

    name = "iam.delete_access_key"
    Params = AccessKeyParams
    mutating = True
    summary = "Delete access key {access_key_id} of IAM user {user_name}"
    no_undo_reason = "a deleted access key cannot be restored; the user needs a new key"
    permissions = (Permission(USER_READ + ("iam:ListAccessKeys", "iam:DeleteAccessKey"), (USER_ARN,)),)

    def observe(self, ctx: ActionContext, params: AccessKeyParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        try:
            status: str | None = access_key_status(ctx, params.user_name, params.access_key_id)
        except ResourceNotFound:
            status = None
        state = {"user_name": params.user_name, "access_key_id": params.access_key_id, "status": status}
        return Observation(state=state, arn=arn, tags=tags, done=status is None)

    def calls(self, ctx: ActionContext, params: AccessKeyParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("iam:DeleteAccessKey", {"UserName": params.user_name, "AccessKeyId": params.access_key_id})]

    def apply(self, ctx: ActionContext, params: AccessKeyParams, seen: Observation) -> dict[str, Any]:
        if not key_captured(ctx, params.user_name, params.access_key_id):
            raise ActionError(
                f"refusing to delete access key {params.access_key_id}: no earlier step of this case "
                f"captured IAM user {params.user_name} with it ({CAPTURE_USER_ACTION})"
            )
        ctx.client("iam").delete_access_key(UserName=params.user_name, AccessKeyId=params.access_key_id)
        return {}


# ---- quarantine: an explicit deny of everything --------------------------------------------------

QUARANTINE_POLICY = "parry-quarantine"


@dataclass(frozen=True)
class UserParams(ActionParams):
    user_name: str = field(metadata={"doc": "IAM user name"})


class _UserQuarantine(Action[UserParams]):
    Params = UserParams
    mutating = True
    quarantined: bool  # the end state

    def observe(self, ctx: ActionContext, params: UserParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        names = ctx.client("iam").list_user_policies(UserName=params.user_name)["PolicyNames"]
        present = QUARANTINE_POLICY in names
        return Observation(
            state={"user_name": params.user_name, "inline_policies": names, "quarantined": present},
            arn=arn,
            tags=tags,
            done=present == self.quarantined,
        )

    def calls(self, ctx: ActionContext, params: UserParams, seen: Observation) -> list[ApiCall]:
        op = "iam:PutUserPolicy" if self.quarantined else "iam:DeleteUserPolicy"
        return [ApiCall(op, {"UserName": params.user_name, "PolicyName": QUARANTINE_POLICY})]

    def apply(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        if self.quarantined:
            doc = json.dumps(deny_all())
            iam.put_user_policy(UserName=params.user_name, PolicyName=QUARANTINE_POLICY, PolicyDocument=doc)
        else:
            iam.delete_user_policy(UserName=params.user_name, PolicyName=QUARANTINE_POLICY)
        return {}


@register
class QuarantineUser(_UserQuarantine):
    """Attach an inline policy that explicitly denies every action: it overrides every Allow.

    The user keeps its keys, groups and policies (evidence, and a clean undo); nothing it signs
    succeeds any more, including sessions it already holds.

    ```yaml
    - id: quarantine-user
      action: iam.quarantine_user
      with: {user_name: "${target.user}"}
    ```
    """

    name = "iam.quarantine_user"
    summary = f"Attach the deny-all inline policy {QUARANTINE_POLICY} to IAM user {{user_name}}"
    quarantined = True
    undo = "iam.unquarantine_user"
    permissions = (Permission(USER_READ + ("iam:ListUserPolicies", "iam:PutUserPolicy"), (USER_ARN,)),)


@register
class UnquarantineUser(_UserQuarantine):
    """Remove Parry's deny-all inline policy: the undo of `iam.quarantine_user`.

    ```yaml
    - id: release-user
      action: iam.unquarantine_user
      with: {user_name: alice}
    ```
    """

    name = "iam.unquarantine_user"
    restores_access = True
    summary = f"Remove the inline policy {QUARANTINE_POLICY} from IAM user {{user_name}}"
    quarantined = False
    undo = "iam.quarantine_user"
    permissions = (Permission(USER_READ + ("iam:ListUserPolicies", "iam:DeleteUserPolicy"), (USER_ARN,)),)


# ---- console password ----------------------------------------------------------------------------


@register
class DeleteLoginProfile(Action[UserParams]):
    """Delete the user's console password, so nobody can sign in to the console as it.

    ```yaml
    - id: remove-console-access
      action: iam.delete_login_profile
      with: {user_name: "${target.user}"}
    ```
    """

    name = "iam.delete_login_profile"
    Params = UserParams
    mutating = True
    summary = "Delete the console password (login profile) of IAM user {user_name}"
    no_undo_reason = (
        "a password cannot be read back, so it cannot be restored: the before-state records that one "
        "existed; an administrator sets a new one (iam create-login-profile) if the user needs it"
    )
    permissions = (Permission(USER_READ + ("iam:GetLoginProfile", "iam:DeleteLoginProfile"), (USER_ARN,)),)

    def observe(self, ctx: ActionContext, params: UserParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        iam = ctx.client("iam")
        try:
            profile = iam.get_login_profile(UserName=params.user_name)["LoginProfile"]
        except iam.exceptions.NoSuchEntityException:
            profile = None
        state = {
            "user_name": params.user_name,
            "login_profile": profile is not None,
            "created": str(profile["CreateDate"]) if profile else None,
            "password_reset_required": bool(profile and profile.get("PasswordResetRequired")),
        }
        return Observation(state=state, arn=arn, tags=tags, done=profile is None)

    def calls(self, ctx: ActionContext, params: UserParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("iam:DeleteLoginProfile", {"UserName": params.user_name})]

    def apply(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        ctx.client("iam").delete_login_profile(UserName=params.user_name)
        return {}


# ---- group membership ----------------------------------------------------------------------------

GROUP_ARN = "arn:{partition}:iam::{account}:group/*"


@dataclass(frozen=True)
class GroupsParams(ActionParams):
    user_name: str = field(metadata={"doc": "IAM user name"})
    groups: list[str] = field(metadata={"doc": "group names to add the user back to"})


def user_groups(ctx: ActionContext, user_name: str) -> list[str]:
    pages = ctx.client("iam").get_paginator("list_groups_for_user").paginate(UserName=user_name)
    return sorted(g["GroupName"] for page in pages for g in page["Groups"])


@register
class RemoveUserFromGroups(Action[UserParams]):
    """Take the user out of every IAM group, so no group policy grants it anything.

    ```yaml
    - id: remove-groups
      action: iam.remove_user_from_groups
      with: {user_name: "${target.user}"}
    ```
    """

    name = "iam.remove_user_from_groups"
    Params = UserParams
    mutating = True
    summary = "Remove IAM user {user_name} from all of its groups"
    undo = "iam.add_user_to_groups"
    permissions = (
        Permission(USER_READ + ("iam:ListGroupsForUser",), (USER_ARN,)),
        Permission(("iam:RemoveUserFromGroup",), (GROUP_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: UserParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        groups = user_groups(ctx, params.user_name)
        return Observation(state={"user_name": params.user_name, "groups": groups}, arn=arn, tags=tags, done=not groups)

    def calls(self, ctx: ActionContext, params: UserParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall("iam:RemoveUserFromGroup", {"GroupName": g, "UserName": params.user_name})
            for g in seen.state["groups"]
        ]

    def apply(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        for group in seen.state["groups"]:
            ctx.client("iam").remove_user_from_group(GroupName=group, UserName=params.user_name)
        return {"removed_from": seen.state["groups"]}

    def undo_params(self, params: UserParams, seen: Observation) -> dict[str, Any]:
        return {"user_name": params.user_name, "groups": seen.state["groups"]}


@register
class AddUserToGroups(Action[GroupsParams]):
    """Add the user back to the given groups: the undo of `iam.remove_user_from_groups`.

    ```yaml
    - id: restore-groups
      action: iam.add_user_to_groups
      with: {user_name: alice, groups: [developers, readers]}
    ```
    """

    name = "iam.add_user_to_groups"
    restores_access = True
    Params = GroupsParams
    mutating = True
    summary = "Add IAM user {user_name} to groups {groups}"
    no_undo_reason = "it is itself the undo of iam.remove_user_from_groups"
    permissions = (
        Permission(USER_READ + ("iam:ListGroupsForUser",), (USER_ARN,)),
        Permission(("iam:AddUserToGroup",), (GROUP_ARN,)),
    )

    def _missing(self, current: list[str], params: GroupsParams) -> list[str]:
        return [g for g in params.groups if g not in current]

    def observe(self, ctx: ActionContext, params: GroupsParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        groups = user_groups(ctx, params.user_name)
        state = {"user_name": params.user_name, "groups": groups}
        return Observation(state=state, arn=arn, tags=tags, done=not self._missing(groups, params))

    def calls(self, ctx: ActionContext, params: GroupsParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall("iam:AddUserToGroup", {"GroupName": g, "UserName": params.user_name})
            for g in self._missing(seen.state["groups"], params)
        ]

    def apply(self, ctx: ActionContext, params: GroupsParams, seen: Observation) -> dict[str, Any]:
        iam = ctx.client("iam")
        for group in self._missing(seen.state["groups"], params):
            try:
                iam.add_user_to_group(GroupName=group, UserName=params.user_name)
            except iam.exceptions.NoSuchEntityException as exc:
                raise ResourceNotFound(f"IAM group {group} does not exist (any more)") from exc
        return {}
