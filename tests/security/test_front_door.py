"""Attacks on the front door: a caller with no on-call or approver role, the on-call approving (not an
approver), the requester approving their own case, a call without an IAM-verified identity, and a body
naming another playbook for a case. Each is refused before anything is sealed: the case stays
paused, the key stays Active, and a security event (playbook=control-plane) is logged and counted."""

from __future__ import annotations

import json

import pytest

from parry.playbooks.validate import load_file
from parry.runtime.front_door import DoorPolicy, FrontDoor, lambda_handler, principal, runner_function_name
from parry.runtime.in_process import run_in_process
from stacks import naming
from tests.support.control import APPROVER, ONCALL, emf, fresh_runner, lines, security_events

BOOK = """\
version: parry/v1
name: approve-then-deactivate
description: Deactivate a key only once a person approves
trigger: {source: [aws.guardduty]}
manual: true
dedup: detail.id
target:
  user: detail.resource.accessKeyDetails.userName
  key: detail.resource.accessKeyDetails.accessKeyId
steps:
  - id: deactivate-key
    action: iam.deactivate_access_key
    approval: required
    with: {user_name: "${target.user}", access_key_id: "${target.key}"}
"""


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "approve-then-deactivate.yaml"
    path.write_text(BOOK)
    return load_file(path)


@pytest.fixture
def door(monkeypatch, tmp_path, aws, engine, parry_env, book):
    fresh_runner(monkeypatch, tmp_path / "compiled", "iam-credential-compromise")
    policy = DoorPolicy(frozenset({principal(ONCALL)}), frozenset({principal(APPROVER)}))
    return FrontDoor(
        aws,
        policy,
        parry_env["PARRY_REQUEST_KEY_ID"],
        parry_env["PARRY_CASES_TABLE"],
        lambda name, payload: run_in_process(payload, book, engine),
    )


@pytest.fixture
def paused(engine, book, compromised_user):
    case = engine.run(book, compromised_user["event"])
    assert case.status == "AWAITING_APPROVAL"
    return case


def key_status(aws, user, key):
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def refused_at_the_door(answer, capsys, engine, case_id, aws, compromised_user):
    assert answer["status"] == "REFUSED", answer
    records = lines(capsys)
    (event,) = security_events(records)
    assert event["playbook"] == "control-plane"
    assert emf(records)["SecurityRejections"] == [1.0]
    assert engine.store.get(case_id).status == "AWAITING_APPROVAL"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Active"


def test_an_approver_approves_and_is_recorded_by_the_runner(door, paused, engine, aws, compromised_user, capsys):
    answer = door.handle({"kind": "approve", "case_id": paused.case_id, "reason": "confirmed"}, APPROVER)

    assert answer["status"] == "SUCCEEDED", answer
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    decision = next(h for h in engine.store.get(paused.case_id).history if h["kind"] == "approved")
    assert decision["by"] == APPROVER and decision["reason"] == "confirmed"


def test_the_oncall_is_not_an_approver(door, paused, engine, aws, compromised_user, capsys):
    answer = door.handle({"kind": "approve", "case_id": paused.case_id}, ONCALL)
    assert "not an approver role" in answer["error"]
    refused_at_the_door(answer, capsys, engine, paused.case_id, aws, compromised_user)


def test_a_principal_with_no_parry_role_can_neither_start_nor_decide(
    door, paused, engine, aws, compromised_user, capsys
):
    stranger = "arn:aws:sts::123456789012:assumed-role/developer/mallory"
    answer = door.handle({"kind": "start", "playbook": "approve-then-deactivate", "finding_id": "x"}, stranger)
    assert "not an on-call role" in answer["error"]
    capsys.readouterr()
    answer = door.handle({"kind": "deny", "case_id": paused.case_id}, stranger)
    refused_at_the_door(answer, capsys, engine, paused.case_id, aws, compromised_user)


def test_the_requester_cannot_approve_their_own_case(door, paused, engine, aws, compromised_user, capsys, parry_env):
    both = DoorPolicy(frozenset({principal(APPROVER)}), frozenset({principal(APPROVER)}))
    door.policy = both
    # the case as the engine records a manual start by the approver's role: who asked, and a gate that
    # needs someone else (approvals.separation_required)
    table, key = parry_env["PARRY_CASES_TABLE"], {"pk": {"S": f"CASE#{paused.case_id}"}, "sk": {"S": "CASE"}}
    awaiting = json.loads(aws.client("dynamodb").get_item(TableName=table, Key=key)["Item"]["awaiting"]["S"])
    aws.client("dynamodb").update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET requested_by = :r, awaiting = :a",
        ExpressionAttributeValues={
            ":r": {"S": "arn:aws:sts::123456789012:assumed-role/parry-approver/other-session"},
            ":a": {"S": json.dumps({**awaiting, "separate": True})},
        },
    )
    answer = door.handle({"kind": "approve", "case_id": paused.case_id}, APPROVER)
    assert "someone else must approve" in answer["error"]
    refused_at_the_door(answer, capsys, engine, paused.case_id, aws, compromised_user)


def test_a_call_without_an_iam_verified_caller_is_refused(capsys, monkeypatch, tmp_path):
    fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")  # the log and metrics onto this test's stdout
    response = lambda_handler(
        {"body": json.dumps({"kind": "approve", "case_id": "case-1"}), "requestContext": {}}, None
    )
    assert response["statusCode"] == 403 and json.loads(response["body"])["status"] == "REFUSED"
    assert len(security_events(lines(capsys))) == 1


def test_a_body_naming_another_playbook_for_a_case_is_refused(door, paused, engine):
    from parry.errors import EventError

    with pytest.raises(EventError, match="belongs to playbook approve-then-deactivate"):
        door.handle({"kind": "approve", "case_id": paused.case_id, "playbook": "manual-quarantine"}, APPROVER)
    assert engine.store.get(paused.case_id).status == "AWAITING_APPROVAL"


def test_an_assumed_role_session_is_its_role_and_runners_are_named_as_the_stack_names_them():
    assert principal(ONCALL) == "arn:aws:iam::123456789012:role/parry-oncall"
    assert principal("arn:aws:iam::123456789012:role/teams/sec/parry-oncall") == principal(ONCALL)
    for name in ("manual-quarantine", "x" * 70):
        assert runner_function_name(name) == naming.function_name(name)
