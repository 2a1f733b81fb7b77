"""Posture responses: each started as the on-call's request, re-checked live, rehearsed on moto, read back, undone.

And Amazon Inspector: a finding Inspector holds routes to lambda-vulnerable-package; a forged one changes nothing.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from parry.engine.undo import undo
from parry.errors import FindingNotAuthentic
from parry.local.corrections import register_finding
from parry.playbooks.validate import load_file
from parry.routing.findings import authentic_event
from parry.store import model as cs
from tests.support.actions import lambda_zip
from tests.support.decisions import approve
from tests.support.paths import EVENTS
from tests.support.posture import SEEDED_SECRETS, TRUST
from tests.support.routing import routes

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
APPROVER = "arn:aws:iam::123456789012:role/approver"
INSPECTOR_LAMBDA = "inspector/inspector2-finding-lambda-package-vulnerability.eventbridge.json"


def book(name: str):
    return load_file(ROOT / "playbooks" / f"{name}.yaml")


def request(playbook: str, **target: str) -> dict:
    """The event the runner builds for `parry run PLAYBOOK --target ...` (parry.runtime.start_events)."""
    return {
        "version": "0",
        "id": f"req-{playbook}",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": ACCOUNT,
        "region": "us-east-1",
        "time": "2026-12-01T10:00:00Z",
        "resources": [],
        "detail": {"playbook": playbook, "reason": "sweep", **target},
    }


def statuses(case) -> dict[str, str]:
    return {s.step_id: s.status for s in case.steps}


def function(aws, name: str, *, role: str = "fn-role", environment: dict | None = None) -> str:
    iam = aws.client("iam")
    try:
        arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    kwargs = {"Environment": {"Variables": environment}} if environment else {}
    return aws.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=arn,
        Handler="index.handler",
        Code={"ZipFile": lambda_zip()},
        **kwargs,
    )["FunctionArn"]


@pytest.fixture
def no_download(monkeypatch):
    import parry.actions.evidence_compute as evidence_compute

    monkeypatch.setattr(evidence_compute, "download", lambda url, **kw: lambda_zip())  # moto's URL is not real


def assert_no_secret_value(engine, aws, case, *texts: str) -> None:
    """No seeded value in the case, the texts given, or any object of the evidence bucket."""
    s3, bucket = aws.client("s3"), engine.settings.evidence_bucket
    stored = "".join(
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode(errors="replace")
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    )
    recorded = json.dumps(engine.store.get(case.case_id).as_dict(), default=str)
    for value in SEEDED_SECRETS.values():
        assert all(value not in text for text in (stored, recorded, *texts))


def run_approved(engine, name: str, event: dict):
    held = engine.run(book(name), event, manual=True)
    assert held.status == cs.AWAITING_APPROVAL, [(s.step_id, s.status, s.error) for s in held.steps]
    approve(engine, held.case_id, who=APPROVER, reason="sweep result confirmed")
    return engine.resume(held.case_id, book(name))


def test_function_url_open_to_anyone_requires_iam_on_approval_then_undo_opens_it(engine, aws, no_download, caplog):
    lam = aws.client("lambda")
    arn = function(aws, "url-open", environment=dict(SEEDED_SECRETS))  # captured as evidence: names only
    lam.create_function_url_config(FunctionName="url-open", AuthType="NONE")

    held = engine.run(book("lambda-url-public"), request("lambda-url-public", function=arn), manual=True)
    assert held.awaiting["step"] == "require-auth"
    assert lam.get_function_url_config(FunctionName="url-open")["AuthType"] == "NONE"  # nothing before approval
    approve(engine, held.case_id, who=APPROVER)
    case = engine.resume(held.case_id, book("lambda-url-public"))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert statuses(case)["require-auth"] == "succeeded"
    assert lam.get_function_url_config(FunctionName="url-open")["AuthType"] == "AWS_IAM"
    undo(engine, case.case_id, who=APPROVER, reason="rehearsal over")
    assert lam.get_function_url_config(FunctionName="url-open")["AuthType"] == "NONE"
    assert_no_secret_value(engine, aws, case, caplog.text)


def test_a_url_fixed_since_the_sweep_is_left_alone_and_the_case_says_so(engine, aws, no_download):
    lam = aws.client("lambda")
    arn = function(aws, "url-fixed")
    lam.create_function_url_config(FunctionName="url-fixed", AuthType="NONE")
    lam.update_function_url_config(FunctionName="url-fixed", AuthType="AWS_IAM")  # the owner fixed it meanwhile

    case = engine.run(book("lambda-url-public"), request("lambda-url-public", function=arn), manual=True)

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert statuses(case) == {
        "recheck": "succeeded",
        "capture-function": "skipped",
        "require-auth": "skipped",
        "tell": "succeeded",
    }
    recheck = next(s for s in case.steps if s.step_id == "recheck").output
    assert recheck["still_failing"] is False
    assert "no longer fails" in next(s for s in case.steps if s.step_id == "tell").output["message"]


def test_public_policy_statements_are_removed_on_approval_then_put_back(engine, aws, no_download):
    lam = aws.client("lambda")
    arn = function(aws, "policy-public")
    lam.add_permission(
        FunctionName="policy-public", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )

    case = run_approved(engine, "lambda-policy-public", request("lambda-policy-public", function=arn))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_policy(FunctionName="policy-public")
    undo(engine, case.case_id, who=APPROVER, reason="rehearsal over")
    assert [s["Sid"] for s in json.loads(lam.get_policy(FunctionName="policy-public")["Policy"])["Statement"]] == [
        "anyone"
    ]


def test_an_administrator_execution_role_is_stripped_on_approval_then_restored(engine, aws, no_download):
    iam = aws.client("iam")
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    admin = iam.create_policy(PolicyName="everything", PolicyDocument=json.dumps(everything))["Policy"]["Arn"]
    arn = function(aws, "role-admin", role="fn-admin")
    iam.attach_role_policy(RoleName="fn-admin", PolicyArn=admin)

    case = run_approved(engine, "lambda-admin-role", request("lambda-admin-role", function=arn))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    assert iam.list_attached_role_policies(RoleName="fn-admin")["AttachedPolicies"] == []
    undo(engine, case.case_id, who=APPROVER, reason="rehearsal over")
    attached = iam.list_attached_role_policies(RoleName="fn-admin")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [admin]


def test_secrets_in_the_environment_are_named_to_the_on_call_never_their_values(engine, aws, caplog):
    arn = function(aws, "env-secrets", environment=dict(SEEDED_SECRETS))

    case = engine.run(book("lambda-env-secrets"), request("lambda-env-secrets", function=arn), manual=True)

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    message = next(s for s in case.steps if s.step_id == "tell").output["message"]
    assert all(name in message for name in SEEDED_SECRETS) and "Secrets Manager" in message
    assert_no_secret_value(engine, aws, case, message, caplog.text)
    fn = aws.client("lambda").get_function_configuration(FunctionName="env-secrets")
    assert fn["Environment"]["Variables"] == SEEDED_SECRETS  # nothing changed


def inspector_event(arn: str, *, severity: str = "CRITICAL") -> dict:
    """The documented Lambda finding, moved to us-east-1 with a finding id and the given severity."""
    event = json.loads((EVENTS / INSPECTOR_LAMBDA).read_text())
    event = copy.deepcopy(event)
    event["region"] = "us-east-1"
    detail = event["detail"]
    detail["findingArn"] = f"arn:aws:inspector2:us-east-1:{ACCOUNT}:finding/0123456789abcdef0123456789abcdef"
    detail["severity"] = severity
    resource = detail["resources"][0]
    resource["id"], resource["region"] = arn, "us-east-1"
    resource["details"]["awsLambdaFunction"]["functionName"] = arn.rsplit(":", 1)[1]
    event["resources"] = [arn]
    return event


def test_the_documented_inspector_findings_route_nowhere_as_they_are():
    """HIGH (the Lambda sample) is the patch backlog, and EC2 findings are patching, not containment."""
    assert routes(json.loads((EVENTS / INSPECTOR_LAMBDA).read_text())) == set()
    ec2 = "inspector/inspector2-finding-ec2-package-vulnerability-eu-central-1.eventbridge.json"
    assert routes(json.loads((EVENTS / ec2).read_text())) == set()


def test_a_critical_inspector_finding_with_an_exploit_notifies_tags_and_quarantines_on_approval(
    engine, aws, no_download
):
    arn = function(aws, "VulnerableFunction")
    event = inspector_event(arn)
    assert routes(event) == {"lambda-vulnerable-package"}
    register_finding(aws, event)

    case = run_approved(engine, "lambda-vulnerable-package", authentic_event(event, aws))

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.error) for s in case.steps]
    told = next(s for s in case.steps if s.step_id == "tell-cve").output["message"]
    assert "CVE-2023-30861" in told and "2.3.2" in told
    lam = aws.client("lambda")
    assert lam.list_tags(Resource=arn)["Tags"]["parry:vulnerable"] == "CVE-2023-30861"
    assert lam.get_function_concurrency(FunctionName="VulnerableFunction")["ReservedConcurrentExecutions"] == 0
    undo(engine, case.case_id, who=APPROVER, reason="patched")
    assert "parry:vulnerable" not in lam.list_tags(Resource=arn).get("Tags", {})
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="VulnerableFunction")


def test_a_forged_inspector_finding_is_refused_and_changes_nothing(engine, aws):
    arn = function(aws, "VulnerableFunction")
    forged = inspector_event(arn)  # never registered: Inspector does not hold it

    with pytest.raises(FindingNotAuthentic, match="Inspector holds no finding"):
        authentic_event(forged, aws)
    register_finding(aws, inspector_event(function(aws, "OtherFunction")))
    with pytest.raises(FindingNotAuthentic, match="differs from what Inspector holds"):
        authentic_event(forged, aws)  # same finding ARN, another function named
    assert "parry:vulnerable" not in aws.client("lambda").list_tags(Resource=arn).get("Tags", {})
