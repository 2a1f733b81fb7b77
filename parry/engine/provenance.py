"""Whether the case a claim names is one Parry opened, and what it runs on: its sealed evidence says.

The case table is a checkpoint that whoever can write one item could fill in: a made-up case on a
real finding's key (that finding then attached to it, or taken for a duplicate, and contained
nowhere), or a real case whose target, event or account were rewritten before it runs on (an
approval then acting on what the attacker named). The evidence bucket is write-once and only the
runners write it, so:

- a case another delivery finds on its key counts only when its first audit record is the
  `case_opened` Parry wrote for that case, playbook version and dedup value, or when it is a
  RUNNING case whose opening a crash cut short before that record (nothing run, nothing decided);
  any other is logged as a security event and the finding opens its own case;
- a case that runs on takes its event from its sealed `event.json` (or, when the opening was cut
  short before it, from the delivery at hand, which was just re-read from its service), and its
  target and account from that event, never from the table; and each step it ran counts as the
  audit record sealed when the step ran says (its output, status and state feed later steps); it
  runs on from the first step its log has no record of, and stays a dry run when its log says so.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from parry.engine import intake
from parry.engine.sealed import audit_log
from parry.errors import EvidenceMismatch
from parry.evidence import manifest as mf
from parry.store import model as cs
from parry.store.step_result import BLOCKED, FAILED, SKIPPED, StepResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from parry.evidence.writer import CaseEvidence
    from parry.playbooks.model import Playbook
    from parry.store.model import Case

logger = logging.getLogger(__name__)

EVENT_FILE = "event.json"
FINISHED = "step_finished"  # the audit record of a step that ran its action, holding its result
# the audit records of a step that ended without running its action, and the status each gives it
UNRUN = {"step_skipped": SKIPPED, "step_failed": FAILED, "step_blocked": BLOCKED}


def not_opened_by_parry(case: Case, evidence: CaseEvidence) -> str | None:
    """Why the case a claim names is not one Parry opened on that key; None when it is (or may be)."""
    opened = evidence.sealed_json(mf.audit_relpath(1))
    if opened is None:
        if case.status == cs.RUNNING and not case.next_step and not case.steps and not case.history:
            return None  # the opening was cut short before its record: the redelivery writes it
        return (
            f"the table has case {case.case_id} {case.status} on this key, but its evidence holds no "
            "case_opened record: Parry never opened it"
        )
    named = {
        "kind": "case_opened",
        "case_id": case.case_id,
        "playbook": case.playbook,
        "playbook_sha256": case.playbook_sha256,
        "dedup": case.dedup,
    }
    differing = sorted(k for k, v in named.items() if not isinstance(opened, dict) or opened.get(k) != v)
    if differing:
        return f"the sealed opening of case {case.case_id} does not name its {', '.join(differing)} as the table does"
    return None


def restore_inputs(
    case: Case,
    playbook: Playbook,
    evidence: CaseEvidence,
    *,
    account_of: Callable[[dict[str, Any]], str],
    delivery: dict[str, Any] | None = None,
    records: list[dict[str, Any]] | None = None,
) -> None:
    """Set the case's event, target and account to what its sealed event says, and the results of the
    steps it ran, where it runs on from and whether it is a dry run to what its sealed audit log says
    (`restore_steps`, `restore_progress`), before it runs on.

    `delivery`: the authenticated event at hand, used only when no event was sealed yet (an opening
    cut short); without one such a case is EvidenceMismatch. `account_of`: the account an event is
    about, as the engine decided it when the case opened. `records`: the case's audit log, when the
    caller has just read it. A table that said otherwise is logged.
    """
    ran = bool(case.steps or case.next_step)
    # a case that ran no step yet may have no audit log (an opening cut short)
    if ran or evidence.sealed_json(mf.audit_relpath(1)) is not None:
        records = audit_log(case, evidence) if records is None else records
        restore_steps(case, playbook, records)
        restore_progress(case, playbook, records)
    elif playbook.mode == "dry-run" and not case.dry_run:
        log(f"the case table says case {case.case_id} of a dry-run playbook is no dry run: it stays one", case)
        case.dry_run = True
    sealed = evidence.sealed_json(EVENT_FILE)
    source = sealed if sealed is not None else delivery
    if not isinstance(source, dict):
        raise EvidenceMismatch(f"case {case.case_id} has no sealed {EVENT_FILE}: nothing ran")
    target, dedup = intake.resolve(playbook, source)
    if dedup != case.dedup:
        raise EvidenceMismatch(
            f"the {'sealed' if sealed is not None else 'delivered'} event of case {case.case_id} is not on "
            "its dedup key: nothing ran"
        )
    account = account_of(source)
    changed = [
        name
        for name, table_value, held in (
            ("event", case.event, source),
            ("target", case.target, target),
            ("account", case.account, account),
        )
        if table_value != held
    ]
    if changed:
        log(
            f"the case table's {', '.join(changed)} of case {case.case_id} differ from its "
            f"{'sealed event' if sealed is not None else 'authenticated delivery'}: those are used",
            case,
        )
    case.event, case.target, case.account = source, target, account


def restore_steps(case: Case, playbook: Playbook, records: list[dict[str, Any]]) -> None:
    """Set the results of the steps the case ran to what its audit log recorded when they ran.

    Later steps' expressions (`${steps.X.output...}`, `when`) and actions (a deletion allowed only
    after a capture) act on these, so the table's are never trusted: a step the log has no record
    of is dropped, and any status, output or state that differs is the log's, and logged. A step
    at or past `next_step` that the table does not hold (a crash before its checkpoint) runs again.
    """
    index = {step.id: i for i, step in enumerate(playbook.steps)}
    held = {s.step_id: s for s in case.steps}
    recorded: dict[str, StepResult] = {}
    for record in records:
        step_id = record.get("step")
        kind = record.get("kind")
        if not (kind == FINISHED or kind in UNRUN) or not isinstance(step_id, str) or step_id not in index:
            continue
        recorded.pop(step_id, None)  # a step run again (after a block or a crash) counts as run last
        recorded[step_id] = _recorded_result(record, playbook.steps[index[step_id]].action, held.get(step_id))
    restored = [r for r in recorded.values() if index[r.step_id] < case.next_step or r.step_id in held]
    differing = sorted(
        {s.step_id for s in case.steps if s.step_id not in recorded}
        | {r.step_id for r in restored if r.step_id not in held or _fed(held[r.step_id]) != _fed(r)}
    )
    if differing:
        log(
            f"the case table's results of step(s) {', '.join(differing)} of case {case.case_id} differ from its "
            "sealed audit log: the sealed ones are used",
            case,
        )
    case.steps = restored


def restore_progress(case: Case, playbook: Playbook, records: list[dict[str, Any]]) -> None:
    """Set where the case runs on from, and whether it is a dry run, to what its audit log says.

    The table's `next_step` past a step the log has no record of would skip that step (a capture, a
    re-check), and its `dry_run` turned off would make a dry run, or a case the kill switch stopped,
    change the account: the case never runs on further than its log, nor less carefully.
    """
    ended = {r.get("step") for r in records if r.get("kind") == FINISHED or r.get("kind") in UNRUN}
    logged = next((i for i, step in enumerate(playbook.steps) if step.id not in ended), len(playbook.steps))
    if case.next_step > logged:
        log(
            f"the case table says case {case.case_id} runs on from step {case.next_step + 1}, but its sealed "
            f"audit log ends before step {logged + 1} ({playbook.steps[logged].id}): it runs on from there",
            case,
        )
        case.next_step = logged
    sealed_dry = any(
        (r.get("kind") == "case_opened" and r.get("dry_run") is True) or r.get("kind") == "kill_switch_on"
        for r in records
    )
    if sealed_dry and not case.dry_run:
        log(f"the case table says case {case.case_id} is no dry run, but its sealed audit log does: it stays one", case)
        case.dry_run = True


def _recorded_result(record: dict[str, Any], action: str, held: StepResult | None) -> StepResult:
    """The step's result as `record` says: a finished step's in full; a skipped, failed or blocked one
    ran no action, so it has no output or state (the table's words about it are kept)."""
    if record["kind"] == FINISHED:
        if not isinstance(record.get("result"), dict):
            raise EvidenceMismatch(f"the sealed record of step {record['step']!r} holds no result")
        return StepResult.from_dict(record["result"])
    status = UNRUN[record["kind"]]
    base = held if held is not None else StepResult(str(record["step"]), action, status)
    return replace(base, action=action, status=status, output={}, before=None, after=None, undo=None)


def _fed(result: StepResult) -> tuple[Any, ...]:
    """What of a step's result later steps act on (case_variables, an action's `prior`)."""
    return result.action, result.status, result.output, result.before, result.after, result.undo


def log(reason: str, case: Case, **extra: Any) -> None:
    """One security log line, as every refusal has (the runner counts them as SecurityRejections)."""
    logger.warning(
        "security event",
        extra={"security_event": True, "reason": reason, "playbook": case.playbook, "case_id": case.case_id, **extra},
    )
