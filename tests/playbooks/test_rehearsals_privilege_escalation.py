"""Rehearsals of the CloudTrail privilege-escalation playbooks on moto, on their real fixtures.

Each event is first recorded in the local CloudTrail history (Parry re-reads every CloudTrail event
there before acting), then planned and run through the `parry` command; what the case did is read
back from IAM, and undo puts it back.
"""

from __future__ import annotations

import json

import pytest

from parry.engine.undo import undo
from parry.store import model as cs
from tests.support.cli import parry
from tests.support.findings import registered
from tests.support.iam_policies import ADMIN, READ_ONLY, aws_managed_policy
from tests.support.routing import load

ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def aws_managed_policies(aws):
    """moto's IAM holds AWS's managed policies only when asked to; IAM always does."""
    for arn in (ADMIN, READ_ONLY):
        aws_managed_policy(ACCOUNT, arn)


def in_sandbox(relpath: str) -> dict:
    """The fixture as CloudTrail delivers it from the sandbox account, in us-east-1 (IAM's events' region)."""
    event = load(relpath)
    event["account"], event["region"] = ACCOUNT, "us-east-1"
    event["detail"].update(recipientAccountId=ACCOUNT, awsRegion="us-east-1")
    return event


def plan_and_run(capsys, tmp_path, book: str, event: dict) -> tuple[str, dict]:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    code, planned, err = parry(capsys, "plan", book, "--event", str(path))
    assert code == 0, err
    code, out, err = parry(capsys, "run", book, "--event", str(path), "--json")
    assert code == 0, err
    return planned, json.loads(out)


def attached(iam, role: str) -> list[str]:
    return sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])


def test_admin_attached_to_a_role_is_detached_and_undo_reattaches_it(capsys, tmp_path, aws, engine):
    iam = aws.client("iam")
    iam.create_role(RoleName="new-role", AssumeRolePolicyDocument="{}")
    iam.attach_role_policy(RoleName="new-role", PolicyArn=READ_ONLY)
    iam.attach_role_policy(RoleName="new-role", PolicyArn=ADMIN)  # the call the fixture records
    event = registered(aws, in_sandbox("cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json"))

    planned, case = plan_and_run(capsys, tmp_path, "iam-admin-policy-attached", event)

    assert f"iam:DetachRolePolicy(RoleName='new-role', PolicyArn='{ADMIN}')" in planned
    steps = {s["step_id"]: s["status"] for s in case["steps"]}
    assert case["status"] == cs.SUCCEEDED, case["steps"]
    assert steps["detach-admin"] == "succeeded" and steps["capture-role"] == "succeeded"
    assert steps["capture-user"] == "skipped"
    assert attached(iam, "new-role") == [READ_ONLY]  # the one grant the event names, nothing else

    undone = undo(engine, case["case_id"], who="on-call", reason="an approved change")

    assert undone.status == cs.UNDONE
    assert attached(iam, "new-role") == [ADMIN, READ_ONLY]


def test_admin_attached_to_a_user_is_detached_from_the_user(aws, engine):
    from parry.playbooks.validate import load_file

    iam = aws.client("iam")
    iam.create_user(UserName="backdoor")
    iam.attach_user_policy(UserName="backdoor", PolicyArn=ADMIN)
    event = in_sandbox("cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json")
    event["detail"].update(eventName="AttachUserPolicy", requestParameters={"policyArn": ADMIN, "userName": "backdoor"})

    case = engine.run(load_file("playbooks/iam-admin-policy-attached.yaml"), registered(aws, event))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert iam.list_attached_user_policies(UserName="backdoor")["AttachedPolicies"] == []


def test_a_key_made_for_another_user_is_deactivated_and_undo_reactivates_it(capsys, tmp_path, aws, engine):
    iam = aws.client("iam")
    iam.create_user(UserName="user2")
    key = iam.create_access_key(UserName="user2")["AccessKey"]["AccessKeyId"]  # the call the fixture records
    other = iam.create_access_key(UserName="user2")["AccessKey"]["AccessKeyId"]
    event = in_sandbox("cloudtrail/iam-createaccesskey.bare.json")
    event["detail"]["responseElements"]["accessKey"]["accessKeyId"] = key
    event = registered(aws, event)

    planned, case = plan_and_run(capsys, tmp_path, "iam-access-key-for-another-user", event)

    assert f"iam:UpdateAccessKey(UserName='user2', AccessKeyId='{key}', Status='Inactive')" in planned
    assert case["status"] == cs.SUCCEEDED, case["steps"]
    status = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName="user2")["AccessKeyMetadata"]}
    assert status == {key: "Inactive", other: "Active"}

    undo(engine, case["case_id"], who="on-call", reason="the identity team made it")

    assert {k["Status"] for k in iam.list_access_keys(UserName="user2")["AccessKeyMetadata"]} == {"Active"}


def test_a_key_a_user_made_for_themselves_is_left_active(aws, engine):
    from parry.playbooks.validate import load_file

    iam = aws.client("iam")
    iam.create_user(UserName="user1")
    key = iam.create_access_key(UserName="user1")["AccessKey"]["AccessKeyId"]
    event = in_sandbox("cloudtrail/iam-createaccesskey.bare.json")
    event["detail"]["requestParameters"]["userName"] = "user1"
    event["detail"]["responseElements"]["accessKey"].update(accessKeyId=key, userName="user1")

    case = engine.run(load_file("playbooks/iam-access-key-for-another-user.yaml"), registered(aws, event))

    assert {s.status for s in case.steps} == {"skipped"}
    assert iam.list_access_keys(UserName="user1")["AccessKeyMetadata"][0]["Status"] == "Active"
