"""Lambda actions on moto: quarantine, public permissions, and their undo."""

from __future__ import annotations

import json

import pytest

from parry.actions.lambda_ import QUARANTINE_TAG, add_permission_args, is_foreign
from tests.support.actions import ACCOUNT, assert_contract, assert_missing, assert_refused, lambda_zip, run, run_undo

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def lam(aws):
    return aws.client("lambda")


@pytest.fixture
def make_function(aws, lam):
    role = aws.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]

    def make(name: str, tags: dict[str, str] | None = None) -> str:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": lambda_zip()},
            Environment={"Variables": {"DB_PASSWORD": "hunter2"}},
            Tags=tags or {},
        )
        return name

    return make


@pytest.fixture
def exposed(aws, lam, make_function):
    """A function open to everyone, to another account and through a URL, with a queue trigger."""
    name = make_function("worker")
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunction", Principal="*")
    lam.add_permission(
        FunctionName=name, StatementId="other-acct", Action="lambda:InvokeFunction", Principal="111122223333"
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="url",
        Action="lambda:InvokeFunctionUrl",
        Principal="*",
        FunctionUrlAuthType="NONE",
    )
    lam.add_permission(
        FunctionName=name,
        StatementId="own-bucket",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::own-bucket",
        SourceAccount=ACCOUNT,
    )
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)
    return name


def _sids(lam, name):
    try:
        return sorted(s["Sid"] for s in json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"])
    except lam.exceptions.ResourceNotFoundException:
        return []


def test_foreign_statement_rules():
    own_service = {
        "Sid": "a",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}},
    }
    other_service = {
        "Sid": "b",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Condition": {"StringEquals": {"AWS:SourceAccount": "999"}},
    }
    own_root = {"Sid": "c", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}
    star_own = {"Sid": "d", "Principal": "*", "Condition": {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}}
    assert [is_foreign(s, ACCOUNT) for s in (own_service, other_service, own_root, star_own)] == [
        False,
        True,
        False,
        False,
    ]
    assert is_foreign({"Sid": "e", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}, ACCOUNT)
    # our account id inside another account's role name does not make it ours
    assert is_foreign({"Sid": "f", "Principal": {"AWS": f"arn:aws:iam::999988887777:role/x-{ACCOUNT}"}}, ACCOUNT)
    assert is_foreign({"Sid": "g", "Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:root", "999988887777"]}}, ACCOUNT)
    assert not is_foreign({"Sid": "h", "Principal": ACCOUNT}, ACCOUNT)


def test_add_permission_args_from_aws_shaped_statement():
    statement = {
        "Sid": "url",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "lambda:InvokeFunctionUrl",
        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:fn:live",
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    }
    assert add_permission_args(statement, "fn") == {
        "FunctionName": "fn",
        "StatementId": "url",
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "Qualifier": "live",
        "FunctionUrlAuthType": "NONE",
    }


def test_remove_public_permissions_and_undo(ctx, lam, exposed):
    first = assert_contract(ctx, "lambda.remove_public_permissions", function_name=exposed)
    assert sorted(s["Sid"] for s in first.before["foreign_statements"]) == ["other-acct", "public", "url"]
    assert _sids(lam, exposed) == ["own-bucket"]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert _sids(lam, exposed) == ["other-acct", "own-bucket", "public", "url"]
    assert run_undo(ctx, first).status == "noop"
    again = run(ctx, "lambda.remove_public_permissions", function_name=exposed)
    assert again.before["foreign_statements"] == first.before["foreign_statements"]


def test_quarantine_function_and_undo(ctx, lam, exposed):
    lam.put_function_concurrency(FunctionName=exposed, ReservedConcurrentExecutions=7)
    first = assert_contract(ctx, "lambda.quarantine_function", function_name=exposed)
    after = first.after
    assert after["reserved_concurrency"] == 0
    assert after["foreign_statements"] == []
    assert [m["state"] for m in after["event_source_mappings"]] == ["Disabled"]
    assert after["quarantine_tag"] == "case-1"
    assert _sids(lam, exposed) == ["own-bucket"]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    for key in ("function_name", "reserved_concurrency", "event_source_mappings", "quarantine_tag"):
        assert undone.after[key] == first.before[key], key
    assert sorted(s["Sid"] for s in undone.after["foreign_statements"]) == ["other-acct", "public", "url"]
    assert run_undo(ctx, first).status == "noop"


def test_quarantine_undo_restores_no_reserved_concurrency(ctx, lam, make_function):
    name = make_function("plain")
    first = assert_contract(ctx, "lambda.quarantine_function", function_name=name)
    assert first.before["reserved_concurrency"] is None
    undone = run_undo(ctx, first)
    assert undone.after["reserved_concurrency"] is None
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
    assert QUARANTINE_TAG not in lam.get_function(FunctionName=name).get("Tags", {})


def test_missing_function_is_named(ctx):
    for action in ("lambda.quarantine_function", "lambda.remove_public_permissions"):
        assert_missing(ctx, action, "Lambda function ghost does not exist", function_name="ghost")


def test_protected_function_is_left_alone(ctx, lam, make_function):
    name = make_function("billing", tags={"parry:protected": "true"})
    lam.add_permission(FunctionName=name, StatementId="public", Action="lambda:InvokeFunction", Principal="*")
    assert_refused(ctx, "lambda.quarantine_function", function_name=name)
    assert_refused(ctx, "lambda.remove_public_permissions", function_name=name)
    assert _sids(lam, name) == ["public"]
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)


def test_undo_actions_refuse_protected_functions(ctx, lam, make_function):
    name = make_function("billing", tags={"parry:protected": "true"})
    statement = {"Sid": "public", "Principal": "*", "Action": "lambda:InvokeFunction"}
    assert_refused(ctx, "lambda.add_permissions", function_name=name, statements=[statement])
    assert_refused(ctx, "lambda.unquarantine_function", function_name=name, reserved_concurrency=5)
    assert _sids(lam, name) == []
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=name)
