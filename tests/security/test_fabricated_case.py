"""Attack: with write access to the case table only, make a case up (or rewrite a real one) whose
"undo" gives an attacker access (reactivates a key Parry never deactivated, or runs another action),
then ask for the undo, in process or through the runner.

What an undo does comes from the case's sealed audit log, never from the table: a case Parry never
opened has no log (EvidenceMismatch, UndoRefused through the runner), and a rewritten step's undo is
ignored for the one the log recorded when the step ran. Nothing the attacker named changes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parry.engine import undo as undoing
from parry.errors import EvidenceMismatch, UndoRefused
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.attacker import overwrite_case, put_case

ATTACKER = "arn:aws:iam::123456789012:user/mallory"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


@pytest.fixture
def parked_key(aws):
    """An access key someone deactivated, that the attacker wants back."""
    iam = aws.client("iam")
    iam.create_user(UserName="old-admin")
    key = iam.create_access_key(UserName="old-admin")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="old-admin", AccessKeyId=key, Status="Inactive")
    return key


def reactivate(key: str) -> dict:
    return {"action": "iam.activate_access_key", "params": {"user_name": "old-admin", "access_key_id": key}}


def fabricate(aws, parry_env, key: str, *, undo_request: dict | None = None) -> str:
    case_id = "case-20240101-fabricated"
    step = {
        "step_id": "deactivate-key",
        "action": "iam.deactivate_access_key",
        "status": "succeeded",
        "undo": reactivate(key),
    }
    case = {
        "case_id": case_id,
        "playbook": "iam-credential-compromise",
        "playbook_sha256": "f" * 64,
        "status": cs.SUCCEEDED,
        "opened_at": datetime(2024, 1, 1, tzinfo=UTC).isoformat(timespec="milliseconds"),
        "account": "123456789012",
        "region": "us-east-1",
        "dedup": "made-up",
        "event": {},
        "steps": [step],
        "history": [],
    }
    if undo_request:
        case["undo_request"] = undo_request
        case["undo_pending"] = undo_request["id"]
    put_case(aws, parry_env["PARRY_CASES_TABLE"], case)
    return case_id


def test_a_fabricated_case_cannot_be_undone_in_process(engine, aws, parry_env, parked_key):
    case_id = fabricate(aws, parry_env, parked_key)

    with pytest.raises(EvidenceMismatch, match="no sealed audit log"):
        undoing.undo(engine, case_id, who=ATTACKER)

    assert key_status(aws, "old-admin", parked_key) == "Inactive"
    assert engine.store.get(case_id).status == cs.SUCCEEDED


def test_a_fabricated_undo_request_is_refused_by_the_runner(engine, aws, parry_env, parked_key):
    request = {"id": "r1", "by": ATTACKER, "reason": "", "step": None, "partial": False, "state": "pending"}
    case_id = fabricate(aws, parry_env, parked_key, undo_request=request)

    with pytest.raises(UndoRefused, match="no sealed audit log"):
        undoing.carry_out(engine, case_id, playbook="iam-credential-compromise", lease_seconds=60)

    assert key_status(aws, "old-admin", parked_key) == "Inactive"


def test_a_rewritten_undo_in_a_real_case_is_ignored_for_the_sealed_one(
    engine, aws, parry_env, compromised_user, parked_key
):
    case = engine.run(load_file("playbooks/iam-credential-compromise.yaml"), compromised_user["event"])
    steps = [s.as_dict() for s in engine.store.get(case.case_id).steps]
    for step in steps:
        if step["step_id"] == "deactivate-key":
            step["undo"] = reactivate(parked_key)  # the attacker's key instead of the case's
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], case.case_id, steps=steps)

    undoing.undo(engine, case.case_id, who="arn:aws:iam::123456789012:role/OnCall", step_id="deactivate-key")

    assert key_status(aws, "old-admin", parked_key) == "Inactive"
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"  # the case's own key, as sealed


def test_a_rewritten_step_action_is_ignored_for_the_sealed_one(engine, aws, parry_env, compromised_user):
    case = engine.run(load_file("playbooks/iam-credential-compromise.yaml"), compromised_user["event"])
    steps = [s.as_dict() for s in engine.store.get(case.case_id).steps]
    for step in steps:
        if step["step_id"] == "deactivate-key":
            step["action"] = "lambda.remove_public_permissions"  # whose undo would add permissions
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], case.case_id, steps=steps)
    # the sealed log still says the step deactivated a key: its undo reactivates that key, nothing else
    undoing.undo(engine, case.case_id, who="arn:aws:iam::123456789012:role/OnCall", step_id="deactivate-key")

    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
    undone = [h for h in engine.store.get(case.case_id).history if h.get("kind") == "undo"]
    assert [h["action"] for h in undone] == ["iam.activate_access_key"]
