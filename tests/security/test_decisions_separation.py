"""Attack: the person who asked for a manual run approves it too (from another session of the same
role, whose name they chose). Refused (SeparationOfDuties): nothing is recorded, the key stays
Active; a second person can approve. A playbook can turn separation off, on purpose."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parry.errors import SeparationOfDuties
from parry.store import model as cs
from tests.support.decisions import approve
from tests.support.playbooks import approval_book

ONCALL = "arn:aws:iam::123456789012:role/OnCall"
SAME_ROLE_OTHER_SESSION = "arn:aws:sts::123456789012:assumed-role/OnCall/someone-else"
APPROVER = "arn:aws:sts::123456789012:assumed-role/Approver/bob"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def manual_run(engine, book, event):
    return engine.run(book, event, manual=True, requested_by=ONCALL, requested_via="front-door")


def test_the_requester_cannot_approve_their_own_manual_run(engine, aws, compromised_user):
    book = replace(approval_book(), manual=True)
    paused = manual_run(engine, book, compromised_user["event"])
    assert engine.store.get(paused.case_id).requested_by == ONCALL

    for me in (ONCALL, SAME_ROLE_OTHER_SESSION):
        with pytest.raises(SeparationOfDuties):
            approve(engine, paused.case_id, who=me)

    case = engine.store.get(paused.case_id)
    assert case.status == cs.AWAITING_APPROVAL and case.history == []
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"

    approve(engine, paused.case_id, who=APPROVER, reason="second pair of eyes")
    done = engine.resume(paused.case_id, book)
    assert done.status == cs.SUCCEEDED and key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"
    assert done.history[0]["by"] == APPROVER and done.requested_via == "front-door"


def test_a_playbook_may_let_the_requester_approve(engine, aws, compromised_user):
    book = replace(approval_book(), manual=True, separate_approver=False)
    paused = manual_run(engine, book, compromised_user["event"])

    approve(engine, paused.case_id, who=ONCALL)

    assert engine.resume(paused.case_id, book).status == cs.SUCCEEDED


def test_an_automatic_run_is_asked_by_the_aws_service(engine, compromised_user):
    case = engine.run(approval_book(), compromised_user["event"])
    assert case.requested_by == case.requested_via == "aws.guardduty"
