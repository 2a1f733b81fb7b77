"""Attack: have another playbook's runner (or a redeployed version of the playbook) continue a case,
so it runs its own steps on it. Refused (WrongPlaybook): nothing runs and the case is as it was."""

from __future__ import annotations

from dataclasses import replace

import pytest

from parry.errors import WrongPlaybook
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


def test_another_version_of_the_playbook_cannot_continue_a_case(engine, aws, compromised_user):
    book = approval_book()
    paused = engine.run(book, compromised_user["event"])
    approve(engine, paused.case_id, who="arn:aws:iam::123456789012:role/Approver")
    redeployed = replace(book, description="changed since the case opened")
    assert redeployed.sha256 != book.sha256

    with pytest.raises(WrongPlaybook, match="version"):
        engine.resume(paused.case_id, redeployed)

    assert engine.store.get(paused.case_id).steps == []
