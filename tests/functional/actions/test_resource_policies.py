"""Resource-policy actions on moto: the finding's grant goes, nothing else changes, undo puts the exact text back."""

from __future__ import annotations

import json

import pytest

from tests.support.actions import ACCOUNT, assert_contract, assert_refused, lambda_zip, run, run_undo

OUTSIDER = "999988887777"
PARTNER = "444455556666"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, who, action, resource: str) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": who}, "Action": action, "Resource": resource}


def remove(ctx, arn: str, actions: list[str], who: str = OUTSIDER):
    return run(ctx, "policy.remove_grant", resource_arn=arn, principal={"AWS": who}, actions=actions)


def test_s3_bucket_loses_only_the_outsiders_statement_and_undo_restores_the_exact_policy(ctx, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="shared-data")
    own = allow("Own", ROOT, "s3:*", "arn:aws:s3:::shared-data/*")
    outsider = allow("Outsider", f"arn:aws:iam::{OUTSIDER}:root", "s3:GetObject", "arn:aws:s3:::shared-data/*")
    s3.put_bucket_policy(Bucket="shared-data", Policy=policy(own, outsider))
    before = s3.get_bucket_policy(Bucket="shared-data")["Policy"]

    first = assert_contract(
        ctx,
        "policy.remove_grant",
        resource_arn="arn:aws:s3:::shared-data",
        principal={"AWS": OUTSIDER},
        actions=["s3:GetObject"],
    )
    assert [s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket="shared-data")["Policy"])["Statement"]] == ["Own"]
    assert first.output["removed"] == ["Outsider"]

    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert s3.get_bucket_policy(Bucket="shared-data")["Policy"] == before


def test_s3_policy_of_only_the_grant_is_deleted_and_comes_back_on_undo(ctx, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="drop")
    text = policy(allow("Public", "*", "s3:GetObject", "arn:aws:s3:::drop/*"))
    s3.put_bucket_policy(Bucket="drop", Policy=text)
    first = remove(ctx, "arn:aws:s3:::drop", ["s3:GetObject"], who="*")
    assert first.status == "succeeded", first.error
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="drop")
    assert run_undo(ctx, first).status == "succeeded"
    assert json.loads(s3.get_bucket_policy(Bucket="drop")["Policy"]) == json.loads(text)


def test_a_statement_granting_the_outsider_and_a_partner_is_left_and_reported(ctx, aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="joint")
    both = allow("Both", [OUTSIDER, PARTNER], "s3:GetObject", "arn:aws:s3:::joint/*")
    s3.put_bucket_policy(Bucket="joint", Policy=policy(both))
    before = s3.get_bucket_policy(Bucket="joint")["Policy"]
    result = remove(ctx, "arn:aws:s3:::joint", ["s3:GetObject"])
    assert result.status == "not_contained", result.error
    assert any("Both" in line and "split it by hand" in line for line in result.unmet)
    assert s3.get_bucket_policy(Bucket="joint")["Policy"] == before


def test_lambda_permission_for_the_outsider_is_removed_and_added_back(ctx, aws):
    iam, lam = aws.client("iam"), aws.client("lambda")
    trust = policy({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    arn = lam.create_function(
        FunctionName="billing", Runtime="python3.13", Role=role, Handler="index.handler", Code={"ZipFile": lambda_zip()}
    )["FunctionArn"]
    lam.add_permission(
        FunctionName="billing", StatementId="partner", Action="lambda:InvokeFunction", Principal=OUTSIDER
    )
    lam.add_permission(
        FunctionName="billing",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceAccount=ACCOUNT,
    )
    first = remove(ctx, arn, ["lambda:InvokeFunction"])
    assert first.status == "succeeded", first.error
    sids = [s["Sid"] for s in json.loads(lam.get_policy(FunctionName="billing")["Policy"])["Statement"]]
    assert sids == ["events"]
    assert run_undo(ctx, first).status == "succeeded"
    restored = {s["Sid"]: s for s in json.loads(lam.get_policy(FunctionName="billing")["Policy"])["Statement"]}
    assert restored == {s["Sid"]: s for s in first.before["policy"]["Statement"]}


def test_sqs_queue_policy_loses_the_grant_and_undo_restores_the_text(ctx, aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="orders")["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
    text = policy(
        allow("Own", ROOT, "sqs:*", arn),
        allow("Outsider", OUTSIDER, ["sqs:SendMessage", "sqs:ReceiveMessage"], arn),
    )
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": text})
    first = remove(ctx, arn, ["sqs:ReceiveMessage"])
    assert first.status == "succeeded", first.error
    now = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    assert [s["Sid"] for s in now["Statement"]] == ["Own"]
    assert run_undo(ctx, first).status == "succeeded"
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"] == text


def test_kms_key_policy_loses_the_grant_keeps_the_root_statement_and_undo_restores(ctx, aws):
    kms = aws.client("kms")
    text = policy(
        allow("Root", ROOT, "kms:*", "*"),
        allow("Outsider", f"arn:aws:iam::{OUTSIDER}:role/reader", ["kms:Decrypt"], "*"),
    )
    arn = kms.create_key(Policy=text)["KeyMetadata"]["Arn"]
    first = remove(ctx, arn, ["kms:Decrypt"], who=f"arn:aws:iam::{OUTSIDER}:role/reader")
    assert first.status == "succeeded", first.error
    now = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    assert [s["Sid"] for s in now["Statement"]] == ["Root"]
    assert run_undo(ctx, first).status == "succeeded"
    assert kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"] == text


def test_kms_change_that_would_lock_the_account_out_is_refused(ctx, aws):
    kms = aws.client("kms")
    text = policy(allow("OnlyOutsider", OUTSIDER, "kms:*", "*"))
    arn = kms.create_key(Policy=text, BypassPolicyLockoutSafetyCheck=True)["KeyMetadata"]["Arn"]
    result = remove(ctx, arn, ["kms:Decrypt"])
    assert result.status == "failed"
    assert "lock the key out" in (result.error or "")
    assert kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"] == text


def test_sns_and_secrets_manager_policies(ctx, aws):
    sns, secrets = aws.client("sns"), aws.client("secretsmanager")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    topic_text = policy(allow("Own", ROOT, "sns:Publish", topic), allow("Outsider", OUTSIDER, "sns:Subscribe", topic))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=topic_text)
    secret = secrets.create_secret(Name="db", SecretString="x")["ARN"]
    secret_text = policy(allow("Outsider", OUTSIDER, "secretsmanager:GetSecretValue", "*"))
    secrets.put_resource_policy(SecretId=secret, ResourcePolicy=secret_text)

    on_topic = remove(ctx, topic, ["sns:Subscribe"])
    on_secret = remove(ctx, secret, ["secretsmanager:GetSecretValue"])
    assert (on_topic.status, on_secret.status) == ("succeeded", "succeeded"), (on_topic.error, on_secret.error)
    topic_now = json.loads(sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"])
    assert [s["Sid"] for s in topic_now["Statement"]] == ["Own"]
    assert "ResourcePolicy" not in secrets.get_resource_policy(SecretId=secret)
    assert run_undo(ctx, on_topic).status == run_undo(ctx, on_secret).status == "succeeded"
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["Policy"] == on_topic.before["policy_text"]
    assert json.loads(secrets.get_resource_policy(SecretId=secret)["ResourcePolicy"]) == json.loads(secret_text)


def test_capture_stores_a_role_trust_policy_and_removal_refuses_roles(ctx, aws):
    trust = policy({"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"})
    arn = aws.client("iam").create_role(RoleName="vendor", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    captured = run(ctx, "evidence.capture_resource_policy", resource_arn=arn)
    assert captured.status == "succeeded", captured.error
    assert captured.before["policy"]["Statement"][0]["Principal"] == {"AWS": OUTSIDER}
    refused = remove(ctx, arn, ["sts:AssumeRole"])
    assert refused.status == "failed" and "trust policies" in (refused.error or "")


def test_a_resource_in_another_region_is_refused_by_name(ctx):
    result = remove(ctx, f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders", ["sqs:SendMessage"])
    assert result.status == "failed" and "eu-west-1" in (result.error or "")


def test_a_resource_tagged_protected_keeps_its_policy(ctx, aws):
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="payments", tags={"parry:protected": "true"})["QueueUrl"]
    arn = f"arn:aws:sqs:us-east-1:{ACCOUNT}:payments"
    text = policy(allow("Outsider", OUTSIDER, "sqs:SendMessage", arn))
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": text})
    assert_refused(
        ctx, "policy.remove_grant", resource_arn=arn, principal={"AWS": OUTSIDER}, actions=["sqs:SendMessage"]
    )
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"] == text
