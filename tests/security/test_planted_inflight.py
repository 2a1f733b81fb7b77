"""Attack: with write access to the case table only, plant an in-flight record (what a change replaced,
and its undo) on a case, so the run that adopts the "interrupted" change records the attacker's undo:
a later undo of the case then gives another user's disabled key back.

Each in-flight record carries a runner's MAC (parry.engine.inflight_seal); a run adopts an interrupted
change with the record's undo only when the MAC holds for that case, step, before-state and undo. Any
other record gives no undo, and is logged.
"""

from __future__ import annotations

import logging

import pytest

from parry.actions import registry
from parry.engine.undo import undo
from parry.errors import UndoError
from parry.store import model as cs
from tests.support.attacker import overwrite_case, plant_case, security_events
from tests.support.members import key_status
from tests.support.playbooks import CAPTURE_STEP as CAPTURE
from tests.support.playbooks import DEACTIVATE_STEP as DEACTIVATE
from tests.support.playbooks import playbook

ONCALL = "arn:aws:iam::123456789012:role/parry-oncall"


@pytest.fixture
def disabled_victim(aws, victim) -> str:
    """Another user's key, disabled by its owner: an undo that names it would give it back."""
    aws.client("iam").update_access_key(UserName="payments-batch", AccessKeyId=victim, Status="Inactive")
    return victim


def forged_inflight(step: str, victim: str) -> dict:
    undo = {"action": "iam.activate_access_key", "params": {"user_name": "payments-batch", "access_key_id": victim}}
    return {"step": step, "before": {"status": "Active"}, "undo": undo}


def test_a_planted_in_flight_record_gives_no_undo_of_the_attackers_choosing(
    engine, aws, parry_env, compromised_user, disabled_victim, caplog
):
    book = playbook()
    iam = aws.client("iam")
    iam.update_access_key(UserName=compromised_user["user"], AccessKeyId=compromised_user["key"], Status="Inactive")
    target = {"user": compromised_user["user"], "key": compromised_user["key"]}
    plant_case(
        aws,
        parry_env["PARRY_CASES_TABLE"],
        book,
        compromised_user["event"],
        status=cs.RUNNING,
        target=target,
        inflight=forged_inflight("deactivate", disabled_victim),
    )
    caplog.set_level(logging.WARNING)

    case = engine.run(book, compromised_user["event"])

    (step,) = case.steps
    assert case.status == cs.SUCCEEDED and step.undo is None and "not sealed by a runner" in step.summary
    assert any("carries no runner's seal" in e.reason for e in security_events(caplog.records))
    with pytest.raises(UndoError, match="nothing to undo"):
        undo(engine, case.case_id, who=ONCALL, reason="a false alarm")
    assert key_status(iam, "payments-batch", disabled_victim) == "Inactive"


@pytest.fixture
def crashed_after_the_change(engine, monkeypatch, compromised_user):
    """Run [capture, deactivate] and crash just after the key was deactivated, before the step's record."""
    book = playbook(steps=[CAPTURE, DEACTIVATE])
    action = registry.get("iam.deactivate_access_key")
    apply = action.apply

    def crash_after(self, ctx, params, seen):
        apply(self, ctx, params, seen)
        raise KeyboardInterrupt("the runner died")

    monkeypatch.setattr(action, "apply", crash_after)
    with pytest.raises(KeyboardInterrupt):
        engine.run(book, compromised_user["event"])
    monkeypatch.setattr(action, "apply", apply)
    (case,) = engine.store.list()
    assert case.status == cs.RUNNING and case.inflight and case.inflight["step"] == "deactivate"
    return book, case


def test_an_interrupted_change_is_adopted_with_its_sealed_undo(
    engine, aws, compromised_user, crashed_after_the_change, caplog
):
    book, crashed = crashed_after_the_change
    caplog.set_level(logging.WARNING)

    case = engine.run(book, compromised_user["event"])  # the delivery, retried

    step = next(s for s in case.steps if s.step_id == "deactivate")
    assert case.status == cs.SUCCEEDED and "interrupted run" in step.summary and step.undo is not None
    assert security_events(caplog.records) == []
    undo(engine, case.case_id, who=ONCALL, reason="a false alarm")
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Active"


def test_an_in_flight_record_rewritten_after_a_crash_keeping_its_mac_gives_no_undo(
    engine, aws, parry_env, compromised_user, disabled_victim, crashed_after_the_change, caplog
):
    book, crashed = crashed_after_the_change
    forged = {**forged_inflight("deactivate", disabled_victim), "mac": crashed.inflight["mac"]}
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], crashed.case_id, inflight=forged)
    caplog.set_level(logging.WARNING)

    case = engine.run(book, compromised_user["event"])

    step = next(s for s in case.steps if s.step_id == "deactivate")
    assert step.undo is None and step.status == "succeeded"
    assert any("carries no runner's seal" in e.reason for e in security_events(caplog.records))
    with pytest.raises(UndoError, match="nothing to undo"):
        undo(engine, case.case_id, who=ONCALL, reason="a false alarm")
    assert key_status(aws.client("iam"), "payments-batch", disabled_victim) == "Inactive"
