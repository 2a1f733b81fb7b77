"""The scheduled posture sweep: EventBridge Scheduler invokes it, and its role reads and writes only
Parry's own Security Hub findings (least privilege, no wildcard action, no write to any resource)."""

from __future__ import annotations

import pytest

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import EXTERNAL_ID, MEMBER_ACCOUNTS, ORGANIZATION_ID, SECURITY_ACCOUNT, Synth, load_playbooks
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

WRITES = {"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"}
RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# its notice on Parry's topic, and entering member accounts (each checked on its own below)
NOTICE_AND_MEMBERS = {"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt", "sts:AssumeRole"}


def _function(synth: Synth) -> tuple[str, dict]:
    lid = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.POSTURE_SWEEP_FUNCTION)
    return lid, synth.responder["Resources"][lid]["Properties"]


def test_the_scheduler_invokes_the_sweep_from_the_runners_asset(synth: Synth):
    fn_id, fn = _function(synth)
    assert fn["Handler"] == "posture_sweep.handler" and fn["Runtime"] == "python3.13"
    (schedule,) = [s["Properties"] for s in synth.resources("Parry", "AWS::Scheduler::Schedule").values()]
    assert schedule["ScheduleExpression"] == "rate(6 hours)" and schedule["State"] == "ENABLED"
    assert schedule["Target"]["Arn"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    role_id = schedule["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = synth.responder["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"} and "aws:SourceAccount" in str(trust)
    assert statements_of_role(synth.responder, role_id) == [
        {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": {"Fn::GetAtt": [fn_id, "Arn"]}}
    ]


def test_the_sweeps_role_reads_and_writes_only_parrys_findings(synth: Synth):
    _, fn = _function(synth)
    role_id = fn["Role"]["Fn::GetAtt"][0]
    allowed = statements_of_role(synth.responder, role_id)
    assert all(st["Effect"] == "Allow" for st in allowed)
    for st in allowed:
        for action in as_list(st["Action"]):
            assert "*" not in action, action
            verb = action.split(":")[1]
            assert action in WRITES | RUNTIME | NOTICE_AND_MEMBERS or verb.startswith(("Get", "List")), action
            if "*" in as_list(st["Resource"]):
                assert verb.startswith("List") or action in RUNTIME, action
    writes = {a: st["Resource"] for st in allowed for a in as_list(st["Action"]) if a in WRITES}
    assert set(writes) == WRITES
    assert all(
        nag_value(r).endswith(":product/<AWS::AccountId>/default") for r in writes["securityhub:BatchImportFindings"]
    )
    assert all(nag_value(r).endswith(":hub/default") for r in writes["securityhub:BatchUpdateFindings"])
    granted = {a for st in allowed for a in as_list(st["Action"])}
    assert {"lambda:ListFunctions", "lambda:GetPolicy", "iam:GetRolePolicy", "securityhub:GetFindings"} <= granted
    assert not {"lambda:UpdateFunctionConfiguration", "lambda:GetFunction", "iam:PassRole"} & granted


REGIONS = ["eu-west-1", "us-east-1", "eu-central-1"]  # parry:regions of the test context, home first
# exactly what parry/posture/reader.py calls, and findings.py in the account's own Security Hub
SWEEP_READS = {
    "lambda:ListFunctions",
    "lambda:ListEventSourceMappings",
    "lambda:ListLayers",
    "lambda:ListLayerVersions",
    "lambda:GetPolicy",
    "lambda:GetFunctionUrlConfig",
    "lambda:ListAliases",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:GetLayerVersionPolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "securityhub:GetFindings",
}


def _member_sweep_role(synth: Synth) -> dict:
    role_id = logical_id(synth.member, "AWS::IAM::Role", RoleName=naming.MEMBER_SWEEP_ROLE)
    return synth.member["Resources"][role_id]["Properties"]


def _by_action(statements: list[dict]) -> dict[str, list[str]]:
    return {a: [nag_value(r) for r in as_list(st["Resource"])] for st in statements for a in as_list(st["Action"])}


def test_the_member_sweep_role_trusts_only_the_sweeps_role_in_the_security_account(synth: Synth):
    role = _member_sweep_role(synth)
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert nag_value(trust["Principal"]["AWS"]) == f"arn:<AWS::Partition>:iam::{SECURITY_ACCOUNT}:root"
    sweep_role = f"arn:<AWS::Partition>:iam::{SECURITY_ACCOUNT}:role/{naming.posture_sweep_role_name('eu-west-1')}"
    assert nag_value(trust["Condition"]["ArnEquals"]["aws:PrincipalArn"]) == sweep_role
    assert trust["Condition"]["StringEquals"] == {"aws:PrincipalOrgID": ORGANIZATION_ID, "sts:ExternalId": EXTERNAL_ID}
    assert role["MaxSessionDuration"] == 3600 and not role.get("ManagedPolicyArns")
    assert naming.MEMBER_SWEEP_ROLE not in {naming.member_role_name(b.name) for b in load_playbooks()}


def test_the_member_sweep_role_reads_what_the_sweep_reads_and_writes_only_parrys_findings(synth: Synth):
    (policy,) = _member_sweep_role(synth)["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    assert all(st["Effect"] == "Allow" and "Condition" not in st for st in statements)
    granted = _by_action(statements)
    assert set(granted) == SWEEP_READS | WRITES
    for action, resources in granted.items():
        assert "*" not in action.split(":")[1], action
        if resources == ["*"]:  # only the listings with no resource-level permissions
            assert action.split(":")[1].startswith("List") and action.startswith("lambda:"), action
    own = "<AWS::AccountId>"
    assert granted["lambda:GetPolicy"] == [f"arn:<AWS::Partition>:lambda:{r}:{own}:function:*" for r in REGIONS]
    assert granted["lambda:GetLayerVersionPolicy"] == [
        f"arn:<AWS::Partition>:lambda:{r}:{own}:layer:*:*" for r in REGIONS
    ]
    assert granted["iam:GetRolePolicy"] == [f"arn:<AWS::Partition>:iam::{own}:role/*"]
    assert granted["securityhub:BatchImportFindings"] == [
        f"arn:<AWS::Partition>:securityhub:{r}:{own}:product/{own}/default" for r in REGIONS
    ]
    assert granted["securityhub:BatchUpdateFindings"] == [
        f"arn:<AWS::Partition>:securityhub:{r}:{own}:hub/default" for r in REGIONS
    ]


def test_the_sweep_may_assume_only_the_member_sweep_role_of_the_configured_member_accounts(synth: Synth):
    _, fn = _function(synth)
    allowed = statements_of_role(synth.responder, fn["Role"]["Fn::GetAtt"][0])
    granted = _by_action(allowed)
    assert granted["sts:AssumeRole"] == [
        f"arn:<AWS::Partition>:iam::{account}:role/{naming.MEMBER_SWEEP_ROLE}" for account in MEMBER_ACCOUNTS
    ]
    env = fn["Environment"]["Variables"]
    assert nag_value(env["PARRY_SWEEP_ACCOUNTS"]) == ",".join(["<AWS::AccountId>", *MEMBER_ACCOUNTS])
    assert env["PARRY_SWEEP_ROLE_NAME"] == naming.MEMBER_SWEEP_ROLE and env["PARRY_MEMBER_EXTERNAL_ID"] == EXTERNAL_ID
    assert env["PARRY_REGIONS"] == ",".join(REGIONS)


def test_the_sweep_publishes_on_parrys_topic_only_and_the_topic_admits_it(synth: Synth):
    _, fn = _function(synth)
    granted = _by_action(statements_of_role(synth.responder, fn["Role"]["Fn::GetAtt"][0]))
    (topic_id,) = synth.resources("Parry", "AWS::SNS::Topic")
    (key_id,) = [
        lid
        for lid, key in synth.resources("Parry", "AWS::KMS::Key").items()
        if "notifications" in key["Properties"].get("Description", "")
    ]
    assert granted["sns:Publish"] == [f"<{topic_id}>"]
    assert granted["kms:GenerateDataKey"] == granted["kms:Decrypt"] == [f"<{key_id}.Arn>"]
    env = fn["Environment"]["Variables"]
    assert env["PARRY_TOPIC_ARN"] == {"Ref": topic_id}
    (policy,) = [p["Properties"] for p in synth.resources("Parry", "AWS::SNS::TopicPolicy").values()]
    (deny,) = [st for st in policy["PolicyDocument"]["Statement"] if st.get("Sid") == "DenyPublishButParrysRoles"]
    admitted = {nag_value(arn) for arn in deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]}
    assert f"arn:<AWS::Partition>:iam::<AWS::AccountId>:role/{naming.posture_sweep_role_name('eu-west-1')}" in admitted
