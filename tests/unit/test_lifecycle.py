"""The lifecycle table: every save is checked against it, and docs/architecture.md shows it as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from parry.store import lifecycle
from parry.store.lifecycle import CaseState, IllegalTransition

ROOT = Path(__file__).resolve().parents[2]


def test_the_architecture_doc_shows_the_current_diagram():
    assert lifecycle.mermaid() in (ROOT / "docs" / "architecture.md").read_text(), (
        "paste `python -c 'from parry.store.lifecycle import mermaid; print(mermaid())'` into docs/architecture.md"
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (CaseState.SUCCEEDED, CaseState.RUNNING),  # a closed case never runs again: a new case follows it
        (CaseState.DENIED, CaseState.SUCCEEDED),
        (CaseState.UNDONE, CaseState.AWAITING_APPROVAL),
        (None, CaseState.SUCCEEDED),  # a case opens RUNNING
        (CaseState.AWAITING_APPROVAL, CaseState.SUCCEEDED),  # approval resumes, it does not finish
    ],
)
def test_a_move_the_table_lacks_is_refused(start, end):
    with pytest.raises(IllegalTransition, match="no such transition"):
        lifecycle.check("case-x", start, end)


def test_the_moves_a_case_makes_are_in_the_table():
    for start, end in [
        (None, CaseState.RUNNING),
        (CaseState.RUNNING, CaseState.AWAITING_APPROVAL),
        (CaseState.AWAITING_APPROVAL, CaseState.RUNNING),
        (CaseState.RUNNING, CaseState.SUCCEEDED),
        (CaseState.SUCCEEDED, CaseState.PARTIALLY_UNDONE),
        (CaseState.PARTIALLY_UNDONE, CaseState.UNDONE),
        (CaseState.UNDONE, CaseState.UNDONE),  # recording on a closed case
    ]:
        lifecycle.check("case-x", start, end)
    with pytest.raises(IllegalTransition, match="is not a valid CaseState"):
        lifecycle.check("case-x", "RUNNING", "PLAN")


def test_a_save_the_lifecycle_does_not_have_writes_nothing(engine, compromised_user):
    from tests.support.playbooks import playbook

    case = engine.run(playbook(), compromised_user["event"])
    assert case.status == "SUCCEEDED"
    case.status = CaseState.RUNNING
    with pytest.raises(IllegalTransition):
        engine.store.save(case)
    assert engine.store.get(case.case_id).status == "SUCCEEDED"


def test_a_save_from_a_stale_status_writes_nothing(engine, compromised_user):
    from parry.errors import ParryError
    from tests.support.playbooks import approval_book

    paused = engine.run(approval_book(), compromised_user["event"])
    stale = engine.store.get(paused.case_id)
    fresh = engine.store.get(paused.case_id)
    fresh.status = CaseState.DENIED
    engine.store.save(fresh)  # someone decided first
    stale.status = CaseState.RUNNING  # an approval made on what it read before
    with pytest.raises(ParryError, match="changed under this run"):
        engine.store.save(stale)
    assert engine.store.get(paused.case_id).status == "DENIED"
