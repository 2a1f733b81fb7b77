"""A member account beside the security account on moto, and what tests read back from both."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
from botocore.awsrequest import AWSResponse

from tests.support.inbox import on_call_inbox

SECURITY = "123456789012"  # moto's default account: where Parry runs
MEMBER = "222222222222"
BOOK = "iam-credential-compromise"
ROLE = f"parry-member-{BOOK}"


def member_session(account: str = MEMBER) -> boto3.Session:
    """Test set-up only: a session in the member account (or `account`), made without Parry."""
    creds = boto3.client("sts", region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="test-setup"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def key_status(iam, user: str, key: str) -> str:
    """Active or Inactive: an access key as the account (whichever `iam` is in) has it."""
    return next(
        k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"] if k["AccessKeyId"] == key
    )


def deny_assume_role(aws) -> Callable[[], None]:
    """Make STS refuse AssumeRole, as it does when the role is missing or does not trust the runner."""

    def refuse(**_):
        body = {
            "Error": {"Code": "AccessDenied", "Message": "not authorized to perform: sts:AssumeRole"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse("https://sts.amazonaws.com/", 403, {}, None), body

    aws.client("sts").meta.events.register("before-call.sts.AssumeRole", refuse)
    return lambda: aws.client("sts").meta.events.unregister("before-call.sts.AssumeRole", refuse)


def audit_records(aws, parry_env, case) -> list[dict]:
    """The case's audit log as its evidence folder holds it, oldest first."""
    s3 = aws.client("s3")
    bucket = parry_env["PARRY_EVIDENCE_BUCKET"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=case.evidence_prefix + "audit/")["Contents"]
    return [
        json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
        for o in sorted(listed, key=lambda o: o["Key"])
    ]


def on_call_messages(aws, topic_arn: str) -> Callable[[], list[str]]:
    """A reader of what the on-call gets on Parry's topic from now on (through a queue subscribed to it)."""
    inbox = on_call_inbox(aws, topic_arn)
    return lambda: [message for _, message in inbox()]
