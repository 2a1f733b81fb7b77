"""Rehearsal of access-analyzer-external-access on moto, from the published Access Analyzer event.

The published finding (principal 999988887777, s3:GetObject on my-bucket) is moved into the sandbox
account and region and registered in the local analyzer; the bucket's policy grants that account
read access beside the owner's own statement. Nothing changes until a person approves; then only
the outsider's statement goes, and undo puts the exact policy text back.
"""

from __future__ import annotations

import json

import pytest

from parry.engine.undo import undo
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.access_analyzer import ACCOUNT, BOOK, sandbox_event
from tests.support.decisions import approve
from tests.support.findings import registered
from tests.support.paths import ROOT

OWN = {
    "Sid": "Own",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "s3:*",
    "Resource": "arn:aws:s3:::my-bucket/*",
}
PARTNER = {
    "Sid": "Partner",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::my-bucket/*",
}


@pytest.fixture
def bucket(aws) -> str:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="my-bucket")
    s3.put_bucket_policy(Bucket="my-bucket", Policy=json.dumps({"Version": "2012-10-17", "Statement": [OWN, PARTNER]}))
    return s3.get_bucket_policy(Bucket="my-bucket")["Policy"]


def policy_of(aws) -> str:
    return aws.client("s3").get_bucket_policy(Bucket="my-bucket")["Policy"]


def test_the_grant_goes_only_on_approval_and_undo_restores_the_exact_policy(engine, aws, bucket):
    book = load_file(ROOT / "playbooks" / f"{BOOK}.yaml")
    event = registered(aws, sandbox_event())

    held = engine.run(book, event)

    assert held.status == cs.AWAITING_APPROVAL and held.awaiting["step"] == "remove-grant"
    assert policy_of(aws) == bucket  # nothing changed before approval
    capture = next(s for s in held.steps if s.step_id == "capture-policy")
    assert capture.status == "succeeded" and capture.before["policy_text"] == bucket

    approve(engine, held.case_id, who="arn:aws:iam::123456789012:role/approver", reason="not our partner")
    case = engine.resume(held.case_id, book)

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert json.loads(policy_of(aws))["Statement"] == [OWN]

    undone = undo(engine, case.case_id, who="on-call", reason="the partner was expected")
    assert undone.status == cs.UNDONE
    assert policy_of(aws) == bucket


def test_an_iam_role_trust_policy_is_captured_and_never_changed(engine, aws):
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    arn = aws.client("iam").create_role(RoleName="vendor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    event = sandbox_event(resource=arn, resource_type="AWS::IAM::Role")
    event["detail"]["action"] = ["sts:AssumeRole"]

    case = engine.run(load_file(ROOT / "playbooks" / f"{BOOK}.yaml"), registered(aws, event))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert {s.step_id: s.status for s in case.steps} == {
        "capture-policy": "succeeded",
        "remove-grant": "skipped",
        "tell": "succeeded",
    }
    assert aws.client("iam").get_role(RoleName="vendor")["Role"]["AssumeRolePolicyDocument"] == json.loads(trust)
