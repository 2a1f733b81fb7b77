"""The shared stores: evidence bucket and keys, case table, topic, kill switch, dashboard."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import EMAILS, Synth, load_playbooks
from tests.support.templates import as_list, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")


# ---- EvidenceStore -------------------------------------------------------------------------------


def test_evidence_bucket_is_locked_versioned_kms_private_and_logged(responder):
    responder.has_resource(
        "AWS::S3::Bucket",
        {
            "Properties": Match.object_like(
                {
                    "ObjectLockEnabled": True,
                    "ObjectLockConfiguration": {
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 400}},
                    },
                    "VersioningConfiguration": {"Status": "Enabled"},
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            Match.object_like(
                                {
                                    "ServerSideEncryptionByDefault": {
                                        "SSEAlgorithm": "aws:kms",
                                        "KMSMasterKeyID": Match.any_value(),
                                    }
                                }
                            )
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "LoggingConfiguration": {"DestinationBucketName": Match.any_value(), "LogFilePrefix": "evidence/"},
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def _evidence_bucket_id(synth: Synth) -> str:
    (bucket_id,) = [
        k for k, v in synth.resources("Parry", "AWS::S3::Bucket").items() if v["Properties"].get("ObjectLockEnabled")
    ]
    return bucket_id


def test_evidence_bucket_key_is_a_rotating_customer_key(synth: Synth):
    bucket = synth.responder["Resources"][_evidence_bucket_id(synth)]
    key_ref = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]["KMSMasterKeyID"]
    key = synth.responder["Resources"][key_ref["Fn::GetAtt"][0]]
    assert key["Type"] == "AWS::KMS::Key" and key["Properties"]["EnableKeyRotation"] is True


def test_evidence_bucket_policy_refuses_plain_http_deletion_and_bypass(synth: Synth, responder):
    bucket_id = _evidence_bucket_id(synth)
    responder.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Action": Match.array_with(
                                    ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]
                                ),
                            }
                        ),
                    ]
                )
            },
        },
    )
    # and nothing in the stack is allowed to delete evidence
    for lid, res in synth.responder["Resources"].items():
        if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role"):
            for doc in _documents(res):
                for st in doc["Statement"]:
                    if st.get("Effect") == "Allow" and st.get("Action") != "sts:AssumeRole":
                        assert not {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"} & set(
                            as_list(st["Action"])
                        ), lid


def _documents(res):
    props = res["Properties"]
    if "PolicyDocument" in props:
        yield props["PolicyDocument"]
    for p in props.get("Policies", []):
        yield p["PolicyDocument"]


def test_access_log_bucket_is_private_encrypted_and_tls_only(responder):
    responder.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": Match.object_like(
                {"BlockPublicAcls": True, "RestrictPublicBuckets": True}
            ),
            "ObjectLockEnabled": Match.absent(),
        },
    )


def test_signing_key_is_ecc_p256_sign_verify(responder):
    responder.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like({"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"}),
            "DeletionPolicy": "Retain",
        },
    )


def test_auditor_role_reads_evidence_verifies_and_decrypts_only(synth: Synth, responder):
    (role_id,) = [
        k
        for k, v in synth.resources("Parry", "AWS::IAM::Role").items()
        if v["Properties"].get("RoleName", "").startswith("parry-auditor-")
    ]
    actions = {a for st in statements_of_role(synth.responder, role_id) for a in as_list(st["Action"])}
    assert {
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:ListBucket",
        "kms:Verify",
        "kms:GetPublicKey",
        "kms:Decrypt",
    } <= actions
    writes = {a for a in actions if a.split(":")[1].startswith(("Put", "Delete", "Update", "Create", "Sign", "Bypass"))}
    assert not writes, writes


# ---- CaseStore -----------------------------------------------------------------------------------


def test_case_table_schema_encryption_recovery_and_ttl(responder):
    responder.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": Match.array_with(
                        [
                            {"AttributeName": "pk", "AttributeType": "S"},
                            {"AttributeName": "sk", "AttributeType": "S"},
                            {"AttributeName": "kind", "AttributeType": "S"},
                            {"AttributeName": "opened_at", "AttributeType": "S"},
                        ]
                    ),
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-opened",
                            "KeySchema": [
                                {"AttributeName": "kind", "KeyType": "HASH"},
                                {"AttributeName": "opened_at", "KeyType": "RANGE"},
                            ],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": Match.any_value()},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                }
            ),
            "DeletionPolicy": "Retain",
        },
    )


def test_the_local_case_table_is_the_deployed_one(synth: Synth, aws):
    """Local mode and the tests run on the table the CDK app deploys: both take it from parry.store.schema."""
    from parry.store.schema import create_table

    ddb = aws.client("dynamodb")
    create_table(ddb, "parry-cases")
    local = ddb.describe_table(TableName="parry-cases")["Table"]
    (deployed,) = [r["Properties"] for r in synth.resources("Parry", "AWS::DynamoDB::Table").values()]

    def by_name(definitions):
        return sorted(definitions, key=lambda d: d["AttributeName"])

    assert local["KeySchema"] == deployed["KeySchema"]
    assert by_name(local["AttributeDefinitions"]) == by_name(deployed["AttributeDefinitions"])
    indexes = [
        {k: index[k] for k in ("IndexName", "KeySchema", "Projection")} for index in local["GlobalSecondaryIndexes"]
    ]
    assert indexes == deployed["GlobalSecondaryIndexes"]
    assert local["BillingModeSummary"]["BillingMode"] == deployed["BillingMode"]


# ---- Notifications and kill switch ---------------------------------------------------------------


def test_topic_is_encrypted_tls_only_and_mails_each_address(responder):
    responder.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    responder.resource_count_is("AWS::SNS::Subscription", len(EMAILS))
    for email in EMAILS:
        responder.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": email})
    responder.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_alarms_of_this_account_may_publish_to_the_topic(responder):
    responder.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": "sns:Publish",
                                "Condition": Match.object_like(
                                    {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
                                ),
                            }
                        )
                    ]
                )
            }
        },
    )


def test_kill_switch_parameter_starts_off(responder):
    responder.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/parry/kill-switch", "Type": "String", "Value": "off"}
    )


def test_data_key_lets_eventbridge_and_alarms_use_it_only_from_this_account(responder):
    responder.has_resource_properties(
        "AWS::KMS::Key",
        {
            "EnableKeyRotation": True,
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
                                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                                "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                            }
                        )
                    ]
                )
            },
        },
    )


# ---- Dashboard -----------------------------------------------------------------------------------


def test_dashboard_shows_runs_failures_duration_latency_and_dlq_depth(synth: Synth):
    (dashboard,) = synth.resources("Parry", "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for metric in (
        "Runs",
        "Failures",
        "StepDuration",
        "ContainmentLatency",
        "RejectedEvents",
        "RejectedFindings",
        "Undos",
        "ApproximateNumberOfMessagesVisible",
    ):
        assert f'\\"{metric}\\"' in body, metric
    assert '\\"Parry\\"' in body and '\\"service\\",\\"parry\\"' in body
    for book in load_playbooks():
        assert f'\\"playbook\\",\\"{book.name}\\"' in body


def test_case_table_policy_refuses_writes_to_all_but_parrys_roles(synth: Synth):
    """Whatever an identity policy allows, only the runners and the maintenance function write
    cases, approvals and claims; the front door, the auditor and every person only read."""
    (table,) = synth.resources("Parry", "AWS::DynamoDB::Table").values()
    (statement,) = table["Properties"]["ResourcePolicy"]["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"} and statement["Resource"] == "*"
    assert set(statement["Action"]) == {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",  # TransactWriteItems is authorized per item as the three above
        "dynamodb:PartiQLInsert",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    }
    writers = sorted(nag_value(arn) for arn in statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"])
    role = "arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{}".format
    region = "eu-west-1"
    assert writers == sorted(
        [
            role(naming.maintenance_role_name(region)),
            *(role(naming.runner_role_name(b.name, region)) for b in load_playbooks()),
        ]
    )
    assert not any("*" in w for w in writers), "exact roles: no role someone names parry-... later is a writer"
    assert role(naming.control_plane_role_name(region)) not in writers
