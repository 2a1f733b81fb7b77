"""A capture that could not take what it lists is PARTIAL, not succeeded: in the case, `parry cases show`,
the HTML report and the on-call's notification; the containment after it still runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parry.evidence.report import load_case, render_html
from parry.evidence.sources import S3Source
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.actions import lambda_zip
from tests.support.cli import parry
from tests.support.findings import registered
from tests.support.members import on_call_messages
from tests.support.routing import load

ROOT = Path(__file__).resolve().parents[2]
MISSING = "code.zip not stored: code package not downloaded: connection reset"


@pytest.fixture
def public_function(aws, monkeypatch):
    """A function anyone may invoke, whose code package cannot be downloaded."""
    import parry.actions.evidence_compute as evidence_compute

    def unreachable(url, **kw):
        raise OSError("connection reset")

    monkeypatch.setattr(evidence_compute, "download", unreachable)
    role = aws.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = aws.client("lambda")
    lam.create_function(
        FunctionName="my-lambda-function", Runtime="python3.11", Role=role, Handler="index.handler",
        Code={"ZipFile": lambda_zip()},
    )  # fmt: skip
    lam.add_permission(
        FunctionName="my-lambda-function", StatementId="open", Action="lambda:InvokeFunction", Principal="*"
    )
    event = load("cloudtrail/lambda-addpermission.bare.json")
    event["account"], event["region"] = "123456789012", "us-east-1"
    event["detail"].update(recipientAccountId="123456789012", awsRegion="us-east-1")
    event["detail"]["requestParameters"].update(principal="*", statementId="open", action="lambda:InvokeFunction")
    return registered(aws, event)  # the call as CloudTrail recorded it


def test_a_capture_missing_its_code_package_is_partial_and_the_case_is_not_succeeded(
    engine, aws, parry_env, public_function, capsys
):
    told = on_call_messages(aws, parry_env["PARRY_TOPIC_ARN"])

    case = engine.run(load_file(ROOT / "playbooks" / "lambda-made-public.yaml"), public_function)

    capture = next(s for s in case.steps if s.step_id == "capture-function")
    assert capture.status == "partial" and capture.unmet == [MISSING]
    assert case.status == cs.COMPLETED_WITH_ERRORS
    with pytest.raises(aws.client("lambda").exceptions.ResourceNotFoundException):  # contained all the same
        aws.client("lambda").get_policy(FunctionName="my-lambda-function")

    code, shown, _ = parry(capsys, "cases", "show", case.case_id)
    assert code == 0 and "partial" in shown and MISSING in shown
    code, out, _ = parry(capsys, "cases", "show", case.case_id, "--json")
    assert next(s for s in json.loads(out)["steps"] if s["step_id"] == "capture-function")["unmet"] == [MISSING]

    page = render_html(
        load_case(S3Source(aws.client("s3"), parry_env["PARRY_EVIDENCE_BUCKET"], case.evidence_prefix)), None
    )
    assert "<span class='tag partial'>partial</span>" in page and f"<li>{MISSING}</li>" in page

    notices = told()
    assert any(case.case_id in m and MISSING in m and "took only part of its evidence" in m for m in notices)
    # the playbook's own summary names the step as partial too
    assert any("capture-function: partial" in m for m in notices)
