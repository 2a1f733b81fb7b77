"""Attack: a run whose event (or request) names a time in 2099, so that the revoke-sessions deny it
writes on a role covers every session until 2099, Parry's own and the responders' included.

The cutoff is min(that time, now): the role's older sessions are revoked, newer ones are not, and the
future time is logged as a security event.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from parry.actions.base import ActionContext
from parry.actions.iam_roles import REVOKE_POLICY
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.actions import ACCOUNT, run
from tests.support.attacker import security_events
from tests.support.decisions import approve

FUTURE = "2099-01-01T00:00:00Z"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def role(aws):
    aws.client("iam").create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    return "app-role"


@pytest.fixture
def ctx(aws) -> ActionContext:
    return ActionContext(
        aws=aws, case_id="case-1", step_id="revoke", playbook="test", account=ACCOUNT, region="us-east-1"
    )


def cutoff_of(aws, role_name: str) -> datetime:
    doc = aws.client("iam").get_role_policy(RoleName=role_name, PolicyName=REVOKE_POLICY)["PolicyDocument"]
    doc = doc if isinstance(doc, dict) else json.loads(doc)
    value = doc["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_manual_quarantine_dated_2099_revokes_sessions_only_up_to_now(engine, aws, role, caplog):
    book = load_file("playbooks/manual-quarantine.yaml")
    event = {
        "version": "0",
        "id": "forged-time",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": "123456789012",
        "region": "us-east-1",
        "time": FUTURE,
        "resources": [],
        "detail": {"playbook": "manual-quarantine", "role": role, "reason": "INC-2099"},
    }
    caplog.set_level(logging.WARNING)

    case = engine.run(book, event, manual=True, requested_by="arn:aws:iam::123456789012:role/OnCall")
    while case.status == cs.AWAITING_APPROVAL:  # each containment step waits for a second person
        approve(engine, case.case_id, who="arn:aws:iam::123456789012:role/Approver")
        case = engine.resume(case.case_id, book)

    assert case.status == cs.SUCCEEDED
    assert cutoff_of(aws, role) <= datetime.now(UTC) + timedelta(seconds=1)
    assert any(
        FUTURE in r.getMessage() or FUTURE in str(r.__dict__.get("reason")) for r in security_events(caplog.records)
    )


def test_an_explicit_issued_before_in_2099_is_capped_to_now(ctx, aws, role, caplog):
    caplog.set_level(logging.WARNING)

    result = run(ctx, "iam.revoke_role_sessions", role_name=role, issued_before=FUTURE)

    assert result.status == "succeeded"
    assert cutoff_of(aws, role) <= datetime.now(UTC) + timedelta(seconds=1)
    assert security_events(caplog.records)


def test_a_time_in_the_past_is_kept(ctx, aws, role, caplog):
    caplog.set_level(logging.WARNING)

    run(ctx, "iam.revoke_role_sessions", role_name=role, issued_before="2024-01-01T00:00:00Z")

    assert cutoff_of(aws, role) == datetime(2024, 1, 1, tzinfo=UTC)
    assert not security_events(caplog.records)
