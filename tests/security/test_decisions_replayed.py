"""Attack: replay a genuine decision where it was not given: at another gate, on another case, a second
time, or for another version of the playbook. Each is refused (ReplayedDecision), nothing is recorded
and the case still waits with its key Active."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from parry.engine.approvals import APPROVE, Decision, decide
from parry.errors import ReplayedDecision
from parry.store import model as cs
from tests.support.attacker import overwrite_case
from tests.support.decisions import approve, decision_for
from tests.support.findings import registered
from tests.support.playbooks import approval_book, playbook

BOB = "arn:aws:iam::123456789012:role/Approver"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def second_finding(aws, compromised_user, finding_id: str) -> tuple[dict, str]:
    key = aws.client("iam").create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["id"] = finding_id
    event["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = key
    return registered(aws, event), key


def still_waiting(engine, case_id: str) -> None:
    case = engine.store.get(case_id)
    assert case.status == cs.AWAITING_APPROVAL
    assert not [h for h in case.history if h.get("kind") == "approved"]


def test_an_approval_of_another_gate_decides_nothing(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    elsewhere = replace(decision_for(engine, paused.case_id, APPROVE, who=BOB), gate="rate-limit")

    with pytest.raises(ReplayedDecision, match="waits at gate 'step:deactivate'"):
        decide(engine, paused.case_id, elsewhere)

    still_waiting(engine, paused.case_id)
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_a_rate_limit_approval_does_not_approve_a_gated_first_step(engine, aws, compromised_user):
    book = approval_book()
    book = replace(book, max_cases_per_hour=1)
    engine.run(book, compromised_user["event"])
    event, key = second_finding(aws, compromised_user, "second")
    held = engine.run(book, event)
    assert held.awaiting and held.awaiting["gate"] == "rate-limit"

    approve(engine, held.case_id, who=BOB, reason="a real wave of findings")
    after = engine.resume(held.case_id, book)

    assert after.status == cs.AWAITING_APPROVAL and after.awaiting and after.awaiting["gate"] == "step:deactivate"
    assert key_status(aws, "ci-deployer", key) == "Active"


def test_an_approval_replayed_on_another_case_decides_nothing(engine, aws, compromised_user):
    book = approval_book()
    first = engine.run(book, compromised_user["event"])
    given = decision_for(engine, first.case_id, APPROVE, who=BOB)
    decide(engine, first.case_id, given)
    event, key = second_finding(aws, compromised_user, "other")
    other = engine.run(book, event)

    with pytest.raises(ReplayedDecision, match="used before"):
        decide(engine, other.case_id, given)

    still_waiting(engine, other.case_id)
    assert key_status(aws, "ci-deployer", key) == "Active"


def test_an_approval_replayed_on_the_same_gate_twice_decides_nothing(engine, aws, parry_env, compromised_user):
    book = playbook(
        steps=[
            {
                "id": "deactivate",
                "action": "iam.deactivate_access_key",
                "approval": "required",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            }
        ]
    )
    paused = engine.run(book, compromised_user["event"])
    waiting = engine.store.get(paused.case_id).awaiting
    given = decision_for(engine, paused.case_id, APPROVE, who=BOB)
    decide(engine, paused.case_id, given)
    # the attacker puts the case back where it waited, to spend the same decision again
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], paused.case_id, status=cs.AWAITING_APPROVAL, awaiting=waiting)

    with pytest.raises(ReplayedDecision, match="used before"):
        decide(engine, paused.case_id, given)

    approvals = [h for h in engine.store.get(paused.case_id).history if h.get("kind") == "approved"]
    assert len(approvals) == 1


def test_an_approval_for_another_playbook_version_decides_nothing(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    stale = Decision(APPROVE, "step:deactivate", "0" * 64, uuid.uuid4().hex, BOB, "approved last week")

    with pytest.raises(ReplayedDecision, match="playbook version"):
        decide(engine, paused.case_id, stale)

    still_waiting(engine, paused.case_id)
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
