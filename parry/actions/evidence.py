"""Evidence capture: read a resource's full state and store it in the case's evidence folder.

Capture actions change nothing in the account. Running one again in the same case is a no-op,
because the artifact is already stored (and cannot be overwritten).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.iam import USER_ARN, user_arn_and_tags
from parry.actions.registry import Action, ActionContext, ApiCall, Observation, Permission, register
from parry.errors import ActionError


def _artifact_stored(ctx: ActionContext, name: str) -> bool:
    return ctx.evidence is not None and ctx.evidence.has(f"artifacts/{ctx.step_id}/{name}")


def _store(ctx: ActionContext, name: str, body: dict[str, Any]) -> dict[str, Any]:
    if ctx.evidence is None:
        raise ActionError("no evidence store configured for this case")
    return {"artifact": ctx.evidence.artifact(ctx.step_id, name, body).as_dict()}


@dataclass(frozen=True)
class UserParams:
    user_name: str = field(metadata={"doc": "IAM user to capture"})


@register
class CaptureIamUser(Action):
    """Store an IAM user's keys, groups, policies, login profile and MFA devices as evidence.

    ```yaml
    - id: capture-user
      action: evidence.capture_iam_user
      with: {user_name: "${target.user}"}
    ```
    """

    name = "evidence.capture_iam_user"
    Params = UserParams
    mutating = False
    summary = "Capture IAM user {user_name}: keys, groups, policies, login profile, MFA devices"
    no_undo_reason = "captures evidence only; changes nothing"
    permissions = (
        Permission(
            (
                "iam:GetUser",
                "iam:ListUserTags",
                "iam:ListAccessKeys",
                "iam:ListGroupsForUser",
                "iam:ListAttachedUserPolicies",
                "iam:ListUserPolicies",
                "iam:GetUserPolicy",
                "iam:GetLoginProfile",
                "iam:ListMFADevices",
            ),
            (USER_ARN,),
        ),
    )

    def observe(self, ctx: ActionContext, params: UserParams) -> Observation:
        arn, tags = user_arn_and_tags(ctx, params.user_name)
        iam = ctx.client("iam")
        user = params.user_name
        try:
            login = iam.get_login_profile(UserName=user)["LoginProfile"]
        except iam.exceptions.NoSuchEntityException:
            login = None
        inline = iam.list_user_policies(UserName=user)["PolicyNames"]
        state = {
            "arn": arn,
            "tags": tags,
            "access_keys": iam.list_access_keys(UserName=user)["AccessKeyMetadata"],
            "groups": [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]],
            "attached_policies": iam.list_attached_user_policies(UserName=user)["AttachedPolicies"],
            "inline_policies": {
                name: iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"] for name in inline
            },
            "login_profile": login,
            "mfa_devices": iam.list_mfa_devices(UserName=user)["MFADevices"],
        }
        return Observation(state=state, arn=arn, tags=tags, done=_artifact_stored(ctx, "user.json"))

    def calls(self, ctx: ActionContext, params: UserParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("s3:PutObject", {"Key": f"artifacts/{ctx.step_id}/user.json"})]

    def apply(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        # the key ids in the output let a later iam.delete_access_key prove the key was captured
        keys = [k["AccessKeyId"] for k in seen.state["access_keys"]]
        return {**_store(ctx, "user.json", seen.state), "user_name": params.user_name, "access_key_ids": keys}
