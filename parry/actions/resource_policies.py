"""Resource policies: capture one, remove the statements that grant a finding's access, put it back on undo.

IAM Access Analyzer names a resource, the principal outside the zone of trust that can reach it
and the actions it can take. One adapter per service reads and writes that resource's policy:
S3 bucket policies, Lambda function policies (by statement id), KMS key policies, SQS queue and
SNS topic `Policy` attributes, Secrets Manager resource policies; an IAM role's trust policy is
read only. Removal is conservative: only an Allow statement whose principals are all the
finding's and whose actions cover one of the finding's goes; a statement that also grants others,
or uses NotPrincipal or NotAction, is left as it is and named (the step is then not contained), so
nothing a responder did not see is rewritten and nothing is ever widened.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any

from parry.actions._common import tag_dict
from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.evidence import Capture
from parry.actions.lambda_ import add_permission_args
from parry.actions.registry import register
from parry.actions.s3 import bucket_arn_and_tags
from parry.aws.errors import error_code
from parry.errors import ActionError, ResourceNotFound

ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12})?:(?P<rest>.+)"
)
ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")
# (IAM actions to read the policy and the tags, IAM actions to write it, the resources they act on)
SERVICES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "s3": (
        ("s3:GetBucketPolicy", "s3:GetBucketTagging"),
        ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"),
        "arn:{partition}:s3:::*",
    ),
    "lambda": (
        ("lambda:GetFunction", "lambda:GetPolicy"),
        ("lambda:RemovePermission", "lambda:AddPermission"),
        "arn:{partition}:lambda:{region}:{account}:function:*",
    ),
    "kms": (
        ("kms:GetKeyPolicy", "kms:ListResourceTags"),
        ("kms:PutKeyPolicy",),
        "arn:{partition}:kms:{region}:{account}:key/*",
    ),
    "sqs": (
        ("sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        ("sqs:SetQueueAttributes",),
        "arn:{partition}:sqs:{region}:{account}:*",
    ),
    "sns": (
        ("sns:GetTopicAttributes", "sns:ListTagsForResource"),
        ("sns:SetTopicAttributes",),
        "arn:{partition}:sns:{region}:{account}:*",
    ),
    "secretsmanager": (
        ("secretsmanager:GetResourcePolicy", "secretsmanager:DescribeSecret"),
        ("secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"),
        "arn:{partition}:secretsmanager:{region}:{account}:secret:*",
    ),
}
# each service's error code for a resource that does not exist
GONE = {"NoSuchBucket", "ResourceNotFoundException", "NotFoundException", "NotFound", "NoSuchEntity"} | {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}
TRUST_POLICY_READ = Permission(("iam:GetRole",), ("arn:{partition}:iam::{account}:role/*",))


def _permissions(write: bool) -> tuple[Permission, ...]:
    return tuple(Permission(read + (changes if write else ()), (arn,)) for read, changes, arn in SERVICES.values())


@dataclass
class Held:
    """A resource's policy as its service holds it: the document, the exact text, the resource's tags."""

    policy: dict[str, Any] | None
    text: str | None
    tags: dict[str, str]


def _parsed(arn: str, ctx: ActionContext) -> re.Match[str]:
    found = ARN.fullmatch(arn)
    if found is None or found["service"] not in (*SERVICES, "iam"):
        raise ActionError(
            f"{arn[:300]} is not the ARN of an S3 bucket, Lambda function, KMS key, SQS queue, "
            "SNS topic, Secrets Manager secret or IAM role"
        )
    if found["region"] and found["region"] != ctx.region:
        raise ActionError(f"{arn} is in {found['region']}, not in this case's region {ctx.region}")
    if found["account"] and found["account"] != ctx.account:
        raise ActionError(f"{arn} is in account {found['account']}, not in this case's account {ctx.account}")
    return found


def _parsed_service(arn: str) -> str:
    found = ARN.fullmatch(arn)
    return found["service"] if found else ""


def _document(text: str | None) -> dict[str, Any] | None:
    return json.loads(text) if text else None


def read_policy(ctx: ActionContext, arn: str) -> Held:
    """The resource's policy (None when it has none) and tags; ResourceNotFound when the resource is gone."""
    found = _parsed(arn, ctx)
    service, rest = found["service"], found["rest"]
    client = ctx.client(service)
    try:
        if service == "s3":
            _, tags = bucket_arn_and_tags(ctx, rest)
            try:
                text = client.get_bucket_policy(Bucket=rest)["Policy"]
            except client.exceptions.ClientError as exc:
                if error_code(exc) != "NoSuchBucketPolicy":
                    raise
                text = None
        elif service == "lambda":
            tags = client.get_function(FunctionName=arn).get("Tags") or {}
            try:
                text = client.get_policy(FunctionName=arn)["Policy"]
            except client.exceptions.ResourceNotFoundException:
                text = None
        elif service == "kms":
            text = client.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
            tags = tag_dict(client.list_resource_tags(KeyId=arn).get("Tags"), "TagKey", "TagValue")
        elif service == "sqs":
            url = _queue_url(ctx, found)
            text = (
                client.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"]).get("Attributes", {}).get("Policy")
            )
            tags = client.list_queue_tags(QueueUrl=url).get("Tags") or {}
        elif service == "sns":
            text = client.get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy")
            tags = tag_dict(client.list_tags_for_resource(ResourceArn=arn).get("Tags"))
        elif service == "secretsmanager":
            text = client.get_resource_policy(SecretId=arn).get("ResourcePolicy")
            tags = tag_dict(client.describe_secret(SecretId=arn).get("Tags"))
        else:
            role = client.get_role(RoleName=rest.rsplit("/", 1)[-1])["Role"]
            document = role["AssumeRolePolicyDocument"]
            text = document if isinstance(document, str) else json.dumps(document)
            tags = tag_dict(role.get("Tags"))
    except client.exceptions.ClientError as exc:
        if error_code(exc) in GONE:
            raise ResourceNotFound(f"{arn} does not exist") from exc
        raise
    return Held(_document(text), text or None, tags)


def _queue_url(ctx: ActionContext, found: re.Match[str]) -> str:
    return str(
        ctx.client("sqs").get_queue_url(QueueName=found["rest"], QueueOwnerAWSAccountId=found["account"])["QueueUrl"]
    )


def write_policy(ctx: ActionContext, arn: str, text: str | None, held: Held) -> list[ApiCall]:
    """Make the resource's policy the JSON `text` (None: no policy) from `held`; the calls it made."""
    calls = policy_calls(ctx, arn, text, held)
    client = ctx.client(_parsed(arn, ctx)["service"])
    for call in calls:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", call.operation.split(":", 1)[1]).lower()
        params = dict(call.params)
        if call.operation == "sqs:SetQueueAttributes":
            params["QueueUrl"] = _queue_url(ctx, _parsed(arn, ctx))
        getattr(client, method)(**params)
    return calls


def policy_calls(ctx: ActionContext, arn: str, text: str | None, held: Held) -> list[ApiCall]:
    """The API calls that turn the `held` policy into the JSON `text` (None: no policy), written as
    it is so an undo puts back the exact text: what the plan shows and apply makes."""
    found = _parsed(arn, ctx)
    service, rest = found["service"], found["rest"]
    wanted = _document(text)
    if service == "s3":
        return (
            [ApiCall("s3:PutBucketPolicy", {"Bucket": rest, "Policy": text})]
            if text
            else [ApiCall("s3:DeleteBucketPolicy", {"Bucket": rest})]
        )
    if service == "lambda":
        keep = {s.get("Sid"): s for s in statements(wanted)}
        have = {s.get("Sid"): s for s in statements(held.policy)}
        removed = [
            ApiCall("lambda:RemovePermission", {"FunctionName": arn, "StatementId": sid})
            for sid in have
            if sid not in keep or keep[sid] != have[sid]
        ]
        added = [
            ApiCall("lambda:AddPermission", add_permission_args(s, arn))
            for sid, s in keep.items()
            if sid not in have or have[sid] != s
        ]
        return removed + added
    if service == "kms":
        return [ApiCall("kms:PutKeyPolicy", {"KeyId": arn, "PolicyName": "default", "Policy": text})]
    if service == "sqs":
        return [ApiCall("sqs:SetQueueAttributes", {"Attributes": {"Policy": text or ""}})]
    if service == "sns":
        return [ApiCall("sns:SetTopicAttributes", {"TopicArn": arn, "AttributeName": "Policy", "AttributeValue": text})]
    if service == "secretsmanager":
        return (
            [ApiCall("secretsmanager:PutResourcePolicy", {"SecretId": arn, "ResourcePolicy": text})]
            if text
            else [ApiCall("secretsmanager:DeleteResourcePolicy", {"SecretId": arn})]
        )
    raise ActionError(f"{arn}: Parry does not change IAM role trust policies; it captures them and notifies")


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    found = (policy or {}).get("Statement") or []
    return [found] if isinstance(found, dict) else list(found)


def principals(value: Any) -> set[tuple[str, str]]:
    """A Principal block as (kind, who) pairs; an account's root ARN and its id are the same principal."""
    if value == "*":
        return {("AWS", "*")}
    pairs = value.items() if isinstance(value, dict) else [("AWS", value)]
    found = set()
    for kind, who in pairs:
        for each in who if isinstance(who, list) else [who]:
            root = ACCOUNT_ROOT.fullmatch(str(each))
            found.add((str(kind), root.group(1) if root and kind == "AWS" else str(each)))
    return found


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value else []


def grants(statement: dict[str, Any], who: set[tuple[str, str]], actions: list[str]) -> str | None:
    """Whether `statement` grants principals `who` one of `actions`: "only" (to them alone), "shared"
    (to others as well, or through NotPrincipal/NotAction), or None."""
    if statement.get("Effect") != "Allow":
        return None
    if "NotPrincipal" in statement or "NotAction" in statement:
        return "shared"
    covered = any(fnmatch.fnmatchcase(a.lower(), p.lower()) for p in _listed(statement.get("Action")) for a in actions)
    theirs = principals(statement.get("Principal"))
    if not covered or not (theirs & who or ("AWS", "*") in theirs):  # "*" grants the finding's principal too
        return None
    return "only" if theirs <= who else "shared"


@dataclass(frozen=True)
class ResourceParams(ActionParams):
    resource_arn: str = field(
        metadata={
            "doc": "the resource's ARN (S3 bucket, Lambda function, KMS key, SQS queue, SNS topic, secret, IAM role)"
        }
    )


@register
class CaptureResourcePolicy(Capture[ResourceParams]):
    """Store a resource's policy (or an IAM role's trust policy) exactly as its service holds it.

    ```yaml
    - id: capture-policy
      action: evidence.capture_resource_policy
      with: {resource_arn: "arn:aws:s3:::my-bucket"}
    ```
    """

    name = "evidence.capture_resource_policy"
    Params = ResourceParams
    summary = "Capture the resource policy of {resource_arn}"
    artifact_name = "resource-policy.json"
    permissions = (*_permissions(write=False), TRUST_POLICY_READ)

    def observe(self, ctx: ActionContext, params: ResourceParams) -> Observation:
        held = read_policy(ctx, params.resource_arn)
        state = {"resource_arn": params.resource_arn, "policy": held.policy, "policy_text": held.text}
        return Observation(state=state, arn=params.resource_arn, tags=held.tags, done=self.stored(ctx))


@dataclass(frozen=True)
class GrantParams(ActionParams):
    resource_arn: str = field(
        metadata={"doc": "the resource's ARN (S3 bucket, Lambda function, KMS key, SQS queue, SNS topic, secret)"}
    )
    principal: dict[str, Any] = field(
        metadata={"doc": "whom the grant is to, as Access Analyzer names it ({AWS: '999988887777'})"}
    )
    actions: list[str] = field(metadata={"doc": "the actions the finding says the principal can take"})


@register
class RemoveGrant(Action[GrantParams]):
    """Remove the resource-policy statements that give a principal the given actions, and only those.

    An Allow statement goes when all its principals are the given ones and its actions cover one of
    the given actions. A statement that also grants someone else (or uses NotPrincipal/NotAction)
    stays, named in the step's result as not contained: split it by hand. A KMS key policy change
    that would leave no principal of the key's own account able to change the policy is refused.

    ```yaml
    - id: remove-grant
      action: policy.remove_grant
      with:
        resource_arn: "arn:aws:s3:::my-bucket"
        principal: {AWS: "999988887777"}
        actions: [s3:GetObject]
    ```
    """

    name = "policy.remove_grant"
    Params = GrantParams
    mutating = True
    summary = "Remove the statements of the policy of {resource_arn} that grant {principal} {actions}"
    undo = "policy.restore"
    permissions = _permissions(write=True)

    def observe(self, ctx: ActionContext, params: GrantParams) -> Observation:
        if not params.actions or not params.principal:
            raise ActionError(
                "policy.remove_grant needs the finding's principal and actions (an error finding has none)"
            )
        held = read_policy(ctx, params.resource_arn)
        who = principals(params.principal)
        kinds = [(s, grants(s, who, params.actions)) for s in statements(held.policy)]
        state = {
            "resource_arn": params.resource_arn,
            "policy": held.policy,
            "policy_text": held.text,
            "removed": [s for s, kind in kinds if kind == "only"],
            "left": [s for s, kind in kinds if kind == "shared"],
        }
        return Observation(state=state, arn=params.resource_arn, tags=held.tags, done=not any(k for _, k in kinds))

    def _wanted(self, seen: Observation) -> str | None:
        """The policy without the removed statements; None (no policy) when none is left, except for
        the services whose resources always have one (SNS topics, KMS keys)."""
        kept = [s for s in statements(seen.state["policy"]) if s not in seen.state["removed"]]
        always = _parsed_service(seen.state["resource_arn"]) in ("sns", "kms")
        return json.dumps({**seen.state["policy"], "Statement": kept}) if kept or always else None

    def calls(self, ctx: ActionContext, params: GrantParams, seen: Observation) -> list[ApiCall]:
        if not seen.state["removed"]:
            return []
        return policy_calls(ctx, params.resource_arn, self._wanted(seen), _held(seen))

    def apply(self, ctx: ActionContext, params: GrantParams, seen: Observation) -> dict[str, Any]:
        if not seen.state["removed"]:
            return {"removed": []}
        wanted = self._wanted(seen)
        if _parsed(params.resource_arn, ctx)["service"] == "kms":
            _refuse_key_lockout(params.resource_arn, seen.state["removed"], _document(wanted))
        write_policy(ctx, params.resource_arn, wanted, _held(seen))
        return {"removed": [s.get("Sid") for s in seen.state["removed"]]}

    def unmet(self, ctx: ActionContext, params: GrantParams, after: Observation) -> list[str]:
        return [
            *(
                f"{params.resource_arn}: statement {s.get('Sid') or json.dumps(s)[:200]} still grants {params.principal}"
                for s in after.state["removed"]
            ),
            *(
                f"{params.resource_arn}: statement {s.get('Sid') or json.dumps(s)[:200]} grants {params.principal} "
                "and others (or uses NotPrincipal/NotAction): left as it is; split it by hand"
                for s in after.state["left"]
            ),
        ]

    def undo_params(self, params: GrantParams, seen: Observation) -> dict[str, Any]:
        return {"resource_arn": params.resource_arn, "policy": seen.state["policy_text"]}


def _same(arn: str, held: dict[str, Any] | None, wanted: dict[str, Any] | None) -> bool:
    """Whether the policy is as wanted; a Lambda policy is a set of statements by id (AddPermission appends)."""
    if _parsed_service(arn) == "lambda":
        return {s.get("Sid"): s for s in statements(held)} == {s.get("Sid"): s for s in statements(wanted)}
    return held == wanted


def _held(seen: Observation) -> Held:
    return Held(seen.state["policy"], seen.state["policy_text"], seen.tags)


def _refuse_key_lockout(arn: str, removed: list[dict[str, Any]], wanted: dict[str, Any] | None) -> None:
    """ActionError when the change would take a key policy away from the key's own account (KMS lockout)."""
    account = ARN.fullmatch(arn)["account"]  # type: ignore[index]
    own = [
        s
        for s in removed
        if any(who == account or who.split(":")[4:5] == [account] for _, who in principals(s.get("Principal")))
    ]
    admin = [
        s
        for s in statements(wanted)
        if s.get("Effect") == "Allow"
        and any(fnmatch.fnmatchcase("kms:putkeypolicy", a.lower()) for a in _listed(s.get("Action")))
        and any(who == account or who.split(":")[4:5] == [account] for _, who in principals(s.get("Principal")))
    ]
    if own or not admin:
        raise ActionError(
            f"{arn}: refused: the new key policy would leave no principal of account {account} able to change it "
            "(KMS would lock the key out); change the key policy by hand"
        )


@dataclass(frozen=True)
class RestoreParams(ActionParams):
    resource_arn: str = field(metadata={"doc": "the resource's ARN"})
    policy: str | None = field(default=None, metadata={"doc": "the exact previous policy text; none: no policy"})


@register
class RestorePolicy(Action[RestoreParams]):
    """Put a resource's policy back exactly as it was: the undo of `policy.remove_grant`.

    ```yaml
    - id: restore-policy
      action: policy.restore
      with:
        resource_arn: "arn:aws:sqs:us-east-1:111122223333:orders"
        policy: '{"Version": "2012-10-17", "Statement": []}'
    ```
    """

    name = "policy.restore"
    restores_access = True
    Params = RestoreParams
    mutating = True
    summary = "Restore the previous resource policy of {resource_arn}"
    no_undo_reason = "it is itself the undo of policy.remove_grant"
    permissions = _permissions(write=True)

    def observe(self, ctx: ActionContext, params: RestoreParams) -> Observation:
        held = read_policy(ctx, params.resource_arn)
        state = {"resource_arn": params.resource_arn, "policy": held.policy, "policy_text": held.text}
        done = _same(params.resource_arn, held.policy, _document(params.policy))
        return Observation(state=state, arn=params.resource_arn, tags=held.tags, done=done)

    def calls(self, ctx: ActionContext, params: RestoreParams, seen: Observation) -> list[ApiCall]:
        return policy_calls(ctx, params.resource_arn, params.policy, _held(seen))

    def apply(self, ctx: ActionContext, params: RestoreParams, seen: Observation) -> dict[str, Any]:
        write_policy(ctx, params.resource_arn, params.policy, _held(seen))
        return {}
