"""Attack: with write access to the case table only, rewrite what an earlier step of a waiting case
found (`steps.X.output`), or add a step it never ran, so the step the on-call approves acts on what the
attacker names: another user's key deactivated, a key deleted that was never captured.

A case that runs on takes each step's result from the `step_finished` record sealed when the step ran;
a table that says otherwise is logged as a security event and the sealed result is used.
"""

from __future__ import annotations

import logging

from parry.store import model as cs
from parry.store.step_result import SUCCEEDED
from tests.support.attacker import overwrite_case, security_events
from tests.support.decisions import approve
from tests.support.members import key_status
from tests.support.playbooks import playbook

APPROVER = "arn:aws:iam::123456789012:role/parry-approver"
CAPTURE = {"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}


def book_acting_on_the_capture(*, approval: bool = True):
    """Capture the user, then (once approved) deactivate the key the capture found."""
    deactivate = {
        "id": "deactivate",
        "action": "iam.deactivate_access_key",
        **({"approval": "required"} if approval else {}),
        "with": {
            "user_name": "${steps.capture.output.user_name}",
            "access_key_id": "${steps.capture.output.access_key_ids[0]}",
        },
    }
    return playbook(steps=[CAPTURE, deactivate])


def approved_and_resumed(engine, case_id: str, book):
    """The on-call approves the waiting step, and the runner resumes the case (as the front door has it)."""
    approve(engine, case_id, who=APPROVER, reason="confirmed with the owner")
    return engine.resume(case_id, book)


def rewrite_step(engine, aws, parry_env, case_id: str, step_id: str, **fields) -> None:
    """UpdateItem of the case's steps, with `fields` of step `step_id` (added when the case has none) changed."""
    steps = [s.as_dict() for s in engine.store.get(case_id).steps]
    found = next((s for s in steps if s["step_id"] == step_id), None)
    if found is None:
        steps.append(found := {"step_id": step_id, "action": "", "status": SUCCEEDED})
    found.update(fields)
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], case_id, steps=steps)


def test_an_output_rewritten_while_the_case_waits_for_approval_is_not_acted_on(
    engine, aws, parry_env, compromised_user, victim, caplog
):
    book = book_acting_on_the_capture()
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL
    forged = {"user_name": "payments-batch", "access_key_ids": [victim]}
    rewrite_step(engine, aws, parry_env, paused.case_id, "capture", output=forged)
    caplog.set_level(logging.WARNING)

    done = approved_and_resumed(engine, paused.case_id, book)

    assert done.status == cs.SUCCEEDED
    assert key_status(aws.client("iam"), "payments-batch", victim) == "Active"
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert next(s for s in done.steps if s.step_id == "capture").output["user_name"] == compromised_user["user"]
    (logged,) = security_events(caplog.records)
    assert "results of step(s) capture" in logged.reason and "sealed audit log" in logged.reason
    assert logged.case_id == paused.case_id


def test_a_capture_planted_in_the_table_does_not_allow_deleting_a_key(engine, aws, parry_env, compromised_user, caplog):
    delete = {
        "id": "delete",
        "action": "iam.delete_access_key",
        "approval": "required",
        "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
    }
    book = playbook(steps=[delete])
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL
    captured = {"user_name": compromised_user["user"], "access_key_ids": [compromised_user["key"]]}
    rewrite_step(engine, aws, parry_env, paused.case_id, "capture", action=CAPTURE["action"], output=captured)
    caplog.set_level(logging.WARNING)

    done = approved_and_resumed(engine, paused.case_id, book)

    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Active"  # still there
    (deleted,) = done.steps  # the planted capture is no step of the case
    assert deleted.step_id == "delete" and "no earlier step of this case captured" in str(deleted.error)
    (logged,) = security_events(caplog.records)
    assert "results of step(s) capture" in logged.reason


def test_a_genuine_case_acts_on_its_own_steps_output_after_approval(engine, aws, compromised_user, victim, caplog):
    book = book_acting_on_the_capture()
    paused = engine.run(book, compromised_user["event"])
    caplog.set_level(logging.WARNING)

    done = approved_and_resumed(engine, paused.case_id, book)

    assert done.status == cs.SUCCEEDED
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert key_status(aws.client("iam"), "payments-batch", victim) == "Active"
    assert security_events(caplog.records) == []


def test_an_output_rewritten_while_a_case_waits_to_continue_is_not_acted_on_by_the_redelivery(
    engine, aws, parry_env, compromised_user, victim, caplog
):
    capture_then_deactivate = book_acting_on_the_capture(approval=False)
    s3, bucket = aws.client("s3"), parry_env["PARRY_EVIDENCE_BUCKET"]

    def near_the_deadline_once_captured() -> float:
        """Time for the capture; then the Lambda deadline is near, so the case continues later."""
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="cases/").get("Contents", [])
        return 1.0 if any("/artifacts/capture/" in o["Key"] for o in listed) else 600.0

    stopped = engine.run(
        capture_then_deactivate, compromised_user["event"], remaining_seconds=near_the_deadline_once_captured
    )
    assert stopped.status == cs.RUNNING and [s.step_id for s in stopped.steps] == ["capture"]
    forged = {"user_name": "payments-batch", "access_key_ids": [victim]}
    rewrite_step(engine, aws, parry_env, stopped.case_id, "capture", output=forged)
    caplog.set_level(logging.WARNING)

    done = engine.run(capture_then_deactivate, compromised_user["event"])  # the delivery, retried

    assert done.case_id == stopped.case_id
    assert key_status(aws.client("iam"), "payments-batch", victim) == "Active"
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Inactive"
    (logged,) = security_events(caplog.records)
    assert "results of step(s) capture" in logged.reason
