"""A case's opening: the evidence it starts with (its event, its playbook, the case_opened record) and the
hourly guardrail, decided once and sealed in that record, so a redelivery after a crash decides the same.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from parry.engine import approvals
from parry.engine.guardrails import rate_limit_reason
from parry.evidence import manifest as mf

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.evidence.writer import CaseEvidence
    from parry.playbooks.model import Playbook
    from parry.store.model import Case


def open_case(
    engine: Engine,
    case: Case,
    playbook: Playbook,
    evidence: CaseEvidence,
    owner: str,
    *,
    over: tuple[str, ...] | None,
) -> Case | None:
    """Write the case's opening evidence and apply the hourly guardrail; the paused case, or None.

    `over`: the hourly limits the claim's count went past, for the case this invocation opened.
    A redelivery after a crash calls it again (`over=None`): it writes only what is missing, and
    takes the guardrail's decision from the case_opened record when that record exists (else it
    counts the case again: what the claim counted is not known).
    """
    fresh = over is not None
    present = set() if fresh else {key[len(evidence.prefix) :] for key in evidence.store.keys(evidence.prefix)}
    if "event.json" not in present:
        evidence.put("event.json", case.event)
    if "playbook.json" not in present:
        evidence.put("playbook.json", {"sha256": playbook.sha256, "playbook": playbook.compiled()})
    limit, cap = playbook.max_cases_per_hour, engine.settings.max_cases_per_hour
    first = mf.audit_relpath(1)
    opened = json.loads(evidence.store.get(evidence.prefix + first)) if first in present else None
    if opened is None or opened.get("kind") != "case_opened":
        # counted by the claim: after the finding's re-read, so a refused request never counts
        if over is not None:
            hourly: dict[str, Any] = {"over_hourly_limits": list(over)}
        else:
            count, total = (
                engine.store.count_case(playbook.name, case.account, manual=case.manual)
                if limit or cap
                else (None, None)
            )
            hourly = {"cases_this_hour": count, "all_cases_this_hour": total}
        evidence.audit(
            "case_opened",
            {
                "case_id": case.case_id,
                "playbook": playbook.name,
                "playbook_sha256": playbook.sha256,
                "dedup": case.dedup,
                "dry_run": case.dry_run,
                "manual": case.manual,
                "case_status": case.status,
                "requested_by": case.requested_by,
                "requested_via": case.requested_via,
                "follows": case.follows,
                **hourly,
            },
        )
    else:
        hourly = opened
    reason = rate_limit_reason(
        playbook.name,
        case.account,
        limit=limit,
        count=hourly.get("cases_this_hour"),
        cap=cap,
        total=hourly.get("all_cases_this_hour"),
        over=tuple(hourly.get("over_hourly_limits") or ()),
    )
    if reason and case.next_step == 0 and not approvals.approved(case, approvals.RATE_LIMIT_GATE):
        return approvals.pause(
            engine, case, playbook, evidence, owner, index=0, gate=approvals.RATE_LIMIT_GATE, reason=reason
        )
    return None
