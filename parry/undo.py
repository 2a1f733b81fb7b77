"""Undo: run the recorded undo of each step of a case, in reverse order, and record it.

Undo parameters were recorded when each step ran (from what it saw before), so undo restores the
state the case found, not what the playbook assumed. Steps without an undo are named, never
skipped silently.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from parry import cases as cs
from parry import steps as st
from parry.actions import registry
from parry.actions.registry import ActionContext
from parry.cases import Case
from parry.errors import ParryError


class UndoError(ParryError):
    """The case or step cannot be undone as asked."""


def undoable(case: Case, step_id: str | None) -> tuple[list[st.StepResult], list[str]]:
    """(steps to undo, newest first; names of changed steps that have no undo)."""
    done = {h.get("step") for h in case.history if h.get("kind") == "undo" and h.get("status") in (st.SUCCEEDED, st.NOOP)}
    chosen = [s for s in case.steps if step_id in (None, s.step_id)]
    if step_id is not None and not chosen:
        raise UndoError(f"case {case.case_id} has no step {step_id!r} (steps: {', '.join(s.step_id for s in case.steps)})")
    changed = [
        s for s in chosen
        if s.status == st.SUCCEEDED and registry.get(s.action).mutating and s.step_id not in done and not s.keep_on_undo
    ]
    missing = []
    for s in changed:
        if not s.undo:
            cls = registry.get(s.action)
            missing.append(f"{s.step_id} ({s.action}: {cls.no_undo_reason or 'no undo'})")
    return [s for s in reversed(changed) if s.undo], missing


def undo(engine: Any, case_id: str, *, step_id: str | None = None, who: str, reason: str = "", partial: bool = False) -> Case:
    case = engine.store.get(case_id)
    if case.status in cs.OPEN_STATUSES:
        raise UndoError(f"case {case_id} is {case.status}: deny or finish it before undoing")
    todo, missing = undoable(case, step_id)
    if missing and not partial:
        raise UndoError("cannot undo " + "; ".join(missing) + (" — pass --partial to undo the rest" if len(todo) else ""))
    if not todo:
        raise UndoError(f"nothing to undo in case {case_id}" + (f" (step {step_id})" if step_id else ""))
    evidence = engine.evidence_for(case)
    failed = False
    for step in todo:
        cls = registry.get(step.undo["action"])
        step_name = f"undo-{step.step_id}"
        try:
            ctx = ActionContext(
                # in the case's account, as the step ran: MemberAccountUnavailable rather than Parry's own credentials
                aws=engine.clients_for(case, cls), case_id=case.case_id, step_id=step_name, playbook=case.playbook,
                account=case.account, region=case.region, event=case.event, evidence=evidence,
                settings={"topic_arn": engine.settings.topic_arn, "protected_arns": engine.settings.protected_arns, "target": case.target},
                prior={s.step_id: s.as_dict() for s in case.steps},
            )
            params = registry.build_params(cls, step.undo["params"])
            result = st.execute(cls(), ctx, params)
        except ParryError as exc:
            result = st.StepResult(step_name, cls.name, st.FAILED, error=str(exc))
        entry = {
            "kind": "undo", "step": step.step_id, "action": cls.name, "status": result.status, "by": who, "reason": reason,
            "error": result.error, "before": result.before, "after": result.after,
            "at": datetime.fromtimestamp(engine.clock(), timezone.utc).isoformat(timespec="seconds"),
        }
        case.history.append(entry)
        evidence.audit("undo", {k: v for k, v in entry.items() if k not in ("kind", "at")})
        if result.status not in (st.SUCCEEDED, st.NOOP):
            failed = True
            break  # stop at the first failure: undoing further back would leave an inconsistent state
    remaining, _ = undoable(case, None)
    if not failed and not remaining:
        case.status = cs.UNDONE
    engine.store.save(case)
    engine.seal(evidence)
    if failed:
        raise UndoError(f"undo of step {entry['step']} failed: {entry['error']}; case {case_id} records how far it got")
    return case
