"""S3 objects: capture a malicious object's metadata (never its content) and quarantine it in place.

Quarantine is a tag on the object version plus one deny statement in the bucket's policy that
refuses reading any object carrying that tag (s3:ExistingObjectTag). Chosen over moving the object
to a quarantine prefix: nothing is copied (no second copy of malware, no new version, the
original keeps its version id, its Object Lock retention and its versioning history), it works
on a locked object that cannot be deleted, and undo is removing one tag. The statement is left in
place on undo: with no object tagged it denies nothing, and another case may still rely on it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.registry import register
from parry.actions.s3 import BUCKET_ARN
from parry.aws.arns import partition
from parry.aws.errors import error_code
from parry.errors import ActionError, ResourceNotFound

OBJECT_ARN = "arn:{partition}:s3:::*/*"
QUARANTINE_TAG = "parry:quarantine"
QUARANTINE_SID = "ParryQuarantineTaggedObjects"
MAX_OBJECT_TAGS = 10  # S3 refuses more tags on one object
TAG_READ = ("s3:GetObjectTagging", "s3:GetObjectVersionTagging")
TAG_WRITE = ("s3:PutObjectTagging", "s3:PutObjectVersionTagging")
# what the statement denies: reading the object or any version of it (HeadObject included)
DENIED_READS = ("s3:GetObject", "s3:GetObjectVersion")


@dataclass(frozen=True)
class ObjectParams(ActionParams):
    bucket: str = field(metadata={"doc": "S3 bucket name"})
    key: str = field(metadata={"doc": "object key"})
    version_id: str | None = field(default=None, metadata={"doc": "object version; none: the current object"})


def _version(params: ObjectParams) -> dict[str, str]:
    return {"VersionId": params.version_id} if params.version_id else {}


def object_arn(ctx: ActionContext, params: ObjectParams) -> str:
    return f"arn:{partition(ctx.region)}:s3:::{params.bucket}/{params.key}"


def object_tags(ctx: ActionContext, params: ObjectParams) -> dict[str, str]:
    """The object version's tags; ResourceNotFound when the bucket, key or version does not exist."""
    s3 = ctx.client("s3")
    try:
        found = s3.get_object_tagging(
            Bucket=params.bucket, Key=params.key, ExpectedBucketOwner=ctx.account, **_version(params)
        )
    except s3.exceptions.ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "NoSuchVersion", "NoSuchBucket", "404"):
            raise ResourceNotFound(f"S3 object s3://{params.bucket}/{params.key} does not exist") from exc
        raise
    return tag_dict(found["TagSet"])


def bucket_policy(ctx: ActionContext, bucket: str) -> dict[str, Any] | None:
    s3 = ctx.client("s3")
    try:
        text = s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=ctx.account)["Policy"]
    except s3.exceptions.ClientError as exc:
        if error_code(exc) == "NoSuchBucketPolicy":
            return None
        raise
    policy: dict[str, Any] = json.loads(text)
    return policy


def quarantine_statement(ctx: ActionContext, bucket: str, readers: list[str]) -> dict[str, Any]:
    """Deny reading any object of `bucket` tagged parry:quarantine, to everyone but `readers` (role ARNs)."""
    condition: dict[str, Any] = {"Null": {f"s3:ExistingObjectTag/{QUARANTINE_TAG}": "false"}}
    if readers:
        condition["ArnNotLike"] = {"aws:PrincipalArn": sorted(readers)}
    return {
        "Sid": QUARANTINE_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": list(DENIED_READS),
        "Resource": f"arn:{partition(ctx.region)}:s3:::{bucket}/*",
        "Condition": condition,
    }


def _statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    statements = (policy or {}).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


@register
class CaptureS3Object(Capture[ObjectParams]):
    """Store an object version's metadata, ETag, SHA-256 checksum and tags as evidence; never its content.

    ```yaml
    - id: capture-object
      action: evidence.capture_s3_object
      with: {bucket: "${target.bucket}", key: "${target.key}", version_id: NpeIP.i5R7OBO0bChPbGTmSsym5UohWS}
    ```
    """

    name = "evidence.capture_s3_object"
    Params = ObjectParams
    summary = "Capture S3 object s3://{bucket}/{key}: metadata, version, ETag, checksum, tags (not its content)"
    artifact_name = "object.json"
    # HeadObject is authorized by s3:GetObject(Version); Parry never calls GetObject
    permissions = (Permission(("s3:GetObject", "s3:GetObjectVersion", *TAG_READ), (OBJECT_ARN,)),)

    def observe(self, ctx: ActionContext, params: ObjectParams) -> Observation:
        tags = object_tags(ctx, params)
        head = ctx.client("s3").head_object(
            Bucket=params.bucket,
            Key=params.key,
            ChecksumMode="ENABLED",  # the stored SHA-256 (or CRC) when the object was uploaded with one
            ExpectedBucketOwner=ctx.account,
            **_version(params),
        )
        head.pop("ResponseMetadata", None)
        head.pop("Body", None)  # HeadObject has none; kept out whatever the SDK returns
        state = {"bucket": params.bucket, "key": params.key, "head": head, "tags": tags}
        return Observation(state=state, arn=object_arn(ctx, params), tags=tags, done=self.stored(ctx))


@dataclass(frozen=True)
class QuarantineParams(ObjectParams):
    readers: list[str] = field(
        default_factory=list,
        metadata={"doc": "role ARNs (wildcards allowed) still allowed to read quarantined objects: forensics"},
    )


@register
class QuarantineObject(Action[QuarantineParams]):
    """Deny every read of one object version: tag it parry:quarantine and deny reading tagged objects in the bucket.

    ```yaml
    - id: quarantine-object
      action: s3.quarantine_object
      with: {bucket: "${target.bucket}", key: "${target.key}", version_id: NpeIP.i5R7OBO0bChPbGTmSsym5UohWS}
    ```
    """

    name = "s3.quarantine_object"
    Params = QuarantineParams
    mutating = True
    summary = "Quarantine S3 object s3://{bucket}/{key}: tag it and deny reading tagged objects"
    undo = "s3.release_object"
    permissions = (
        Permission(TAG_READ + TAG_WRITE, (OBJECT_ARN,)),
        Permission(("s3:GetBucketPolicy", "s3:PutBucketPolicy"), (BUCKET_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: QuarantineParams) -> Observation:
        tags = object_tags(ctx, params)
        policy = bucket_policy(ctx, params.bucket)
        tagged = QUARANTINE_TAG in tags
        in_policy = quarantine_statement(ctx, params.bucket, params.readers) in _statements(policy)
        state = {
            "bucket": params.bucket,
            "key": params.key,
            "version_id": params.version_id,
            "tagged": tagged,
            "statement": in_policy,
            "tags": tags,
        }
        return Observation(state=state, arn=object_arn(ctx, params), tags=tags, done=tagged and in_policy)

    def calls(self, ctx: ActionContext, params: QuarantineParams, seen: Observation) -> list[ApiCall]:
        planned = []
        if not seen.state["statement"]:
            planned.append(ApiCall("s3:PutBucketPolicy", {"Bucket": params.bucket, "Sid": QUARANTINE_SID}))
        if not seen.state["tagged"]:
            tag = {"Key": QUARANTINE_TAG, "Value": ctx.case_id}
            planned.append(ApiCall("s3:PutObjectTagging", {"Bucket": params.bucket, "Key": params.key, "Tag": tag}))
        return planned

    def apply(self, ctx: ActionContext, params: QuarantineParams, seen: Observation) -> dict[str, Any]:
        s3 = ctx.client("s3")
        if not seen.state["statement"]:  # first: the statement denies nothing until the tag is on
            policy = bucket_policy(ctx, params.bucket) or {"Version": "2012-10-17", "Statement": []}
            kept = [s for s in _statements(policy) if s.get("Sid") != QUARANTINE_SID]
            policy["Statement"] = [*kept, quarantine_statement(ctx, params.bucket, params.readers)]
            s3.put_bucket_policy(Bucket=params.bucket, Policy=json.dumps(policy), ExpectedBucketOwner=ctx.account)
        if not seen.state["tagged"]:
            tags = {**object_tags(ctx, params), QUARANTINE_TAG: ctx.case_id}  # PutObjectTagging replaces the set
            if len(tags) > MAX_OBJECT_TAGS:
                raise ActionError(
                    f"s3://{params.bucket}/{params.key} already has {MAX_OBJECT_TAGS} tags: S3 allows no "
                    f"{QUARANTINE_TAG} tag; remove one, or restrict the object by hand"
                )
            s3.put_object_tagging(
                Bucket=params.bucket,
                Key=params.key,
                Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
                ExpectedBucketOwner=ctx.account,
                **_version(params),
            )
        return {"quarantine_tag": QUARANTINE_TAG, "statement_sid": QUARANTINE_SID}

    def unmet(self, ctx: ActionContext, params: QuarantineParams, after: Observation) -> list[str]:
        return [
            *([] if after.state["tagged"] else [f"s3://{params.bucket}/{params.key} is not tagged {QUARANTINE_TAG}"]),
            *([] if after.state["statement"] else [f"bucket {params.bucket} has no {QUARANTINE_SID} statement"]),
        ]

    def undo_params(self, params: QuarantineParams, seen: Observation) -> dict[str, Any]:
        return {"bucket": params.bucket, "key": params.key, "version_id": params.version_id}


@register
class ReleaseObject(Action[ObjectParams]):
    """Let an object be read again: remove its parry:quarantine tag (the undo of `s3.quarantine_object`).

    The bucket's deny statement stays: it denies nothing to an untagged object, and other
    quarantined objects of the bucket still need it.

    ```yaml
    - id: release-object
      action: s3.release_object
      with: {bucket: my-bucket, key: uploads/report.pdf, version_id: NpeIP.i5R7OBO0bChPbGTmSsym5UohWS}
    ```
    """

    name = "s3.release_object"
    restores_access = True
    Params = ObjectParams
    mutating = True
    summary = "Release S3 object s3://{bucket}/{key} from quarantine: remove its parry:quarantine tag"
    no_undo_reason = "it is itself the undo of s3.quarantine_object"
    permissions = (
        Permission(TAG_READ + TAG_WRITE + ("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"), (OBJECT_ARN,)),
    )

    def observe(self, ctx: ActionContext, params: ObjectParams) -> Observation:
        tags = object_tags(ctx, params)
        state = {"bucket": params.bucket, "key": params.key, "version_id": params.version_id, "tags": tags}
        return Observation(state=state, arn=object_arn(ctx, params), tags=tags, done=QUARANTINE_TAG not in tags)

    def calls(self, ctx: ActionContext, params: ObjectParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("s3:PutObjectTagging", {"Bucket": params.bucket, "Key": params.key, "Remove": QUARANTINE_TAG})]

    def apply(self, ctx: ActionContext, params: ObjectParams, seen: Observation) -> dict[str, Any]:
        s3 = ctx.client("s3")
        kept = {k: v for k, v in object_tags(ctx, params).items() if k != QUARANTINE_TAG}
        where = {"Bucket": params.bucket, "Key": params.key, "ExpectedBucketOwner": ctx.account, **_version(params)}
        if kept:
            s3.put_object_tagging(**where, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in kept.items()]})
        else:
            s3.delete_object_tagging(**where)
        return {}
