"""The front door as synthesized: IAM-authenticated URL, a resource policy naming only the configured
roles, a role that can seal, read cases and invoke runners and nothing else, and alarms on refusals."""

from __future__ import annotations

from typing import Any

import pytest

from stacks import naming
from stacks.asset import CONTROL_HANDLER
from stacks.nag import nag_value
from tests.support.synth import APPROVER_ROLES, ON_CALL_ROLES, Synth, load_playbooks
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

REGION = "eu-west-1"
PLAYBOOKS = sorted(b.name for b in load_playbooks())


def _function(synth: Synth) -> tuple[str, dict[str, Any]]:
    lid = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.CONTROL_PLANE_FUNCTION)
    return lid, synth.responder["Resources"][lid]["Properties"]


def _permissions(synth: Synth) -> list[dict[str, Any]]:
    fn_id, _ = _function(synth)
    return [
        p["Properties"]
        for p in synth.resources("Parry", "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]


def test_the_front_door_is_a_function_url_with_aws_iam_auth_and_an_output(synth: Synth):
    fn_id, _ = _function(synth)
    (url,) = synth.resources("Parry", "AWS::Lambda::Url").values()
    assert url["Properties"] == {"AuthType": "AWS_IAM", "TargetFunctionArn": {"Fn::GetAtt": [fn_id, "Arn"]}}
    (url_id,) = synth.resources("Parry", "AWS::Lambda::Url")
    assert synth.responder["Outputs"]["ControlPlaneUrl"]["Value"] == {"Fn::GetAtt": [url_id, "FunctionUrl"]}


def test_its_resource_policy_admits_exactly_the_configured_roles_through_the_url_only(synth: Synth):
    permissions = _permissions(synth)
    admitted = set(ON_CALL_ROLES) | set(APPROVER_ROLES)
    url_invokes = [p for p in permissions if p["Action"] == "lambda:InvokeFunctionUrl"]
    invokes = [p for p in permissions if p["Action"] == "lambda:InvokeFunction"]
    assert len(url_invokes) + len(invokes) == len(permissions), "no other action is granted"
    # each role once, with both permissions a function URL needs, each with its condition
    assert sorted(p["Principal"] for p in url_invokes) == sorted(admitted)
    assert sorted(p["Principal"] for p in invokes) == sorted(admitted)
    assert all(p["FunctionUrlAuthType"] == "AWS_IAM" for p in url_invokes)
    assert all(p["InvokedViaFunctionUrl"] is True for p in invokes)
    for p in permissions:  # no account, service, organization or source widens the principal
        assert not {"SourceArn", "SourceAccount", "PrincipalOrgID"} & set(p), p


def test_with_no_roles_configured_the_front_door_admits_nobody_and_synth_says_so():
    """The construct alone in a stack of its own (a whole app's synth is the session's one)."""
    from aws_cdk import App, Stack
    from aws_cdk.assertions import Annotations, Match, Template

    from stacks.constructs import ControlPlane

    stack = Stack(App(), "FrontDoorOnly")
    ControlPlane(
        stack,
        "ControlPlane",
        function_name=naming.CONTROL_PLANE_FUNCTION,
        role_name="Parry-ControlPlane-test",
        handler=CONTROL_HANDLER,
        code_bucket="bucket",
        code_key="key.zip",
        layers=[],
        environment={},
        permissions=[],
        on_call_roles=(),
        approver_roles=(),
        log_retention_days=365,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::Permission", 0)
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM"})
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("front door admits nobody"))


def test_function_runs_the_control_handler_from_the_shared_asset_with_its_settings(synth: Synth):
    _, props = _function(synth)
    runner = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.function_name(PLAYBOOKS[0]))
    assert props["Handler"] == CONTROL_HANDLER == "control.handler.handler"
    assert props["Code"] == synth.responder["Resources"][runner]["Properties"]["Code"], "one asset for all"
    assert props["Runtime"] == "python3.13" and props["TracingConfig"] == {"Mode": "Active"}
    assert props["Timeout"] > 300, "it waits for a runner (300 s) to answer"
    env = props["Environment"]["Variables"]
    (key_id,) = [
        k for k, v in synth.resources("Parry", "AWS::KMS::Key").items() if "requests" in v["Properties"]["Description"]
    ]
    assert env["PARRY_REQUEST_KEY_ID"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert env["PARRY_ONCALL_ROLES"] == ",".join(ON_CALL_ROLES)
    assert env["PARRY_APPROVER_ROLES"] == ",".join(APPROVER_ROLES)
    (table_id,) = synth.resources("Parry", "AWS::DynamoDB::Table")
    assert env["PARRY_CASES_TABLE"] == {"Ref": table_id}
    assert "PARRY_CONTINUATION_KEY_ID" not in env, "the front door cannot seal a continuation"


def test_its_role_seals_reads_cases_and_invokes_the_runners_and_nothing_else(synth: Synth):
    _, props = _function(synth)
    role_id = props["Role"]["Fn::GetAtt"][0]
    role = synth.responder["Resources"][role_id]["Properties"]
    assert role["RoleName"] == naming.control_plane_role_name(REGION)
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    statements = statements_of_role(synth.responder, role_id)
    assert all(st["Effect"] == "Allow" for st in statements)
    granted = {a: st["Resource"] for st in statements for a in as_list(st["Action"])}
    assert set(granted) == {
        "kms:GenerateMac",
        "lambda:InvokeFunction",
        "dynamodb:GetItem",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    (key_id,) = [
        k for k, v in synth.resources("Parry", "AWS::KMS::Key").items() if "requests" in v["Properties"]["Description"]
    ]
    assert granted["kms:GenerateMac"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (table_id,) = synth.resources("Parry", "AWS::DynamoDB::Table")
    assert granted["dynamodb:GetItem"] == {"Fn::GetAtt": [table_id, "Arn"]}
    assert sorted(nag_value(r) for r in granted["lambda:InvokeFunction"]) == sorted(
        f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{naming.function_name(p)}"
        for p in PLAYBOOKS
    )
    # within the guardrails' own-resource patterns
    assert naming.CONTROL_PLANE_FUNCTION.startswith("Parry") and role["RoleName"].startswith("Parry")


def test_its_log_group_is_kept_with_retention(synth: Synth):
    lid = logical_id(
        synth.responder, "AWS::Logs::LogGroup", LogGroupName=f"/aws/lambda/{naming.CONTROL_PLANE_FUNCTION}"
    )
    group = synth.responder["Resources"][lid]
    assert group["Properties"]["RetentionInDays"] == 365 and group["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("emitter", ["control-plane", *PLAYBOOKS])
def test_every_security_rejection_alarms_the_topic(synth: Synth, emitter: str):
    (topic_id,) = synth.resources("Parry", "AWS::SNS::Topic")
    alarms = [
        a["Properties"]
        for a in synth.resources("Parry", "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "SecurityRejections"
        and {"Name": "playbook", "Value": emitter} in a["Properties"]["Dimensions"]
    ]
    (alarm,) = alarms
    assert alarm["Namespace"] == "Parry"
    assert sorted(d["Name"] for d in alarm["Dimensions"]) == ["playbook", "service"]
    assert {"Name": "service", "Value": "parry"} in alarm["Dimensions"]
    assert alarm["Statistic"] == "Sum" and alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_the_dashboard_graphs_security_rejections_of_runners_and_front_door(synth: Synth):
    import json

    (dashboard,) = synth.resources("Parry", "AWS::CloudWatch::Dashboard").values()
    body = json.loads(
        "".join(
            p if isinstance(p, str) else "eu-west-1" for p in dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
        )
    )
    (graph,) = [w for w in body["widgets"] if w["properties"]["title"].startswith("Security rejections")]
    emitters = sorted(line[3] for line in graph["properties"]["metrics"])
    assert all(line[1] == "SecurityRejections" for line in graph["properties"]["metrics"])
    assert emitters == sorted(["control-plane", *PLAYBOOKS])
