"""Evidence capture: read a resource's full state and store it in the case's evidence folder.

Capture actions change nothing in the account. Running one again in the same case is a no-op,
because the artifact is already stored (and cannot be overwritten).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, P, Permission
from parry.actions.iam import USER_ARN, UserParams, user_arn_and_tags
from parry.actions.iam_roles import POLICY_READ, ROLE_ARN, RoleParams, role_arn_and_tags
from parry.actions.registry import register
from parry.actions.s3 import BUCKET_ARN, BucketParams, bucket_arn_and_tags, public_access_block
from parry.aws.errors import error_code
from parry.errors import ActionError


def _artifact_stored(ctx: ActionContext, name: str) -> bool:
    return ctx.evidence is not None and ctx.evidence.has(f"artifacts/{ctx.step_id}/{name}")


def _store(
    ctx: ActionContext, name: str, body: dict[str, Any] | bytes, content_type: str = "application/json"
) -> dict[str, Any]:
    if ctx.evidence is None:
        raise ActionError("no evidence store configured for this case")
    return {"artifact": ctx.evidence.artifact(ctx.step_id, name, body, content_type).as_dict()}


class Capture(Action[P]):
    """A capture: observe reads the whole state, apply stores it as one artifact (`artifact_name`)."""

    mutating = False
    no_undo_reason = "captures evidence only; changes nothing"
    artifact_name: str

    def calls(self, ctx: ActionContext, params: P, seen: Observation) -> list[ApiCall]:
        return [ApiCall("s3:PutObject", {"Key": f"artifacts/{ctx.step_id}/{self.artifact_name}"})]

    def apply(self, ctx: ActionContext, params: P, seen: Observation) -> dict[str, Any]:
        return _store(ctx, self.artifact_name, seen.state)

    def stored(self, ctx: ActionContext) -> bool:
        return _artifact_stored(ctx, self.artifact_name)

    def noop_output(self, ctx: ActionContext, params: P, seen: Observation) -> dict[str, Any]:
        """The artifact an earlier run of this step stored (a run interrupted before its checkpoint)."""
        if ctx.evidence is None:
            return {}
        stored = ctx.evidence.store.head(f"{ctx.evidence.prefix}artifacts/{ctx.step_id}/{self.artifact_name}")
        return {"artifact": stored.as_dict()} if stored else {}


@register
class CaptureIamUser(Capture[UserParams]):
    """Store an IAM user's keys, groups, policies, login profile and MFA devices as evidence.

    ```yaml
    - id: capture-user
      action: evidence.capture_iam_user
      with: {user_name: "${target.user}"}
    ```
    """

    name = "evidence.capture_iam_user"
    Params = UserParams
    summary = "Capture IAM user {user_name}: keys, groups, policies, login profile, MFA devices"
    artifact_name = "user.json"
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
        return Observation(state=state, arn=arn, tags=tags, done=self.stored(ctx))

    def apply(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        # the key ids in the output let a later iam.delete_access_key prove the key was captured
        keys = [k["AccessKeyId"] for k in seen.state["access_keys"]]
        return {**_store(ctx, self.artifact_name, seen.state), "user_name": params.user_name, "access_key_ids": keys}

    def noop_output(self, ctx: ActionContext, params: UserParams, seen: Observation) -> dict[str, Any]:
        # the keys of the stored capture, not of the user now: those are what was proven captured
        out = super().noop_output(ctx, params, seen)
        if not out or ctx.evidence is None:
            return out
        captured = json.loads(ctx.evidence.store.get(out["artifact"]["key"]))
        return {
            **out,
            "user_name": params.user_name,
            "access_key_ids": [k["AccessKeyId"] for k in captured["access_keys"]],
        }


@register
class CaptureIamRole(Capture[RoleParams]):
    """Store an IAM role: trust policy, managed and inline policies, instance profiles, last use.

    ```yaml
    - id: capture-role
      action: evidence.capture_iam_role
      with: {role_name: "${target.role}"}
    ```
    """

    name = "evidence.capture_iam_role"
    Params = RoleParams
    summary = "Capture IAM role {role_name}: trust policy, policies, instance profiles, last use"
    artifact_name = "role.json"
    permissions = (Permission(POLICY_READ + ("iam:ListInstanceProfilesForRole",), (ROLE_ARN,)),)

    def observe(self, ctx: ActionContext, params: RoleParams) -> Observation:
        arn, tags = role_arn_and_tags(ctx, params.role_name)
        iam = ctx.client("iam")
        role = iam.get_role(RoleName=params.role_name)["Role"]
        inline = iam.list_role_policies(RoleName=params.role_name)["PolicyNames"]
        state = {
            "role": role,
            "tags": tags,
            "attached_policies": iam.list_attached_role_policies(RoleName=params.role_name)["AttachedPolicies"],
            "inline_policies": {
                n: iam.get_role_policy(RoleName=params.role_name, PolicyName=n)["PolicyDocument"] for n in inline
            },
            "instance_profiles": [
                p["Arn"] for p in iam.list_instance_profiles_for_role(RoleName=params.role_name)["InstanceProfiles"]
            ],
        }
        return Observation(state=state, arn=arn, tags=tags, done=self.stored(ctx))


@register
class CaptureBucket(Capture[BucketParams]):
    """Store what decides who can reach a bucket: its policy, ACL and Block Public Access settings.

    ```yaml
    - id: capture-bucket
      action: evidence.capture_bucket
      with: {bucket: "${target.bucket}"}
    ```
    """

    name = "evidence.capture_bucket"
    Params = BucketParams
    summary = "Capture S3 bucket {bucket}: policy, ACL, Block Public Access, tags"
    artifact_name = "bucket.json"
    permissions = (
        Permission(
            ("s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging"),
            (BUCKET_ARN,),
        ),
    )

    def observe(self, ctx: ActionContext, params: BucketParams) -> Observation:
        arn, tags = bucket_arn_and_tags(ctx, params.bucket)
        s3 = ctx.client("s3")
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=params.bucket)["Policy"])
        except s3.exceptions.ClientError as exc:
            if error_code(exc) != "NoSuchBucketPolicy":
                raise
            policy = None
        acl = s3.get_bucket_acl(Bucket=params.bucket)
        state = {
            "bucket": params.bucket,
            "tags": tags,
            "policy": policy,
            "acl": {"Owner": acl.get("Owner"), "Grants": acl.get("Grants", [])},
            "public_access_block": public_access_block(ctx, params.bucket),
        }
        return Observation(state=state, arn=arn, tags=tags, done=self.stored(ctx))


# ---- CloudTrail history of a principal -----------------------------------------------------------

LOOKUP_KEYS = ("Username", "AccessKeyId", "ResourceName", "EventName")


@dataclass(frozen=True)
class TrailHistoryParams(ActionParams):
    principal: str = field(metadata={"doc": "the value to look up: a user name, role session name or access key id"})
    attribute: str = field(default="Username", metadata={"doc": "Username, AccessKeyId, ResourceName or EventName"})
    hours: int = field(default=24, metadata={"doc": "how far back to look from the end of the window"})
    end_time: str | None = field(
        default=None, metadata={"doc": "end of the window (ISO 8601); default: the event's time, else now"}
    )
    max_events: int = field(
        default=1000, metadata={"doc": "stop after this many events (the artifact says if it stopped)"}
    )


@register
class CaptureCloudTrail(Action[TrailHistoryParams]):
    """Store the principal's recent API activity from CloudTrail's 90-day event history.

    LookupEvents reads this region's management events only and is throttled to two calls a
    second per account: the window and the cap keep a capture short.

    ```yaml
    - id: capture-activity
      action: evidence.capture_cloudtrail
      with: {principal: "${target.key}", attribute: AccessKeyId, hours: 48}
    ```
    """

    name = "evidence.capture_cloudtrail"
    Params = TrailHistoryParams
    mutating = False
    summary = "Capture CloudTrail events where {attribute}={principal} over the last {hours} hours"
    no_undo_reason = "captures evidence only; changes nothing"
    permissions = (Permission(("cloudtrail:LookupEvents",)),)  # no resource-level permissions
    artifact_name = "cloudtrail-events.json"

    def _window(self, ctx: ActionContext, params: TrailHistoryParams) -> tuple[datetime, datetime]:
        end_text = params.end_time or ctx.event.get("time")
        end = datetime.fromisoformat(end_text.replace("Z", "+00:00")) if end_text else datetime.now(UTC)
        return end - timedelta(hours=params.hours), end

    def observe(self, ctx: ActionContext, params: TrailHistoryParams) -> Observation:
        if params.attribute not in LOOKUP_KEYS:
            raise ActionError(f"evidence.capture_cloudtrail: attribute must be one of {', '.join(LOOKUP_KEYS)}")
        start, end = self._window(ctx, params)
        state = {
            "lookup": {params.attribute: params.principal},
            "start": start.isoformat(),
            "end": end.isoformat(),
            "max_events": params.max_events,
        }
        return Observation(state=state, done=_artifact_stored(ctx, self.artifact_name))

    def calls(self, ctx: ActionContext, params: TrailHistoryParams, seen: Observation) -> list[ApiCall]:
        lookup = {"AttributeKey": params.attribute, "AttributeValue": params.principal}
        return [
            ApiCall(
                "cloudtrail:LookupEvents",
                {"LookupAttributes": [lookup], "StartTime": seen.state["start"], "EndTime": seen.state["end"]},
            ),
            ApiCall("s3:PutObject", {"Key": f"artifacts/{ctx.step_id}/{self.artifact_name}"}),
        ]

    def apply(self, ctx: ActionContext, params: TrailHistoryParams, seen: Observation) -> dict[str, Any]:
        start, end = self._window(ctx, params)
        pages = (
            ctx.client("cloudtrail")
            .get_paginator("lookup_events")
            .paginate(
                LookupAttributes=[{"AttributeKey": params.attribute, "AttributeValue": params.principal}],
                StartTime=start,
                EndTime=end,
                PaginationConfig={"PageSize": 50},
            )
        )
        events: list[dict[str, Any]] = []
        truncated = False
        for page in pages:
            for event in page.get("Events", []):
                if len(events) >= params.max_events:
                    truncated = True
                    break
                record = dict(event)
                if isinstance(record.get("CloudTrailEvent"), str):
                    record["CloudTrailEvent"] = json.loads(record["CloudTrailEvent"])
                events.append(record)
            if truncated:
                break
        body = {**seen.state, "truncated": truncated, "events": events}
        return {**_store(ctx, self.artifact_name, body), "events": len(events), "truncated": truncated}
