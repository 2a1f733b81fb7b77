"""IAM user and role actions on moto: change, no-op, missing, protected, undo."""

from __future__ import annotations

import json

import pytest

from parry.actions.iam import QUARANTINE_POLICY
from parry.actions.iam_roles import REVOKE_POLICY
from tests.support.actions import assert_contract, assert_missing, assert_refused, run, run_undo

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
READ_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture
def iam(aws):
    return aws.client("iam")


@pytest.fixture
def user(iam):
    iam.create_user(UserName="alice")
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    return {"name": "alice", "key": key}


@pytest.fixture
def protected_user(iam):
    iam.create_user(UserName="bob", Tags=[{"Key": "parry:protected", "Value": "true"}])
    key = iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    return {"name": "bob", "key": key}


@pytest.fixture
def role(iam):
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=TRUST)
    return "app-role"


def _keys(iam, user):
    return [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]


# ---- access keys ----------------------------------------------------------------------------------


def test_delete_access_key_requires_capture_first(ctx, iam, user):
    refused = run(ctx, "iam.delete_access_key", user_name="alice", access_key_id=user["key"])
    assert refused.status == "failed" and "evidence.capture_iam_user" in refused.error
    assert _keys(iam, "alice") == [user["key"]]

    capture = run(ctx, "evidence.capture_iam_user", user_name="alice")
    assert capture.status == "succeeded", capture.error
    ctx.prior["capture-user"] = capture.as_dict()
    first = assert_contract(ctx, "iam.delete_access_key", user_name="alice", access_key_id=user["key"])
    assert first.before["status"] == "Active" and first.after["status"] is None
    assert first.undo is None
    assert _keys(iam, "alice") == []


def test_delete_access_key_capture_of_another_user_does_not_count(ctx, iam, user):
    iam.create_user(UserName="carol")
    ctx.prior["capture"] = run(ctx, "evidence.capture_iam_user", user_name="carol").as_dict()
    result = run(ctx, "iam.delete_access_key", user_name="alice", access_key_id=user["key"])
    assert result.status == "failed"
    assert _keys(iam, "alice") == [user["key"]]


def test_delete_access_key_missing_user_and_protected(ctx, iam, protected_user):
    assert_missing(
        ctx, "iam.delete_access_key", "IAM user nobody does not exist", user_name="nobody", access_key_id="AKIA0"
    )
    ctx.prior["c"] = {
        "action": "evidence.capture_iam_user",
        "status": "succeeded",
        "output": {"user_name": "bob", "access_key_ids": [protected_user["key"]]},
    }
    assert_refused(ctx, "iam.delete_access_key", user_name="bob", access_key_id=protected_user["key"])
    assert _keys(iam, "bob") == [protected_user["key"]]


# ---- quarantine -----------------------------------------------------------------------------------


def test_quarantine_user_and_undo(ctx, iam, user):
    iam.put_user_policy(UserName="alice", PolicyName="own", PolicyDocument=json.dumps(READ_S3))
    first = assert_contract(ctx, "iam.quarantine_user", user_name="alice")
    doc = iam.get_user_policy(UserName="alice", PolicyName=QUARANTINE_POLICY)["PolicyDocument"]
    assert doc["Statement"] == [{"Effect": "Deny", "Action": "*", "Resource": "*"}]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded"
    assert undone.after == first.before
    assert run_undo(ctx, first).status == "noop"


def test_quarantine_user_missing_and_protected(ctx, iam, protected_user):
    assert_missing(ctx, "iam.quarantine_user", "IAM user ghost does not exist", user_name="ghost")
    assert_refused(ctx, "iam.quarantine_user", user_name="bob")
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == []


# ---- login profile --------------------------------------------------------------------------------


def test_delete_login_profile(ctx, iam, user):
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-1")
    first = assert_contract(ctx, "iam.delete_login_profile", user_name="alice")
    assert first.before["login_profile"] is True and first.after["login_profile"] is False
    assert first.undo is None
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="alice")


def test_delete_login_profile_missing_and_protected(ctx, iam, protected_user):
    assert_missing(ctx, "iam.delete_login_profile", "IAM user ghost does not exist", user_name="ghost")
    iam.create_login_profile(UserName="bob", Password="Correct-Horse-1")
    assert_refused(ctx, "iam.delete_login_profile", user_name="bob")
    assert iam.get_login_profile(UserName="bob")["LoginProfile"]["UserName"] == "bob"


# ---- groups ---------------------------------------------------------------------------------------


def test_remove_user_from_groups_and_undo(ctx, iam, user):
    for group in ("admins", "devs"):
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName="alice")
    first = assert_contract(ctx, "iam.remove_user_from_groups", user_name="alice")
    assert first.before["groups"] == ["admins", "devs"] and first.after["groups"] == []

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert undone.after["groups"] == first.before["groups"]
    assert run_undo(ctx, first).status == "noop"


def test_remove_user_from_groups_missing_and_protected(ctx, iam, protected_user):
    assert_missing(ctx, "iam.remove_user_from_groups", "IAM user ghost does not exist", user_name="ghost")
    iam.create_group(GroupName="admins")
    iam.add_user_to_group(GroupName="admins", UserName="bob")
    assert_refused(ctx, "iam.remove_user_from_groups", user_name="bob")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="bob")["Groups"]] == ["admins"]
    assert_refused(ctx, "iam.add_user_to_groups", user_name="bob", groups=["other"])


def test_add_user_to_missing_group_is_named(ctx, user):
    assert_missing(ctx, "iam.add_user_to_groups", "IAM group gone does not exist", user_name="alice", groups=["gone"])


# ---- roles: revoke sessions -----------------------------------------------------------------------


def test_revoke_role_sessions_and_undo(ctx, iam, role):
    ctx.event = {"time": "2024-05-01T10:00:00Z"}
    first = assert_contract(ctx, "iam.revoke_role_sessions", role_name=role)
    assert first.before["cutoff"] is None
    doc = iam.get_role_policy(RoleName=role, PolicyName=REVOKE_POLICY)["PolicyDocument"]
    (statement,) = doc["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "*" and statement["Resource"] == "*"
    assert statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"] == first.output["cutoff"]
    assert first.output["cutoff"] >= "2024-05-01T10:00:00Z"

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded"
    assert undone.after == first.before
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == []


def test_revoke_role_sessions_moves_an_older_cutoff_forward_and_undo_puts_it_back(ctx, iam, role):
    ctx.event = {"time": "2024-05-01T10:00:00Z"}
    run(ctx, "iam.revoke_role_sessions", role_name=role, issued_before="2024-01-01T00:00:00Z")
    first = run(ctx, "iam.revoke_role_sessions", role_name=role)
    assert first.status == "succeeded"
    assert first.before["cutoff"] == "2024-01-01T00:00:00Z"
    undone = run_undo(ctx, first)
    assert undone.after == {"role_name": role, "cutoff": "2024-01-01T00:00:00Z"}


def test_revoke_role_sessions_missing_and_protected(ctx, iam):
    assert_missing(ctx, "iam.revoke_role_sessions", "IAM role ghost does not exist", role_name="ghost")
    iam.create_role(RoleName="prod", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "parry:protected", "Value": "true"}])
    assert_refused(ctx, "iam.revoke_role_sessions", role_name="prod")
    assert iam.list_role_policies(RoleName="prod")["PolicyNames"] == []


def test_parrys_own_role_is_always_refused(ctx, iam):
    iam.create_role(RoleName="parry-runner-x", AssumeRolePolicyDocument=TRUST)
    result = run(ctx, "iam.revoke_role_sessions", role_name="parry-runner-x")
    assert result.status == "refused" and "Parry's own" in result.error


# ---- roles: policies ------------------------------------------------------------------------------


def test_detach_role_policies_and_restore_exactly(ctx, iam, role):
    arn = iam.create_policy(PolicyName="app-read", PolicyDocument=json.dumps(READ_S3))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.put_role_policy(RoleName=role, PolicyName="inline-read", PolicyDocument=json.dumps(READ_S3))
    ctx.event = {"time": "2024-05-01T10:00:00Z"}
    run(ctx, "iam.revoke_role_sessions", role_name=role)

    first = assert_contract(ctx, "iam.detach_role_policies", role_name=role)
    assert first.before["managed_policy_arns"] == [arn]
    assert first.before["inline_policies"] == {"inline-read": READ_S3}
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    # Parry's own containment stays in place
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [REVOKE_POLICY]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert undone.after["managed_policy_arns"] == first.before["managed_policy_arns"]
    assert undone.after["inline_policies"] == first.before["inline_policies"]
    assert run_undo(ctx, first).status == "noop"


def test_detach_role_policies_missing_and_protected(ctx, iam):
    assert_missing(ctx, "iam.detach_role_policies", "IAM role ghost does not exist", role_name="ghost")
    iam.create_role(RoleName="prod", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "parry:protected", "Value": "true"}])
    iam.put_role_policy(RoleName="prod", PolicyName="p", PolicyDocument=json.dumps(READ_S3))
    assert_refused(ctx, "iam.detach_role_policies", role_name="prod")
    assert iam.list_role_policies(RoleName="prod")["PolicyNames"] == ["p"]


def test_role_actions_take_an_arn_too(ctx, iam, role):
    arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    result = run(ctx, "iam.revoke_role_sessions", role_name=arn)
    assert result.status == "succeeded", result.error
    assert result.params["role_name"] == role
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [REVOKE_POLICY]


def test_undo_actions_refuse_protected_resources_too(ctx, iam, protected_user):
    iam.put_user_policy(UserName="bob", PolicyName=QUARANTINE_POLICY, PolicyDocument=json.dumps(READ_S3))
    assert_refused(ctx, "iam.unquarantine_user", user_name="bob")
    assert iam.list_user_policies(UserName="bob")["PolicyNames"] == [QUARANTINE_POLICY]
    iam.create_role(RoleName="prod", AssumeRolePolicyDocument=TRUST, Tags=[{"Key": "parry:protected", "Value": "true"}])
    assert_refused(ctx, "iam.restore_role_sessions", role_name="prod", cutoff="2024-01-01T00:00:00Z")
    assert_refused(ctx, "iam.restore_role_policies", role_name="prod", inline_policies={"p": READ_S3})
    assert iam.list_role_policies(RoleName="prod")["PolicyNames"] == []
