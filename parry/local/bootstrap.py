"""Parry's own resources in the local endpoint, as the CDK app creates them in a real account.

An Object Lock evidence bucket, the case table, the topic, the kill switch and the manifest signing
key; `bootstrap` makes them only against a local endpoint, `provision` wherever it is pointed
(tests that run moto in-process).
"""

from __future__ import annotations

import json
from typing import Any

from parry.aws.clients import ClientFactory
from parry.local.server import require_local_endpoint
from parry.store.schema import create_table

SIGNING_KEY_ALIAS = "alias/parry-local-manifest-signing"
REQUEST_KEY_ALIAS = "alias/parry-local-control-requests"
CONTINUATION_KEY_ALIAS = "alias/parry-local-continuations"
# the local stand-ins for the on-call and approver roles of a deployment (the CLI's `--as`)
LOCAL_ROLES = {"PARRY_ONCALL_ROLES": "parry-oncall", "PARRY_APPROVER_ROLES": "parry-approver"}
DEFAULT_NAMES = {
    "PARRY_EVIDENCE_BUCKET": "parry-evidence-local",
    "PARRY_CASES_TABLE": "parry-cases",
    "PARRY_TOPIC_NAME": "parry-notifications",
    "PARRY_KILL_SWITCH_PARAMETER": "/parry/kill-switch",
}


def bootstrap(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Create Parry's resources in the local endpoint (idempotent); the PARRY_... settings."""
    endpoint = require_local_endpoint()
    return {"AWS_ENDPOINT_URL": endpoint, **provision(aws, retention_days=retention_days)}


def provision(aws: ClientFactory, *, retention_days: int = 1) -> dict[str, str]:
    """Parry's resources in whatever `aws` points at; callers make sure that is not a real account."""
    s3, ddb, sns, ssm = (aws.client(s) for s in ("s3", "dynamodb", "sns", "ssm"))
    bucket = DEFAULT_NAMES["PARRY_EVIDENCE_BUCKET"]
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectLockEnabledForBucket": True}
        if aws.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": aws.region}
        s3.create_bucket(**kwargs)
        s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": retention_days}},
            },
        )
    table = DEFAULT_NAMES["PARRY_CASES_TABLE"]
    if table not in ddb.list_tables()["TableNames"]:
        create_table(ddb, table)
    topic = sns.create_topic(Name=DEFAULT_NAMES["PARRY_TOPIC_NAME"])["TopicArn"]
    parameter = DEFAULT_NAMES["PARRY_KILL_SWITCH_PARAMETER"]
    ssm.put_parameter(Name=parameter, Value="off", Type="String", Overwrite=True)
    kms = aws.client("kms")
    return {
        "PARRY_SIGNING_KEY_ID": _signing_key(kms),
        "PARRY_REQUEST_KEY_ID": _mac_key(kms, REQUEST_KEY_ALIAS, "Parry local control requests"),
        "PARRY_CONTINUATION_KEY_ID": _mac_key(kms, CONTINUATION_KEY_ALIAS, "Parry local runner continuations"),
        **_local_roles(aws),
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,  # what the AWS CLI v1 reads
        "PARRY_EVIDENCE_BUCKET": bucket,
        "PARRY_CASES_TABLE": table,
        "PARRY_TOPIC_ARN": topic,
        "PARRY_KILL_SWITCH_PARAMETER": parameter,
        "PARRY_LOCK_MODE": "GOVERNANCE",
        "PARRY_RETENTION_DAYS": str(retention_days),
    }


def _mac_key(kms: Any, alias: str, description: str) -> str:
    """A KMS HMAC key (HMAC_256, GENERATE_VERIFY_MAC, as the CDK app creates it); made once, found by alias."""
    found = _aliased(kms, alias)
    if found:
        return found
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Description=description)
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyMetadata"]["KeyId"])
    arn: str = key["KeyMetadata"]["Arn"]
    return arn


def _aliased(kms: Any, alias: str) -> str | None:
    for entry in kms.list_aliases().get("Aliases", []):
        if entry["AliasName"] == alias and entry.get("TargetKeyId"):
            arn: str = kms.describe_key(KeyId=entry["TargetKeyId"])["KeyMetadata"]["Arn"]
            return arn
    return None


def _local_roles(aws: ClientFactory) -> dict[str, str]:
    """The local on-call and approver roles, assumable by the local account, as PARRY_..._ROLES settings."""
    iam = aws.client("iam")
    account = aws.client("sts").get_caller_identity()["Account"]
    partition = aws.session.get_partition_for_region(aws.region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    settings = {}
    for setting, name in LOCAL_ROLES.items():
        try:
            arn = iam.get_role(RoleName=name)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        settings[setting] = arn
    return settings


def _signing_key(kms: Any) -> str:
    """The manifest signing key (ECC_NIST_P256, as the CDK app creates it); made once, found by alias."""
    for alias in kms.list_aliases().get("Aliases", []):
        if alias["AliasName"] == SIGNING_KEY_ALIAS and alias.get("TargetKeyId"):
            return kms.describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]["Arn"]
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="Parry local manifest signing")
    kms.create_alias(AliasName=SIGNING_KEY_ALIAS, TargetKeyId=key["KeyMetadata"]["KeyId"])
    return key["KeyMetadata"]["Arn"]
