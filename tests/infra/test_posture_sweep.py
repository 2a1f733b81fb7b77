"""The scheduled posture sweep: EventBridge Scheduler invokes it, and its role reads and writes only
Parry's own Security Hub findings (least privilege, no wildcard action, no write to any resource)."""

from __future__ import annotations

import pytest

from stacks import naming
from stacks.nag import nag_value
from tests.support.synth import Synth
from tests.support.templates import as_list, logical_id, statements_of_role

pytestmark = pytest.mark.xdist_group("synth")

WRITES = {"securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings"}
RUNTIME = {"logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"}


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
            assert action in WRITES | RUNTIME or verb.startswith(("Get", "List")), action
            if "*" in as_list(st["Resource"]):
                assert verb.startswith("List") or action in RUNTIME, action
    writes = {a: st["Resource"] for st in allowed for a in as_list(st["Action"]) if a in WRITES}
    assert set(writes) == WRITES
    assert nag_value(writes["securityhub:BatchImportFindings"]).endswith(":product/<AWS::AccountId>/default")
    assert nag_value(writes["securityhub:BatchUpdateFindings"]).endswith(":hub/default")
    granted = {a for st in allowed for a in as_list(st["Action"])}
    assert {"lambda:ListFunctions", "lambda:GetPolicy", "iam:GetRolePolicy", "securityhub:GetFindings"} <= granted
    assert not {"lambda:UpdateFunctionConfiguration", "lambda:GetFunction", "iam:PassRole"} & granted
