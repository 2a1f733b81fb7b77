"""S3 containment: close a bucket to the public with its own Block Public Access settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.aws.arns import partition
from parry.aws.errors import error_code
from parry.errors import ResourceNotFound

BUCKET_ARN = "arn:{partition}:s3:::*"
ALL_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
READ = ("s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging")


def bucket_arn_and_tags(ctx: ActionContext, bucket: str) -> tuple[str, dict[str, str]]:
    """The bucket's ARN and tags; ResourceNotFound when there is no such bucket."""
    s3 = ctx.client("s3")
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except s3.exceptions.ClientError as exc:
        code = error_code(exc)
        if code in ("NoSuchBucket", "404"):
            raise ResourceNotFound(f"S3 bucket {bucket} does not exist") from exc
        if code != "NoSuchTagSet":
            raise
        tags = []
    return f"arn:{partition(ctx.region)}:s3:::{bucket}", tag_dict(tags)


def public_access_block(ctx: ActionContext, bucket: str) -> dict[str, bool] | None:
    """The bucket's own Block Public Access configuration, or None when it has none."""
    s3 = ctx.client("s3")
    try:
        return s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except s3.exceptions.ClientError as exc:
        if error_code(exc) == "NoSuchPublicAccessBlockConfiguration":
            return None
        raise


def _observe(ctx: ActionContext, bucket: str) -> Observation:
    arn, tags = bucket_arn_and_tags(ctx, bucket)
    return Observation(
        state={"bucket": bucket, "public_access_block": public_access_block(ctx, bucket)}, arn=arn, tags=tags
    )


@dataclass(frozen=True)
class BucketParams(ActionParams):
    bucket: str = field(metadata={"doc": "S3 bucket name"})


@register
class BlockPublicAccess(Action[BucketParams]):
    """Turn on all four Block Public Access settings of one bucket: no public ACL or policy works.

    ```yaml
    - id: block-public
      action: s3.block_public_access
      with: {bucket: "${target.bucket}"}
    ```
    """

    name = "s3.block_public_access"
    Params = BucketParams
    mutating = True
    summary = "Block all public access to S3 bucket {bucket}"
    undo = "s3.restore_public_access_block"
    permissions = (Permission(READ + ("s3:PutBucketPublicAccessBlock",), (BUCKET_ARN,)),)

    def observe(self, ctx: ActionContext, params: BucketParams) -> Observation:
        seen = _observe(ctx, params.bucket)
        seen.done = seen.state["public_access_block"] == ALL_BLOCKED
        return seen

    def calls(self, ctx: ActionContext, params: BucketParams, seen: Observation) -> list[ApiCall]:
        return [
            ApiCall("s3:PutPublicAccessBlock", {"Bucket": params.bucket, "PublicAccessBlockConfiguration": ALL_BLOCKED})
        ]

    def apply(self, ctx: ActionContext, params: BucketParams, seen: Observation) -> dict[str, Any]:
        ctx.client("s3").put_public_access_block(Bucket=params.bucket, PublicAccessBlockConfiguration=ALL_BLOCKED)
        return {}

    def undo_params(self, params: BucketParams, seen: Observation) -> dict[str, Any]:
        return {"bucket": params.bucket, "configuration": seen.state["public_access_block"]}


@dataclass(frozen=True)
class RestoreParams(ActionParams):
    bucket: str = field(metadata={"doc": "S3 bucket name"})
    configuration: dict[str, Any] | None = field(
        default=None, metadata={"doc": "the previous PublicAccessBlockConfiguration; none: delete the bucket's own"}
    )


@register
class RestorePublicAccessBlock(Action[RestoreParams]):
    """Put a bucket's Block Public Access settings back as they were: the undo of `s3.block_public_access`.

    ```yaml
    - id: restore-bucket
      action: s3.restore_public_access_block
      with:
        bucket: my-bucket
        configuration: {BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false}
    ```
    """

    name = "s3.restore_public_access_block"
    restores_access = True
    Params = RestoreParams
    mutating = True
    summary = "Restore the Block Public Access settings of S3 bucket {bucket}"
    no_undo_reason = "it is itself the undo of s3.block_public_access"
    permissions = (Permission(READ + ("s3:PutBucketPublicAccessBlock",), (BUCKET_ARN,)),)

    def observe(self, ctx: ActionContext, params: RestoreParams) -> Observation:
        seen = _observe(ctx, params.bucket)
        seen.done = seen.state["public_access_block"] == params.configuration
        return seen

    def calls(self, ctx: ActionContext, params: RestoreParams, seen: Observation) -> list[ApiCall]:
        if params.configuration is None:
            return [ApiCall("s3:DeletePublicAccessBlock", {"Bucket": params.bucket})]
        config = {"Bucket": params.bucket, "PublicAccessBlockConfiguration": params.configuration}
        return [ApiCall("s3:PutPublicAccessBlock", config)]

    def apply(self, ctx: ActionContext, params: RestoreParams, seen: Observation) -> dict[str, Any]:
        s3 = ctx.client("s3")
        if params.configuration is None:
            s3.delete_public_access_block(Bucket=params.bucket)
        else:
            s3.put_public_access_block(Bucket=params.bucket, PublicAccessBlockConfiguration=params.configuration)
        return {}
