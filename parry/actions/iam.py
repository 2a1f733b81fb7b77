"""IAM user and access-key containment."""

from __future__ import annotations

from dataclasses import dataclass, field

from parry.actions.registry import Action, ActionContext, ApiCall, Observation, Permission, register
from parry.errors import ResourceNotFound

USER_ARN = "arn:{partition}:iam::{account}:user/*"


def user_arn_and_tags(ctx: ActionContext, user_name: str) -> tuple[str, dict[str, str]]:
    """The user's ARN and tags; ResourceNotFound if the user does not exist."""
    iam = ctx.client("iam")
    try:
        user = iam.get_user(UserName=user_name)["User"]
    except iam.exceptions.NoSuchEntityException as exc:
        raise ResourceNotFound(f"IAM user {user_name} does not exist") from exc
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user_name).get("Tags", [])}
    return user["Arn"], tags


def access_key_status(ctx: ActionContext, user_name: str, access_key_id: str) -> str:
    keys = ctx.client("iam").list_access_keys(UserName=user_name)["AccessKeyMetadata"]
    for key in keys:
        if key["AccessKeyId"] == access_key_id:
            return key["Status"]
    raise ResourceNotFound(f"access key {access_key_id} of IAM user {user_name} does not exist")


@dataclass(frozen=True)
class AccessKeyParams:
    user_name: str = field(metadata={"doc": "IAM user that owns the key"})
    access_key_id: str = field(metadata={"doc": "the access key id (AKIA...)"})


class _SetAccessKeyStatus(Action):
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

    def apply(self, ctx: ActionContext, params: AccessKeyParams, seen: Observation) -> dict:
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
    permissions = (
        Permission(("iam:GetUser", "iam:ListUserTags", "iam:ListAccessKeys", "iam:UpdateAccessKey"), (USER_ARN,)),
    )


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
    summary = "Reactivate access key {access_key_id} of IAM user {user_name}"
    target_status = "Active"
    undo = "iam.deactivate_access_key"
    permissions = DeactivateAccessKey.permissions
