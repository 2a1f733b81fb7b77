"""The evidence store's resource policies, as synthesized: who may sign manifests, who may destroy
or re-key the keys, what every evidence write must carry, and who may lift the buckets' protections.

Each deny names the principals it spares with `aws:PrincipalArn`; the break-glass role comes from
`parry:breakGlassRole` and the deployment role is the CDK bootstrap's CloudFormation role.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import BREAK_GLASS_ROLE, ON_CALL_ROLES, TEST_CONTEXT, Synth, load_playbooks
from tests.support.templates import as_list

pytestmark = pytest.mark.xdist_group("synth")

REGION = "eu-west-1"
DEPLOY_ROLE = "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-hnb659fds-cfn-exec-role-<AWS::AccountId>-" + REGION
ROLE = "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{}".format
GUARDED_KEY_ACTIONS = {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:PutKeyPolicy", "kms:CreateGrant"}


def render(value: Any) -> str:
    """A resolved ARN as text: Fn::Sub's ${X} and cdk-nag's <X> written alike."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", r"<\1>", value["Fn::Sub"])
    return nag_value(value)


def spared(statement: dict[str, Any]) -> set[str]:
    return {render(a) for a in as_list(statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])}


def key_policy(synth: Synth, description: str) -> list[dict[str, Any]]:
    (key,) = [
        k for k in synth.resources("Parry", "AWS::KMS::Key").values() if k["Properties"]["Description"] == description
    ]
    return key["Properties"]["KeyPolicy"]["Statement"]


def bucket_policy(synth: Synth, logical_prefix: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in synth.resources("Parry", "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"]["Ref"].startswith(logical_prefix)
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def sealers() -> set[str]:
    return {
        ROLE(naming.maintenance_role_name(REGION)),
        *(ROLE(naming.runner_role_name(b.name, REGION)) for b in load_playbooks()),
    }


def test_only_the_runners_and_the_maintenance_role_may_sign_manifests(synth: Synth):
    statements = key_policy(synth, "Parry: signs evidence manifests")
    (allow,) = [s for s in statements if s["Effect"] == "Allow" and "kms:Sign" in as_list(s["Action"])]
    (deny,) = [s for s in statements if s["Effect"] == "Deny" and "kms:Sign" in as_list(s["Action"])]
    assert {render(a) for a in as_list(allow["Condition"]["ArnEquals"]["aws:PrincipalArn"])} == sealers()
    assert deny["Principal"] == {"AWS": "*"} and spared(deny) == sealers()
    # the on-call and the front door never sign: the runner seals after each decision
    assert not {ROLE(naming.control_plane_role_name(REGION)), *ON_CALL_ROLES} & sealers()
    # no statement hands out kms:* or grants, so no identity policy can widen who signs
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in as_list(s["Action"])}
    assert "kms:*" not in allowed and "kms:CreateGrant" not in allowed


@pytest.mark.parametrize(
    "description",
    ["Parry: signs evidence manifests", "Parry: encrypts evidence, cases, notifications and dead letters"],
)
def test_only_break_glass_and_the_deployment_may_destroy_or_rekey_a_key(synth: Synth, description: str):
    statements = key_policy(synth, description)
    denied: set[str] = set()
    for s in statements:
        if s["Effect"] == "Deny" and GUARDED_KEY_ACTIONS & set(as_list(s["Action"])):
            assert s["Principal"] == {"AWS": "*"} and spared(s) == {BREAK_GLASS_ROLE, DEPLOY_ROLE}, s
            grant_only_for_services = s["Condition"].get("Bool", {}).get("kms:GrantIsForAWSResource") == "false"
            assert set(as_list(s["Action"])) == {"kms:CreateGrant"} or not grant_only_for_services
            denied |= set(as_list(s["Action"]))
    assert denied == GUARDED_KEY_ACTIONS


@pytest.mark.parametrize("bucket", ["EvidenceStoreBucket", "EvidenceStoreAccessLogs"])
def test_only_break_glass_and_the_deployment_may_change_a_buckets_policy_lock_or_lifecycle(synth: Synth, bucket):
    (guard,) = [s for s in bucket_policy(synth, bucket) if "s3:PutBucketPolicy" in as_list(s["Action"])]
    assert guard["Effect"] == "Deny" and guard["Principal"] == {"AWS": "*"}
    assert set(guard["Action"]) >= {
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutLifecycleConfiguration",
    }
    assert spared(guard) == {BREAK_GLASS_ROLE, DEPLOY_ROLE}


def test_access_logs_cannot_be_deleted(synth: Synth):
    (deny,) = [s for s in bucket_policy(synth, "EvidenceStoreAccessLogs") if "s3:DeleteObject" in as_list(s["Action"])]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert set(deny["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"} and spared(deny) == {
        BREAK_GLASS_ROLE,
        DEPLOY_ROLE,
    }


# ---- every evidence write: the policy's conditions, evaluated on the requests the writer sends ----


def _denies(statements: list[dict[str, Any]], context: dict[str, str]) -> list[str]:
    """The Sids of the PutObject denies that apply to a request with these condition keys (the three
    operators the policy uses, with IAM's rule for a key absent from the request)."""
    out = []
    for s in statements:
        if s["Effect"] != "Deny" or "s3:PutObject" not in as_list(s["Action"]) or "Condition" not in s:
            continue
        matches = []
        for operator, pairs in s["Condition"].items():
            for key, expected in pairs.items():
                value = context.get(key)
                if operator == "Null":
                    matches.append((value is None) == (expected == "true"))
                elif operator == "StringNotEquals":
                    matches.append(value is None or value != expected)
                elif operator == "NumericLessThan":
                    matches.append(value is not None and float(value) < float(expected))
                else:
                    pytest.fail(f"{s['Sid']}: unexpected operator {operator}")
        if all(matches):
            out.append(s["Sid"])
    return out


def _requests(aws, lock_mode: str, retention_days: int, *, plain: bool = False) -> dict[str, str]:
    """The condition keys of the PutObject Parry's writer (or a plain put) sends."""
    from parry.evidence.writer import EvidenceStore

    s3 = aws.client("s3")
    s3.create_bucket(
        Bucket="policy-check", ObjectLockEnabledForBucket=True, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    seen: list[dict[str, str]] = []

    def capture(request, **_):
        headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        context = {}
        if "x-amz-object-lock-mode" in headers:
            context["s3:object-lock-mode"] = headers["x-amz-object-lock-mode"]
        if "x-amz-object-lock-retain-until-date" in headers:
            until = datetime.fromisoformat(headers["x-amz-object-lock-retain-until-date"].replace("Z", "+00:00"))
            context["s3:object-lock-remaining-retention-days"] = str(
                math.floor((until - datetime.now(UTC)).total_seconds() / 86400)
            )
        if "if-none-match" in headers:
            context["s3:if-none-match"] = headers["if-none-match"]
        seen.append(context)

    s3.meta.events.register("before-send.s3.PutObject", capture)
    if plain:
        s3.put_object(Bucket="policy-check", Key="cases/x", Body=b"{}")
    else:
        EvidenceStore(s3, "policy-check", retention_days=retention_days, lock_mode=lock_mode).put("cases/x", b"{}")
    return seen[-1]


def test_the_writers_puts_satisfy_the_evidence_bucket_policy(synth: Synth, aws):
    statements = bucket_policy(synth, "EvidenceStoreBucket")
    days = int(TEST_CONTEXT["parry:retentionDays"])
    assert _denies(statements, _requests(aws, TEST_CONTEXT["parry:lockMode"], days)) == []


@pytest.mark.parametrize(
    "write, refused_by",
    [
        ({"plain": True}, {"DenyPutWithoutTheLockMode", "DenyPutWithoutRetention", "DenyPutWithoutIfNoneMatch"}),
        ({"lock_mode": "GOVERNANCE"}, {"DenyPutWithoutTheLockMode"}),
        ({"retention_days": 1}, {"DenyPutWithShorterRetention"}),
    ],
)
def test_a_put_without_the_deployed_lock_or_if_none_match_is_refused(synth: Synth, aws, write, refused_by):
    statements = bucket_policy(synth, "EvidenceStoreBucket")
    args = {"lock_mode": TEST_CONTEXT["parry:lockMode"], "retention_days": int(TEST_CONTEXT["parry:retentionDays"])}
    args.update(write)
    plain = bool(args.pop("plain", False))
    assert (
        set(_denies(statements, _requests(aws, args["lock_mode"], args["retention_days"], plain=plain))) == refused_by
    )


# ---- the topic hears of every change to a key ----------------------------------------------------


def _key_ids(synth: Synth) -> dict[str, str]:
    """Logical id -> a stand-in ARN, for the data and signing keys."""
    wanted = {"Parry: signs evidence manifests", "Parry: encrypts evidence, cases, notifications and dead letters"}
    return {
        lid: f"arn:aws:kms:{REGION}:111111111111:key/{lid}"
        for lid, k in synth.resources("Parry", "AWS::KMS::Key").items()
        if k["Properties"]["Description"] in wanted
    }


def _concrete(value: Any, arns: dict[str, str]) -> Any:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        return arns[value["Fn::GetAtt"][0]]
    if isinstance(value, dict):
        return {k: _concrete(v, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_concrete(v, arns) for v in value]
    return value


def _api_call(name: str, key_arn: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "source": "aws.kms",
        "detail-type": "AWS API Call via CloudTrail",
        "account": "111111111111",
        "region": REGION,
        "time": "2026-12-01T12:00:00Z",
        "resources": [],
        "detail": {
            "eventSource": "kms.amazonaws.com",
            "eventName": name,
            "resources": [{"accountId": "111111111111", "type": "AWS::KMS::Key", "ARN": key_arn}],
        },
    }


def test_every_change_to_a_key_is_told_to_the_topic(synth: Synth):
    from parry.routing.patterns import compile_pattern

    (rule,) = [
        r
        for r in synth.resources("Parry", "AWS::Events::Rule").values()
        if r["Properties"].get("Name") == "Parry-KeyStateChanges"
    ]
    (target,) = rule["Properties"]["Targets"]
    (topic_id,) = synth.resources("Parry", "AWS::SNS::Topic")
    assert target["Arn"] == {"Ref": topic_id}
    arns = _key_ids(synth)
    assert len(arns) == 2
    pattern = compile_pattern(_concrete(rule["Properties"]["EventPattern"], arns))
    for arn in arns.values():
        for call in ("ScheduleKeyDeletion", "DisableKey", "PutKeyPolicy", "CreateGrant", "CancelKeyDeletion"):
            assert pattern.matches(_api_call(call, arn)), (call, arn)
        deleted = {**_api_call("", arn), "detail-type": "KMS CMK Deletion", "resources": [arn], "detail": {}}
        assert pattern.matches(deleted)
    # another key's changes and a key's ordinary use are not news
    assert not pattern.matches(_api_call("ScheduleKeyDeletion", f"arn:aws:kms:{REGION}:111111111111:key/other"))
    assert not pattern.matches(_api_call("Sign", next(iter(arns.values()))))

    (policy,) = synth.resources("Parry", "AWS::SNS::TopicPolicy").values()
    (rule_id,) = [
        k
        for k, v in synth.resources("Parry", "AWS::Events::Rule").items()
        if v["Properties"].get("Name") == "Parry-KeyStateChanges"
    ]
    (allow,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
        and s["Condition"].get("ArnEquals", {}).get("aws:SourceArn") == {"Fn::GetAtt": [rule_id, "Arn"]}
    ]
    assert allow["Effect"] == "Allow" and allow["Action"] == "sns:Publish"
