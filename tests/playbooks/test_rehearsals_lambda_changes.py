"""Rehearsals of the CloudTrail change detections for Lambda on moto: each effect read back, then undone.

Each event is recorded in the local CloudTrail history first (Parry re-reads every CloudTrail event
there before acting). UpdateFunctionCode and AttachRolePolicy are the real fixtures; the
CreateFunctionUrlConfig, CreateEventSourceMapping and AddLayerVersionPermission records are built in
the shape CloudTrail documents for Lambda (camelCase request parameters, the eventName with its API
version), no published record being found.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest

from parry.engine.undo import undo
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.actions import lambda_zip
from tests.support.cli import parry
from tests.support.decisions import approve
from tests.support.findings import registered
from tests.support.iam_policies import ADMIN, aws_managed_policy
from tests.support.lambda_changes import ACCOUNT, OTHER, function, in_sandbox, lambda_call, mapping_call, public_layer
from tests.support.posture import SEEDED_SECRETS

APPROVER = "arn:aws:iam::123456789012:role/approver"
CALLER = "arn:aws:iam::123456789012:user/john.developer"


def book(name: str):
    return load_file(f"playbooks/{name}.yaml")


def statuses(case) -> dict[str, str]:
    return {s.step_id: s.status for s in case.steps}


def run_until_approval(engine, name: str, event: dict, step: str):
    held = engine.run(book(name), registered(engine.aws, event))
    assert held.status == cs.AWAITING_APPROVAL, [(s.step_id, s.status, s.error) for s in held.steps]
    assert held.awaiting["step"] == step
    return held


def approved(engine, name: str, held):
    approve(engine, held.case_id, who=APPROVER, reason="confirmed with the owner")
    case = engine.resume(held.case_id, book(name))
    assert case.status == cs.SUCCEEDED, [(s.step_id, s.status, s.error) for s in case.steps]
    return case


def evidence_text(engine, aws) -> str:
    s3, bucket = aws.client("s3"), engine.settings.evidence_bucket
    return "".join(
        s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode(errors="replace")
        for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    )


@pytest.fixture
def no_download(monkeypatch):
    import parry.actions.evidence_compute as evidence_compute

    monkeypatch.setattr(evidence_compute, "download", lambda url, **kw: lambda_zip())  # moto's URL is not real


# ---- 1. a function URL opened to anyone -------------------------------------------------------------


@pytest.mark.parametrize("call", ["CreateFunctionUrlConfig", "UpdateFunctionUrlConfig"])
def test_a_url_opened_to_anyone_requires_iam_on_approval_and_undo_opens_it(engine, aws, no_download, call):
    lam = aws.client("lambda")
    arn = function(aws, "orders")
    url = lam.create_function_url_config(FunctionName="orders", AuthType="NONE")["FunctionUrl"]
    response = {"functionUrl": url, "functionArn": arn, "authType": "NONE"}
    event = lambda_call(call, {"functionName": "orders", "authType": "NONE"}, response, f"url-{call}")

    held = run_until_approval(engine, "lambda-url-made-public", event, "require-auth")

    assert statuses(held)["capture-function"] == statuses(held)["tell"] == "succeeded"
    assert lam.get_function_url_config(FunctionName="orders")["AuthType"] == "NONE"  # nothing before approval
    case = approved(engine, "lambda-url-made-public", held)
    assert lam.get_function_url_config(FunctionName="orders")["AuthType"] == "AWS_IAM"

    assert undo(engine, case.case_id, who=APPROVER, reason="the URL is public by design").status == cs.UNDONE
    assert lam.get_function_url_config(FunctionName="orders")["AuthType"] == "NONE"


# ---- 2. code or configuration changed outside the pipeline ------------------------------------------


def other_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return 'exfiltrate'\n")
    return buf.getvalue()


def test_a_change_outside_the_pipeline_is_captured_before_and_after_and_quarantined_on_approval(engine, aws, caplog):
    lam = aws.client("lambda")
    function(aws, "production-api", environment={"STAGE": "prod", **SEEDED_SECRETS})
    before = lam.publish_version(FunctionName="production-api")  # what the pipeline deployed
    lam.update_function_code(FunctionName="production-api", ZipFile=other_zip())  # the call the fixture records
    changed = {**SEEDED_SECRETS, "STAGE": "debug", "EXFIL_URL": "https://attacker.example"}
    lam.update_function_configuration(FunctionName="production-api", Environment={"Variables": changed})
    event = in_sandbox("cloudtrail/lambda-updatefunctioncode.bare.json")

    held = run_until_approval(engine, "lambda-changed-outside-pipeline", event, "quarantine-function")

    seen = {s.step_id: s for s in held.steps}["capture-versions"]
    assert seen.status == "succeeded" and statuses(held)["tell"] == "succeeded"
    assert seen.before["previous_version"] == before["Version"]
    assert seen.before["previous"]["configuration"]["CodeSha256"] == before["CodeSha256"]
    latest = lam.get_function(FunctionName="production-api")["Configuration"]["CodeSha256"]
    assert seen.before["latest"]["configuration"]["CodeSha256"] == latest != before["CodeSha256"]
    assert {"CodeSha256", "EnvironmentVariableNames"} <= set(seen.before["changed"])
    assert seen.before["environment_values_changed"] == ["STAGE"]  # named, not shown
    told = {s.step_id: s for s in held.steps}["tell"].output["message"]
    assert "Changed since the previous version: CodeSha256, CodeSize, EnvironmentVariableNames" in told
    stored = evidence_text(engine, aws) + json.dumps(engine.store.get(held.case_id).as_dict(), default=str)
    assert "function-versions.json" in json.dumps(seen.output)
    for value in (*SEEDED_SECRETS.values(), "https://attacker.example", "debug"):
        assert value not in stored and value not in caplog.text
    assert "Location" not in json.dumps(seen.before["latest"]["code"])  # the pre-signed URL is never kept
    assert lam.get_function_concurrency(FunctionName="production-api").get("ReservedConcurrentExecutions") is None

    case = approved(engine, "lambda-changed-outside-pipeline", held)
    assert lam.get_function_concurrency(FunctionName="production-api")["ReservedConcurrentExecutions"] == 0

    undo(engine, case.case_id, who=APPROVER, reason="the change was an approved hotfix")
    assert lam.get_function_concurrency(FunctionName="production-api").get("ReservedConcurrentExecutions") is None


def test_a_function_that_never_published_a_version_has_no_previous_one_recorded(engine, aws):
    function(aws, "production-api")
    event = in_sandbox("cloudtrail/lambda-updatefunctioncode.bare.json")

    held = run_until_approval(engine, "lambda-changed-outside-pipeline", event, "quarantine-function")

    seen = {s.step_id: s for s in held.steps}["capture-versions"]
    assert seen.before["previous"] is None and seen.before["changed"] == []


# ---- 3. an administrator policy onto a Lambda execution role ----------------------------------------


def test_admin_attached_to_a_lambda_execution_role_is_detached_by_iam_admin_policy_attached(engine, aws):
    aws_managed_policy(ACCOUNT, ADMIN)
    iam = aws.client("iam")
    function(aws, "worker", role="new-role")  # the fixture's role, trusted by lambda.amazonaws.com
    iam.attach_role_policy(RoleName="new-role", PolicyArn=ADMIN)
    event = registered(aws, in_sandbox("cloudtrail/iam-attachrolepolicy-administratoraccess.bare.json"))

    case = engine.run(book("iam-admin-policy-attached"), event)

    assert case.status == cs.SUCCEEDED, [(s.step_id, s.status, s.error) for s in case.steps]
    assert iam.list_attached_role_policies(RoleName="new-role")["AttachedPolicies"] == []
    role_arn = aws.client("lambda").get_function(FunctionName="worker")["Configuration"]["Role"]
    assert role_arn.endswith(":role/new-role")  # the function keeps its role, without the grant


# ---- 4. an event source mapping from another account ------------------------------------------------


def mapping_state(aws, uuid: str) -> str:
    return aws.client("lambda").get_event_source_mapping(UUID=uuid)["State"]


def test_a_mapping_from_another_accounts_queue_is_disabled_on_approval_and_undo_enables_it(
    engine, aws, no_download, capsys, tmp_path
):
    uuid, event = mapping_call(aws, OTHER)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(registered(aws, event)))
    code, planned, err = parry(capsys, "plan", "lambda-foreign-event-source", "--event", str(path))
    assert code == 0, err
    assert f"lambda:UpdateEventSourceMapping(UUID='{uuid}', Enabled=False)" in planned

    held = run_until_approval(engine, "lambda-foreign-event-source", event, "disable-mapping")

    assert statuses(held)["capture-function"] == statuses(held)["tell"] == "succeeded"
    assert mapping_state(aws, uuid) == "Enabled"
    case = approved(engine, "lambda-foreign-event-source", held)
    assert mapping_state(aws, uuid) == "Disabled"

    undo(engine, case.case_id, who=APPROVER, reason="a partner's queue, agreed")
    assert mapping_state(aws, uuid) == "Enabled"


def test_a_mapping_from_the_accounts_own_queue_runs_no_step(engine, aws):
    uuid, event = mapping_call(aws, ACCOUNT)

    case = engine.run(book("lambda-foreign-event-source"), registered(aws, event))

    assert set(statuses(case).values()) == {"skipped"}
    assert mapping_state(aws, uuid) == "Enabled"


# ---- 5. a layer version shared with everyone --------------------------------------------------------


def layer_sids(aws) -> list[str]:
    policy = aws.client("lambda").get_layer_version_policy(LayerName="shared-libs", VersionNumber=1)["Policy"]
    return sorted(s["Sid"] for s in json.loads(policy)["Statement"])


def test_a_layer_version_shared_with_everyone_is_unshared_on_approval_and_undo_shares_it(engine, aws, capsys, tmp_path):
    event = public_layer(aws)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(registered(aws, event)))
    code, planned, err = parry(capsys, "plan", "lambda-layer-made-public", "--event", str(path))
    assert code == 0, err
    assert (
        "lambda:RemoveLayerVersionPermission(LayerName='shared-libs', VersionNumber=1, StatementId='everyone')"
        in planned
    )

    held = run_until_approval(engine, "lambda-layer-made-public", event, "unshare-layer")

    assert statuses(held)["capture-layer"] == statuses(held)["tell"] == "succeeded"
    assert "Location" not in evidence_text(engine, aws)  # the code's pre-signed URL is never kept
    assert layer_sids(aws) == ["everyone", "partner"]
    case = approved(engine, "lambda-layer-made-public", held)
    assert layer_sids(aws) == ["partner"]  # the one statement the call added, nothing else

    undo(engine, case.case_id, who=APPROVER, reason="a public layer by design")
    assert layer_sids(aws) == ["everyone", "partner"]


def test_a_layer_statement_replaced_since_by_a_named_account_is_left_alone(engine, aws):
    event = public_layer(aws)
    lam = aws.client("lambda")
    lam.remove_layer_version_permission(LayerName="shared-libs", VersionNumber=1, StatementId="everyone")
    lam.add_layer_version_permission(
        LayerName="shared-libs",
        VersionNumber=1,
        StatementId="everyone",
        Action="lambda:GetLayerVersion",
        Principal=OTHER,
    )

    held = run_until_approval(engine, "lambda-layer-made-public", copy.deepcopy(event), "unshare-layer")
    case = approved(engine, "lambda-layer-made-public", held)

    assert {s.step_id: s for s in case.steps}["unshare-layer"].status == "noop"
    assert layer_sids(aws) == ["everyone", "partner"]
