"""The scheduled maintenance function: closes expired approvals and re-drives stuck cases every 15
minutes, with a role that keeps cases, seals continuations and invokes exactly the runners."""

from __future__ import annotations

import pytest

from parry.engine.permissions import ENGINE_PERMISSIONS, MAINTENANCE_PERMISSIONS
from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import Synth
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")


def _function(synth: Synth) -> tuple[str, dict]:
    lid = logical_id(synth.responder, "AWS::Lambda::Function", FunctionName=naming.MAINTENANCE_FUNCTION)
    return lid, synth.responder["Resources"][lid]["Properties"]


def test_runs_the_sweep_from_the_runners_asset_every_15_minutes(synth: Synth):
    fn_id, fn = _function(synth)
    assert fn["Handler"] == "maintenance.handler" and fn["Runtime"] == "python3.13" and fn["Architectures"] == ["arm64"]
    runners = [
        f["Properties"]
        for f in synth.resources("Parry", "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "handler.handler"
    ]
    assert runners and all(r["Code"] == fn["Code"] for r in runners), "one asset for runners and maintenance"
    env = fn["Environment"]["Variables"]
    assert {"PARRY_EVIDENCE_BUCKET", "PARRY_CASES_TABLE", "PARRY_TOPIC_ARN", "PARRY_SIGNING_KEY_ID"} <= set(env)
    (rule,) = [
        r["Properties"]
        for r in synth.resources("Parry", "AWS::Events::Rule").values()
        if r["Properties"]["Name"] == naming.MAINTENANCE_FUNCTION
    ]
    assert rule["ScheduleExpression"] == "rate(15 minutes)" and rule["State"] == "ENABLED"
    assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [fn_id, "Arn"]}]
    (permission,) = [
        p["Properties"]
        for p in synth.resources("Parry", "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [fn_id, "Arn"]}
    ]
    assert nag_value(permission["SourceArn"]).endswith(f":rule/{naming.MAINTENANCE_FUNCTION}")


def test_role_keeps_cases_and_asks_runners_to_continue_them_and_nothing_else(synth: Synth):
    _, fn = _function(synth)
    role_id = fn["Role"]["Fn::GetAtt"][0]
    role = synth.responder["Resources"][role_id]["Properties"]
    assert role["RoleName"].startswith("Parry-Maintenance")  # within the guardrails' own-resource patterns
    allowed = [st for st in statements_of_role(synth.responder, role_id) if st["Effect"] == "Allow"]
    granted = {a for st in allowed for a in as_list(st["Action"])}
    keeping = {a for p in MAINTENANCE_PERMISSIONS for a in p.actions}
    runtime = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    assert granted == keeping | runtime | {"lambda:InvokeFunction", "kms:GenerateMac"}
    engine_only = {a for p in ENGINE_PERMISSIONS for a in p.actions} - keeping - {"lambda:InvokeFunction"}
    assert engine_only and not engine_only & granted, "no kill switch, no account's resources"

    (invoke,) = [st for st in allowed if "lambda:InvokeFunction" in as_list(st["Action"])]
    runners = sorted(
        f["Properties"]["FunctionName"]
        for f in synth.resources("Parry", "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "handler.handler"
    )
    assert runners
    assert sorted(nag_value(r) for r in as_list(invoke["Resource"])) == [
        f"arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:{name}" for name in runners
    ], "exactly the runners, by name: no wildcard"
    (mac,) = [st for st in allowed if "kms:GenerateMac" in as_list(st["Action"])]
    assert as_list(mac["Action"]) == ["kms:GenerateMac"] and "ContinuationKey" in mac["Resource"]["Fn::GetAtt"][0]
    assert fn["Environment"]["Variables"]["PARRY_CONTINUATION_KEY_ID"] == mac["Resource"]


def test_its_logs_outlive_the_stack(synth: Synth):
    lid = logical_id(synth.responder, "AWS::Logs::LogGroup", LogGroupName=f"/aws/lambda/{naming.MAINTENANCE_FUNCTION}")
    assert synth.responder["Resources"][lid]["DeletionPolicy"] == "Retain"
