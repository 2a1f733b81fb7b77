"""Attack: with write access to the case table only, make up a whole case on a real finding's key (the
claim and the case item both this playbook's, so the claim checks pass), or rewrite what a real case
runs on, so a real finding is swallowed or Parry acts on what the attacker names.

Only the sealed evidence says which cases Parry opened and what they run on: a made-up case on the key
is logged and replaced (the finding opens its own case and is contained); a case that runs on takes its
event, target and account from its sealed event.json, or, cut short before that, from the delivery at
hand, just re-read from GuardDuty.
"""

from __future__ import annotations

import logging

import pytest

from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.attacker import overwrite_case, plant_case, security_events
from tests.support.decisions import approve
from tests.support.playbooks import approval_book

APPROVER = "arn:aws:iam::123456789012:role/parry-approver"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


@pytest.mark.parametrize(
    ("status", "next_step"),
    [(cs.AWAITING_APPROVAL, 0), (cs.SUCCEEDED, 0), (cs.RUNNING, 2)],
    ids=["awaiting-approval", "succeeded", "running-past-its-steps"],
)
def test_a_made_up_case_on_the_key_does_not_swallow_the_real_finding(
    engine, aws, parry_env, compromised_user, caplog, status, next_step
):
    book = load_file("playbooks/iam-credential-compromise.yaml")
    event = compromised_user["event"]
    target = {"user": compromised_user["user"], "key": compromised_user["key"]}
    planted = plant_case(
        aws, parry_env["PARRY_CASES_TABLE"], book, event, status=status, target=target, next_step=next_step
    )
    caplog.set_level(logging.WARNING)

    case = engine.run(book, event)

    assert case.case_id != planted and not case.duplicate and case.status == cs.SUCCEEDED
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert engine.store.claimed_case(book.name, case.dedup).case_id == case.case_id
    assert case.follows is None  # a made-up case is no predecessor
    (logged,) = security_events(caplog.records)
    assert "planted case replaced" in logged.reason and logged.planted_case_id == planted


def test_a_made_up_running_case_runs_on_the_delivered_finding_not_the_tables_target(
    engine, aws, parry_env, compromised_user, victim, caplog
):
    book = load_file("playbooks/iam-credential-compromise.yaml")
    event = compromised_user["event"]
    forged_target = {"user": "payments-batch", "key": victim}
    plant_case(aws, parry_env["PARRY_CASES_TABLE"], book, event, status=cs.RUNNING, target=forged_target)
    caplog.set_level(logging.WARNING)

    case = engine.run(book, event)

    assert key_status(aws, "payments-batch", victim) == "Active"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert case.target["user"] == compromised_user["user"]
    assert any("differ from its authenticated delivery" in e.reason for e in security_events(caplog.records))


def test_a_target_rewritten_while_a_real_case_waits_for_approval_is_ignored(
    engine, aws, parry_env, compromised_user, victim, caplog
):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL
    overwrite_case(
        aws, parry_env["PARRY_CASES_TABLE"], paused.case_id, target={"user": "payments-batch", "key": victim}
    )
    caplog.set_level(logging.WARNING)

    approve(engine, paused.case_id, who=APPROVER, reason="confirmed with the owner")
    done = engine.resume(paused.case_id, book)

    assert done.status == cs.SUCCEEDED
    assert key_status(aws, "payments-batch", victim) == "Active"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    (logged,) = security_events(caplog.records)
    assert "target of case" in logged.reason and "sealed event" in logged.reason


def test_a_genuine_open_case_still_takes_a_new_finding_on_its_key(engine, aws, compromised_user, caplog):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    again = dict(compromised_user["event"], id="another-delivery-of-a-newer-version")
    again["detail"] = dict(again["detail"], updatedAt="2099-01-01T00:00:00.000Z")
    caplog.set_level(logging.WARNING)

    found = engine.run(book, again, read_from_service=True)

    assert found.case_id == paused.case_id and found.status == cs.AWAITING_APPROVAL
    assert len(engine.store.get(paused.case_id).attached_findings) == 1
    assert not security_events(caplog.records)
