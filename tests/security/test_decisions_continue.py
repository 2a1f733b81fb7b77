"""Attack: have another playbook's runner (or a redeployed version of the playbook) continue a case,
so it runs its own steps on it. Another playbook's runner is refused (WrongPlaybook); a redeployed one
runs the version sealed in the case, or, when its role allows less, blocks the case and says why."""

from __future__ import annotations

import pytest

from parry.engine import sealed
from parry.errors import PlaybookNotPermitted, WrongPlaybook
from parry.store import model as cs
from tests.support.decisions import approve
from tests.support.playbooks import approval_book, playbook


def test_another_playbooks_runner_cannot_continue_a_case(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    approve(engine, paused.case_id, who="arn:aws:iam::123456789012:role/Approver")
    other = playbook(name="other-book")

    with pytest.raises(WrongPlaybook, match="belongs to playbook test-book"):
        engine.resume(paused.case_id, other)

    case = engine.store.get(paused.case_id)
    assert case.status == cs.RUNNING and case.steps == [] and case.next_step == 0


def _key_status(aws, compromised_user) -> str:
    keys = aws.client("iam").list_access_keys(UserName=compromised_user["user"])["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == compromised_user["key"])


def test_a_redeployed_runner_runs_the_version_sealed_in_the_case(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    approve(engine, paused.case_id, who="arn:aws:iam::123456789012:role/Approver")
    redeployed = playbook(
        description="redeployed since the case opened",
        steps=[
            {
                "id": "deactivate-now",
                "action": "iam.deactivate_access_key",
                "with": {"user_name": "${target.user}", "access_key_id": "${target.key}"},
            }
        ],
    )
    assert redeployed.sha256 != paused.playbook_sha256

    case = engine.resume(paused.case_id, redeployed)

    assert case.status == cs.SUCCEEDED and [s.step_id for s in case.steps] == ["deactivate"]
    assert _key_status(aws, compromised_user) == "Inactive"


def test_a_redeployed_runner_whose_role_allows_less_blocks_the_case_and_says_why(engine, aws, compromised_user):
    paused = engine.run(approval_book(), compromised_user["event"])
    approve(engine, paused.case_id, who="arn:aws:iam::123456789012:role/Approver")
    capture_only = playbook(
        steps=[{"id": "capture", "action": "evidence.capture_iam_user", "with": {"user_name": "${target.user}"}}]
    )

    with pytest.raises(PlaybookNotPermitted, match="iam:UpdateAccessKey") as refused:
        engine.resume(paused.case_id, capture_only)

    assert "parry cases resume" in str(refused.value)
    case = engine.store.get(paused.case_id)
    assert case.status == cs.RUNNING and case.steps == [] and _key_status(aws, compromised_user) == "Active"
    assert case.history[-1]["kind"] == "blocked" and "iam:UpdateAccessKey" in case.history[-1]["reason"]
    records = sealed.audit_log(case, engine.evidence_for(case))
    (blocked,) = [r for r in records if r["kind"] == "case_blocked"]
    assert "iam:UpdateAccessKey" in blocked["reason"]

    assert engine.resume(paused.case_id, approval_book()).status == cs.SUCCEEDED  # the right runner goes on
