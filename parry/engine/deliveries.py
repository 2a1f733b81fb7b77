"""What a delivery does when the claim finds a case Parry opened on its key: the same delivery again
resumes an interrupted run or is recorded as a duplicate; a new finding on an open case is recorded with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from parry.engine import dedup, notices, opening, provenance, versions
from parry.errors import CaseBusy
from parry.store import model as cs
from parry.store.lifecycle import Outcome

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.store.model import Case


def attach(
    engine: Engine,
    case: Case,
    playbook: Playbook,
    event: dict[str, Any],
    owner: str,
    lease: float,
    remaining_seconds: Callable[[], float] | None,
    requested_by: str | None,
) -> Case:
    """A new finding on the key of an open case (or one in its dedup window): recorded with the case
    (the on-call told when it is more severe), and an interrupted run resumed as for a redelivery.
    A case another run holds raises CaseBusy there, after the finding is recorded: the retried
    delivery is then a redelivery, so it is neither attached nor told twice."""
    at = datetime.fromtimestamp(engine.clock(), UTC).isoformat(timespec="milliseconds")
    engine.store.attach_finding(case.case_id, dedup.attachment(event, at=at, by=requested_by))
    if dedup.severity_rose(case, event):
        engine.tell(*notices.severity_rose(case, dedup.severity(event)))
    found = engine.store.get(case.case_id)
    if found.status == cs.RUNNING:
        found = redelivered(engine, found, playbook, event, owner, lease, remaining_seconds)
    if found.outcome in (Outcome.RAN, Outcome.DUPLICATE):  # continue-later or blocked must reach the handler
        found.outcome = Outcome.ATTACHED
    return found


def redelivered(
    engine: Engine,
    case: Case,
    playbook: Playbook,
    event: dict[str, Any],
    owner: str,
    lease: float,
    remaining_seconds: Callable[[], float] | None,
) -> Case:
    """A second delivery: resume an interrupted run, otherwise record a duplicate and change nothing.

    A RUNNING case whose lease another run holds raises CaseBusy: that run may have died without
    freeing it, so this delivery must fail and be retried (after the lease) rather than be dropped.
    """
    if case.status == cs.RUNNING and not engine.store.acquire_lease(case.case_id, owner=owner, seconds=lease):
        raise CaseBusy(f"case {case.case_id} is being run by another invocation; retry this delivery later")
    if case.status == cs.RUNNING:
        case = engine.store.get(case.case_id)
        if case.status == cs.RUNNING:
            evidence = engine.evidence_for(case)
            try:
                playbook = versions.playbook_for(engine, case, playbook, evidence=evidence, owner=owner)
                provenance.restore_inputs(case, playbook, evidence, account_of=engine.account_of, delivery=event)
                # a crash may have cut the opening short: what is missing is written
                paused = opening.open_case(engine, case, playbook, evidence, owner, over=None)
                if paused:
                    return paused
                evidence.audit("case_resumed", {"from_step": case.next_step, "event_id": event.get("id")})
            except BaseException:
                engine.store.release_lease(case.case_id, owner=owner)
                raise
            return engine.run_on(case, playbook, evidence, owner, remaining_seconds)
        engine.store.release_lease(case.case_id, owner=owner)
    engine.store.record_duplicate(case.case_id, event.get("id"))
    case.outcome = Outcome.DUPLICATE
    return case
