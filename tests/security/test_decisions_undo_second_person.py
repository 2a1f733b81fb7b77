"""Attack: undo a containment alone, to give a contained key back: ask the runner for the undo and
approve it yourself, or write the request as approved into the table. An undo that gives access back
waits at gate `undo:<request id>` for someone other than the requester, and the runner checks that
approval in the sealed audit log: until then nothing is undone and the key stays Inactive."""

from __future__ import annotations

import uuid

import pytest

from parry.engine import undo as undoing
from parry.engine.approvals import APPROVE, Decision, decide
from parry.errors import SeparationOfDuties, UndoRefused
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.attacker import overwrite_case

BOOK = "iam-credential-compromise"
ONCALL = "arn:aws:sts::123456789012:assumed-role/OnCall/alice"
APPROVER = "arn:aws:sts::123456789012:assumed-role/Approver/bob"


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def carry_out(engine, case_id: str):
    return undoing.carry_out(engine, case_id, playbook=BOOK, lease_seconds=60)


@pytest.fixture
def asked(engine, aws, compromised_user):
    """A contained case whose undo (which reactivates the key) alice asked of the runner."""
    case = engine.run(load_file(f"playbooks/{BOOK}.yaml"), compromised_user["event"])
    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"
    return undoing.request_undo(engine, case.case_id, who=ONCALL, reason="false positive", partial=True)


def approval(case, who: str) -> Decision:
    gate = case.undo_request["gate"]
    return Decision(APPROVE, gate, case.playbook_sha256, uuid.uuid4().hex, who, "checked with the owner")


def test_an_undo_that_gives_access_back_waits_for_a_second_person(engine, aws, compromised_user, asked):
    request = engine.store.get(asked.case_id).undo_request
    assert request["state"] == cs.UNDO_AWAITING and request["gate"] == f"undo:{request['id']}"

    with pytest.raises(UndoRefused, match="second person"):
        carry_out(engine, asked.case_id)
    with pytest.raises(SeparationOfDuties):
        decide(engine, asked.case_id, approval(asked, ONCALL))

    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"

    decide(engine, asked.case_id, approval(asked, APPROVER))
    done = carry_out(engine, asked.case_id)

    assert done.status == cs.UNDONE and key_status(aws, "ci-deployer", compromised_user["key"]) == "Active"
    assert any(h["kind"] == "undo_approved" and h["by"] == APPROVER for h in done.history)


def test_an_undo_approval_written_into_the_table_undoes_nothing(engine, aws, parry_env, compromised_user, asked):
    request = dict(engine.store.get(asked.case_id).undo_request, state=cs.UNDO_PENDING)
    overwrite_case(aws, parry_env["PARRY_CASES_TABLE"], asked.case_id, undo_request=request)

    with pytest.raises(UndoRefused, match="no approval of it by a second person"):
        carry_out(engine, asked.case_id)

    assert key_status(aws, "ci-deployer", compromised_user["key"]) == "Inactive"


def test_a_single_person_setup_can_turn_the_second_person_off(aws, parry_env, compromised_user, monkeypatch):
    from parry.config import Settings
    from parry.engine.run import Engine

    monkeypatch.setenv("PARRY_UNDO_NEEDS_SECOND_PERSON", "false")
    engine = Engine(aws, Settings.from_env())
    case = engine.run(load_file(f"playbooks/{BOOK}.yaml"), compromised_user["event"])

    asked = undoing.request_undo(engine, case.case_id, who=ONCALL, partial=True)

    assert asked.undo_request["state"] == cs.UNDO_PENDING
    assert carry_out(engine, case.case_id).status == cs.UNDONE
