"""Which playbook an existing case runs: the compiled version sealed in its evidence when it opened.

A runner carries one playbook, but a case runs the version it opened with (`playbook.json`, checked
against the case's sha256 and its sealed audit log), on continue, approve, resume, undo and a
redelivery alike, so a redeployed runner never runs steps the case did not plan, and nothing reads a
playbook by name for an existing case. The runner's role is made for its own playbook: another
playbook's case is refused (WrongPlaybook, a security event); another version of its own runs if the
sealed version needs nothing the role does not allow, else the case is blocked and says why.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from parry.engine import notices, sealed
from parry.engine.permissions import beyond
from parry.errors import CaseBusy, EvidenceMismatch, PlaybookNotPermitted, WrongPlaybook
from parry.playbooks.model import Playbook, from_compiled

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence
    from parry.store.model import Case

PLAYBOOK_FILE = "playbook.json"
BLOCKED = "blocked"  # the history entry of a case a runner may not run
BLOCK_LEASE_SECONDS = 60.0


def sealed_playbook(case: Case, evidence: CaseEvidence) -> Playbook | None:
    """The compiled playbook sealed in the case's evidence, verified to be the case's version; None when
    the case never got as far as writing it (a crash in its opening). EvidenceMismatch otherwise."""
    try:
        doc = evidence.sealed_json(PLAYBOOK_FILE)
        if doc is None:
            return None
        book = from_compiled(doc["playbook"], f"{evidence.prefix}{PLAYBOOK_FILE}")
    except (ValueError, KeyError, TypeError) as exc:
        raise EvidenceMismatch(f"the sealed {PLAYBOOK_FILE} of case {case.case_id} is not a compiled playbook") from exc
    if doc.get("sha256") != case.playbook_sha256 or book.sha256 != case.playbook_sha256 or book.name != case.playbook:
        raise EvidenceMismatch(
            f"the sealed {PLAYBOOK_FILE} of case {case.case_id} is not version {case.playbook_sha256[:12]} "
            f"of {case.playbook}: nothing ran"
        )
    return book


def playbook_for(
    engine: Engine, case: Case, own: Playbook, *, evidence: CaseEvidence | None = None, owner: str | None = None
) -> Playbook:
    """The playbook `case` runs in a runner whose own playbook is `own` (see the module docstring).

    `owner`: the lease the caller holds on the case, under which a block is recorded (else one is taken).
    """
    if case.playbook != own.name:
        raise WrongPlaybook(f"case {case.case_id} belongs to playbook {case.playbook}, not {own.name}: nothing ran")
    evidence = evidence or engine.evidence_for(case)
    book = sealed_playbook(case, evidence)
    if book is None and case.playbook_sha256 == own.sha256:
        return own  # opened by this version, cut short before its playbook.json: the redelivery writes it
    if book is not None and book.sha256 == own.sha256:
        return book
    if book is None:
        reason = f"its playbook version {case.playbook_sha256[:12]} was never sealed in its evidence"
    else:
        sealed.audit_log(case, evidence)  # the log's case_opened names the same version, or EvidenceMismatch
        missing = beyond(book, own)
        if not missing:
            return book
        reason = (
            f"it runs {case.playbook} version {book.sha256[:12]}, which may call what this runner's role "
            f"(version {own.sha256[:12]}) does not allow: {', '.join(missing)}"
        )
    block(engine, case, own, reason, owner=owner)
    raise PlaybookNotPermitted(
        f"case {case.case_id} is blocked: {reason}. Nothing ran; redeploy a runner whose playbook allows it, "
        f"then `parry cases resume {case.case_id}`"
    )


def block(engine: Engine, case: Case, own: Playbook, reason: str, *, owner: str | None) -> None:
    """Record in the case and its audit log that the runner of `own` may not run it, and tell the on-call."""
    lease = owner or uuid.uuid4().hex
    if owner is None and not engine.store.acquire_lease(case.case_id, owner=lease, seconds=BLOCK_LEASE_SECONDS):
        raise CaseBusy(f"case {case.case_id} is being worked on by another invocation; retry later")
    try:
        current = engine.store.get(case.case_id)
        at = datetime.fromtimestamp(engine.clock(), UTC).isoformat(timespec="seconds")
        current.history.append(
            {
                "kind": BLOCKED,
                "reason": reason,
                "runner_playbook_sha256": own.sha256,
                "next_step": current.next_step,
                "at": at,
            }
        )
        engine.store.save(current, owner=lease)
        evidence = engine.evidence_for(current)
        evidence.audit("case_blocked", {"reason": reason, "runner_playbook_sha256": own.sha256})
        engine.seal(evidence)
    finally:
        if owner is None:
            engine.store.release_lease(case.case_id, owner=lease)
    engine.tell(*notices.playbook_blocked(current, reason))


def blocked(case: Case) -> bool:
    """Whether the case's last word is a runner refusing its version, at the step it is still at."""
    last = case.history[-1] if case.history else {}
    return last.get("kind") == BLOCKED and last.get("next_step") == case.next_step
