"""The engine on moto: runs, cases, evidence, plans, redeliveries, guardrails, approvals and undo."""

from __future__ import annotations

import json

import pytest

from parry.engine.approvals import expire_overdue
from parry.engine.undo import undo
from parry.errors import DecisionError, EventError, UndoError
from parry.evidence.writer import sha256_hex
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.decisions import approve, deny
from tests.support.findings import registered
from tests.support.playbooks import approval_book, playbook


def key_status(aws, user, key):
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


@pytest.fixture
def iam_playbook():
    return load_file("playbooks/iam-credential-compromise.yaml")


def test_run_contains_the_key_and_records_the_case(engine, aws, compromised_user, iam_playbook, parry_env):
    case = engine.run(iam_playbook, compromised_user["event"])

    assert case.status == cs.SUCCEEDED
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Inactive"
    stored = engine.store.get(case.case_id)
    assert stored.status == cs.SUCCEEDED
    assert stored.event == compromised_user["event"]
    assert stored.target["user"] == "ci-deployer"
    deactivate = next(s for s in stored.steps if s.step_id == "deactivate-key")
    assert deactivate.before["status"] == "Active" and deactivate.after["status"] == "Inactive"
    assert deactivate.undo == {
        "action": "iam.activate_access_key",
        "params": {"user_name": "ci-deployer", "access_key_id": compromised_user["key"]},
    }
    assert all(s.duration_ms >= 0 for s in stored.steps)


def test_evidence_holds_event_playbook_and_a_hash_chain(engine, aws, compromised_user, iam_playbook, parry_env):
    case = engine.run(iam_playbook, compromised_user["event"])
    s3 = aws.client("s3")
    bucket = parry_env["PARRY_EVIDENCE_BUCKET"]

    def read(key):
        return s3.get_object(Bucket=bucket, Key=case.evidence_prefix + key)["Body"].read()

    assert json.loads(read("event.json")) == compromised_user["event"]
    book = json.loads(read("playbook.json"))
    assert book["sha256"] == iam_playbook.sha256 == sha256_hex(iam_playbook.compiled_bytes())
    keys = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=case.evidence_prefix + "audit/")["Contents"]
    )
    assert len(keys) >= 2 + len(iam_playbook.steps)
    previous = "0" * 64
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert json.loads(body)["prev_sha256"] == previous
        previous = sha256_hex(body)
    head = s3.head_object(Bucket=bucket, Key=keys[0])
    assert head["ObjectLockMode"] in ("GOVERNANCE", "COMPLIANCE")


def test_plan_reads_and_does_not_change(engine, aws, compromised_user, iam_playbook):
    plan = engine.plan(iam_playbook, compromised_user["event"])

    deactivate = next(p for p in plan.steps if p.step_id == "deactivate-key")
    assert deactivate.calls == [
        f"iam:UpdateAccessKey(UserName='ci-deployer', AccessKeyId='{compromised_user['key']}', Status='Inactive')"
    ]
    assert deactivate.state["status"] == "Active"
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Active"


def test_redelivery_is_a_recorded_duplicate_that_changes_nothing(engine, aws, compromised_user, iam_playbook):
    first = engine.run(iam_playbook, compromised_user["event"])
    aws.client("iam").update_access_key(UserName="ci-deployer", AccessKeyId=compromised_user["key"], Status="Active")

    again = engine.run(iam_playbook, compromised_user["event"])

    assert again.duplicate and again.case_id == first.case_id
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"  # the duplicate did not act again
    assert engine.store.get(first.case_id).duplicates == 1


def test_second_run_on_a_contained_key_is_a_noop(engine, aws, compromised_user):
    book = playbook()
    first = engine.run(book, compromised_user["event"])
    event = dict(compromised_user["event"], detail=dict(compromised_user["event"]["detail"], id="another-finding"))
    event = registered(aws, event)

    second = engine.run(book, event)

    assert first.steps[0].status == "succeeded"
    assert second.case_id != first.case_id and second.steps[0].status == "noop"


def test_event_that_does_not_match_the_trigger_is_refused(engine, compromised_user):
    book = playbook(trigger={"source": ["aws.securityhub"]})
    with pytest.raises(EventError, match="does not match the trigger"):
        engine.run(book, compromised_user["event"])


def test_malformed_event_is_refused_by_name(engine):
    with pytest.raises(EventError, match="missing detail"):
        engine.run(playbook(), {"source": "aws.guardduty", "detail-type": "GuardDuty Finding"})


def test_when_false_skips_the_step(engine, aws, compromised_user):
    book = playbook(
        steps=[
            {
                "id": "deactivate",
                "action": "iam.deactivate_access_key",
                "when": "target.user == 'someone-else'",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            }
        ]
    )
    case = engine.run(book, compromised_user["event"])
    assert case.steps[0].status == "skipped"
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_abort_stops_the_case_and_continue_goes_on(engine, aws, compromised_user):
    missing_user = {
        "id": "broken",
        "action": "iam.deactivate_access_key",
        "with": {"user_name": "nobody", "access_key_id": "AKIANOBODY"},
    }
    good = {
        "id": "deactivate",
        "action": "iam.deactivate_access_key",
        "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
    }

    aborted = engine.run(playbook(name="aborts", steps=[missing_user, good]), compromised_user["event"])
    assert aborted.status == cs.FAILED
    assert [s.step_id for s in aborted.steps] == ["broken"]
    assert "IAM user nobody does not exist" in aborted.steps[0].error
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"

    went_on = engine.run(
        playbook(name="goes-on", steps=[dict(missing_user, on_error="continue"), good]), compromised_user["event"]
    )
    assert went_on.status == cs.COMPLETED_WITH_ERRORS
    assert [s.status for s in went_on.steps] == ["failed", "succeeded"]


def test_protected_user_is_refused_and_untouched(engine, aws, compromised_user):
    aws.client("iam").tag_user(UserName="ci-deployer", Tags=[{"Key": "parry:protected", "Value": "true"}])
    case = engine.run(playbook(), compromised_user["event"])
    assert case.steps[0].status == "refused" and "parry:protected" in case.steps[0].error
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_dry_run_mode_plans_and_records_without_acting(engine, aws, compromised_user):
    case = engine.run(playbook(mode="dry-run"), compromised_user["event"])
    assert case.status == cs.DRY_RUN and case.steps[0].status == "planned"
    assert case.steps[0].calls and key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_kill_switch_turns_every_playbook_to_dry_run(engine, aws, compromised_user, parry_env):
    aws.client("ssm").put_parameter(
        Name=parry_env["PARRY_KILL_SWITCH_PARAMETER"], Value="on", Type="String", Overwrite=True
    )
    case = engine.run(playbook(), compromised_user["event"])
    assert case.dry_run and case.status == cs.DRY_RUN
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_rate_limit_holds_extra_cases_for_approval(engine, aws, compromised_user):
    book = playbook(guardrails={"max_cases_per_hour": 1})
    engine.run(book, compromised_user["event"])
    second_key = aws.client("iam").create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"]
    event = json.loads(json.dumps(compromised_user["event"]))
    event["detail"]["id"] = "second"
    event["detail"]["resource"]["accessKeyDetails"]["accessKeyId"] = second_key
    event = registered(aws, event)

    held = engine.run(book, event)

    assert held.status == cs.AWAITING_APPROVAL and "max_cases_per_hour" in held.awaiting["reason"]
    assert key_status(aws, "ci-deployer", second_key) == "Active"


def test_approval_pauses_then_approve_resumes(engine, aws, compromised_user):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    assert paused.status == cs.AWAITING_APPROVAL and paused.awaiting["step"] == "deactivate"
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"

    approve(engine, paused.case_id, reason="confirmed with the owner", who="arn:aws:iam::123456789012:user/oncall")
    done = engine.resume(paused.case_id, book)

    assert done.status == cs.SUCCEEDED
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"
    decision = done.history[0]
    assert (
        decision["kind"] == "approved"
        and decision["by"].endswith("user/oncall")
        and decision["reason"] == "confirmed with the owner"
    )


@pytest.mark.parametrize("decide", [approve, deny])
def test_a_decision_the_audit_log_cannot_take_leaves_the_case_at_its_gate(
    engine, aws, compromised_user, monkeypatch, decide
):
    from parry.evidence.writer import CaseEvidence

    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    audit = CaseEvidence.audit

    def broken(self, kind, body):
        if kind in ("approved", "denied"):
            raise OSError("S3 unreachable")
        return audit(self, kind, body)

    monkeypatch.setattr(CaseEvidence, "audit", broken)
    with pytest.raises(OSError):
        decide(engine, paused.case_id, who="arn:aws:iam::123456789012:user/oncall")

    held = engine.store.get(paused.case_id)
    assert held.status == cs.AWAITING_APPROVAL and held.awaiting["gate"] == "step:deactivate"
    assert not [h for h in held.history if h["kind"] in ("approved", "denied")]
    monkeypatch.setattr(CaseEvidence, "audit", audit)  # S3 is back: the on-call decides again, and it holds
    approve(engine, paused.case_id, who="arn:aws:iam::123456789012:user/oncall")
    assert engine.resume(paused.case_id, book).status == cs.SUCCEEDED


def test_an_approval_whose_seal_failed_still_continues(engine, aws, compromised_user, monkeypatch):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    seal = engine.seal
    monkeypatch.setattr(engine, "seal", lambda evidence: (_ for _ in ()).throw(OSError("S3 unreachable")))
    with pytest.raises(OSError):
        approve(engine, paused.case_id, who="arn:aws:iam::123456789012:user/oncall")
    monkeypatch.setattr(engine, "seal", seal)

    assert engine.resume(paused.case_id, book).status == cs.SUCCEEDED  # the approval is in the log
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"


def test_deny_closes_without_acting_and_cannot_be_decided_twice(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    denied = deny(engine, paused.case_id, reason="false positive", who="me")
    assert denied.status == cs.DENIED
    with pytest.raises(DecisionError, match="not waiting for approval"):
        approve(engine, paused.case_id, who="me")
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"


def test_approval_expires_to_closed_unapproved(aws, parry_env, compromised_user):
    from parry.config import Settings
    from parry.engine.run import Engine

    now = [1_800_000_000.0]
    engine = Engine(aws, Settings.from_env(), clock=lambda: now[0])
    paused = engine.run(approval_book(), compromised_user["event"])
    now[0] += 24 * 3600 + 1

    assert expire_overdue(engine) == [paused.case_id]
    assert engine.store.get(paused.case_id).status == cs.EXPIRED
    with pytest.raises(DecisionError):
        approve(engine, paused.case_id, who="late")


def test_undo_restores_the_key_and_is_recorded(engine, aws, compromised_user, iam_playbook):
    case = engine.run(iam_playbook, compromised_user["event"])
    undone = undo(engine, case.case_id, who="me", reason="owner rotated it")
    assert undone.status == cs.UNDONE
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
    undone_steps = [h["step"] for h in undone.history if h["kind"] == "undo" and h["status"] == "succeeded"]
    changed = [s.step_id for s in case.steps if s.undo]
    assert "deactivate-key" in undone_steps and undone_steps == list(reversed(changed))  # newest first
    with pytest.raises(UndoError, match="nothing to undo"):
        undo(engine, case.case_id, who="me")


def test_undoing_one_of_several_changes_leaves_the_case_partially_undone(engine, aws, compromised_user, iam_playbook):
    case = engine.run(iam_playbook, compromised_user["event"])
    assert len([s for s in case.steps if s.undo]) > 1

    partly = undo(engine, case.case_id, step_id="deactivate-key", who="me", reason="key needed back")

    assert partly.status == engine.store.get(case.case_id).status == cs.PARTIALLY_UNDONE
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
    assert undo(engine, case.case_id, who="me", reason="and the rest").status == cs.UNDONE


def test_undo_of_an_unknown_step_says_which_steps_exist(engine, compromised_user):
    case = engine.run(playbook(), compromised_user["event"])
    with pytest.raises(UndoError, match="no step 'nope'.*deactivate"):
        undo(engine, case.case_id, step_id="nope", who="me")
