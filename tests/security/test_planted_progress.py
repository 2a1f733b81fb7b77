"""Attack: with write access to the case table only, move a case that waits to run on past a step it
never ran (`next_step`), or turn a dry run into a real one (`dry_run`), then let the retried delivery
run it: a containment skipped while the case says it succeeded, or changes a dry run never makes.

A case runs on from the first step its sealed audit log holds no record of, and stays a dry run when
its log says it is one; a table that says otherwise is logged as a security event.
"""

from __future__ import annotations

import logging

import pytest

from parry.store import model as cs
from tests.support.attacker import case_key, security_events
from tests.support.members import key_status
from tests.support.playbooks import CAPTURE_STEP as CAPTURE
from tests.support.playbooks import DEACTIVATE_STEP as DEACTIVATE
from tests.support.playbooks import playbook


@pytest.fixture
def stopped_after_the_capture(engine, aws, parry_env, compromised_user):
    """Run `book` until the Lambda deadline nears once the capture is done: the case waits, RUNNING, to go on."""
    s3, bucket = aws.client("s3"), parry_env["PARRY_EVIDENCE_BUCKET"]

    def near_the_deadline_once_captured() -> float:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="cases/").get("Contents", [])
        return 1.0 if any("/artifacts/capture/" in o["Key"] for o in listed) else 600.0

    def stop(book):
        stopped = engine.run(book, compromised_user["event"], remaining_seconds=near_the_deadline_once_captured)
        assert stopped.status == cs.RUNNING and stopped.next_step == 1
        return stopped

    return stop


def set_in_table(aws, parry_env, case_id: str, **values: dict) -> None:
    """UpdateItem of the case item's attributes, in DynamoDB's typed form (`{"N": "2"}`, `{"BOOL": False}`)."""
    aws.client("dynamodb").update_item(
        TableName=parry_env["PARRY_CASES_TABLE"],
        Key=case_key(case_id),
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames={f"#a{i}": name for i, name in enumerate(values)},
        ExpressionAttributeValues={f":v{i}": value for i, value in enumerate(values.values())},
    )


def test_a_case_moved_past_its_containment_in_the_table_still_contains(
    engine, aws, parry_env, compromised_user, stopped_after_the_capture, caplog
):
    book = playbook(steps=[CAPTURE, DEACTIVATE, {**CAPTURE, "id": "capture-after"}])
    stopped = stopped_after_the_capture(book)
    set_in_table(aws, parry_env, stopped.case_id, next_step={"N": "2"})  # past `deactivate`
    caplog.set_level(logging.WARNING)

    done = engine.run(book, compromised_user["event"])  # the delivery, retried

    assert done.case_id == stopped.case_id and done.status == cs.SUCCEEDED
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert [s.step_id for s in done.steps] == ["capture", "deactivate", "capture-after"]
    (logged,) = security_events(caplog.records)
    assert "runs on from step 3" in logged.reason and "before step 2 (deactivate)" in logged.reason


def test_a_dry_run_turned_real_in_the_table_changes_nothing(
    engine, aws, parry_env, compromised_user, stopped_after_the_capture, caplog
):
    book = playbook(mode="dry-run", steps=[CAPTURE, DEACTIVATE])
    stopped = stopped_after_the_capture(book)
    assert stopped.dry_run
    set_in_table(aws, parry_env, stopped.case_id, dry_run={"BOOL": False})
    caplog.set_level(logging.WARNING)

    done = engine.run(book, compromised_user["event"])

    assert done.case_id == stopped.case_id and done.status == cs.DRY_RUN
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Active"
    (logged,) = security_events(caplog.records)
    assert "no dry run" in logged.reason and "stays one" in logged.reason


def test_a_case_left_as_it_was_runs_on_with_no_security_event(
    engine, aws, compromised_user, stopped_after_the_capture, caplog
):
    book = playbook(steps=[CAPTURE, DEACTIVATE])
    stopped_after_the_capture(book)
    caplog.set_level(logging.WARNING)

    done = engine.run(book, compromised_user["event"])

    assert done.status == cs.SUCCEEDED
    assert key_status(aws.client("iam"), compromised_user["user"], compromised_user["key"]) == "Inactive"
    assert security_events(caplog.records) == []
