"""What the sealed evidence says about a case, for the decisions the case table must not make alone.

The case table is written by Parry's roles, but it is only a checkpoint: whoever could write one
item could fabricate a case, an approval or an undo. The audit log in the evidence bucket is
write-once (S3 Object Lock), hash-chained and sealed by signed manifests, so before a runner
continues a case past a gate or undoes a step it reads the log back, checks the chain, and acts
only on what the log holds: the approvals it recorded, and each step's undo as recorded when the
step ran (from the state it found before). EvidenceMismatch when the table says otherwise.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from parry.actions import registry
from parry.errors import ActionError, EvidenceMismatch
from parry.evidence import manifest as mf
from parry.evidence.writer import GENESIS, sha256_hex
from parry.store.model import Case
from parry.store.step_result import CHANGED

if TYPE_CHECKING:
    from parry.evidence.writer import CaseEvidence


def audit_log(case: Case, evidence: CaseEvidence) -> list[dict[str, Any]]:
    """The case's audit records in order, their chain checked; EvidenceMismatch when it does not hold
    or is not this case's (no log at all: a case Parry never opened)."""
    numbered: dict[int, str] = {}
    for key in evidence.store.keys(evidence.prefix + mf.AUDIT_DIR):
        m = mf.AUDIT_RE.match(key[len(evidence.prefix) :])
        if m:
            numbered[int(m.group(1))] = key
    if not numbered:
        raise EvidenceMismatch(f"case {case.case_id} has no sealed audit log: Parry never opened it")
    records: list[dict[str, Any]] = []
    previous = GENESIS
    for seq in range(1, max(numbered) + 1):
        if seq not in numbered:
            raise EvidenceMismatch(f"the audit log of case {case.case_id} has no record {seq}: it was cut")
        body = evidence.store.get(numbered[seq])
        record = json.loads(body)
        if not isinstance(record, dict) or record.get("seq") != seq or record.get("prev_sha256") != previous:
            raise EvidenceMismatch(f"the audit log of case {case.case_id} is broken at record {seq}")
        records.append(record)
        previous = sha256_hex(body)
    opened = records[0]
    if (
        opened.get("kind") != "case_opened"
        or opened.get("case_id") != case.case_id
        or opened.get("playbook") != case.playbook
        or opened.get("playbook_sha256") != case.playbook_sha256
    ):
        raise EvidenceMismatch(f"the audit log under {evidence.prefix} is not the log of case {case.case_id}")
    return records


def _gate(record: dict[str, Any]) -> str:
    from parry.engine.approvals import step_gate

    return str(record.get("gate") or step_gate(str(record.get("step"))))


def check_decisions(case: Case, records: list[dict[str, Any]]) -> None:
    """EvidenceMismatch unless every approval in the case is one the log recorded (same gate and nonce)
    and the log does not still have the case waiting at a gate (a status written into the table)."""
    approved = {(_gate(r), r.get("nonce")) for r in records if r.get("kind") == "approved"}
    for entry in case.history:
        if entry.get("kind") == "approved" and (entry.get("gate"), entry.get("nonce")) not in approved:
            raise EvidenceMismatch(
                f"case {case.case_id} records an approval of {entry.get('gate')!r} by {entry.get('by')!r} "
                "that its sealed audit log does not hold: it was written into the table"
            )
    waiting: str | None = None
    for record in records:
        kind = record.get("kind")
        if kind == "approval_requested":
            waiting = _gate(record)
        elif kind == "approved" and waiting == _gate(record):
            waiting = None
        elif kind in ("denied", "expired", "case_closed"):
            waiting = kind
    if waiting is not None:
        state = f"waits at gate {waiting!r}" if waiting not in ("denied", "expired", "case_closed") else waiting
        raise EvidenceMismatch(
            f"the sealed audit log of case {case.case_id} says it {state}, not that it may run on: nothing ran"
        )


def sealed_undo(case: Case, records: list[dict[str, Any]], step_id: str) -> tuple[str, dict[str, Any]]:
    """(undo action, parameters) of step `step_id` as the log recorded them when the step changed
    something; the undo must be the registry's undo of the step's recorded action."""
    finished = [
        r.get("result") or {}
        for r in records
        if r.get("kind") == "step_finished" and r.get("step") == step_id and (r.get("result") or {}).get("status")
    ]
    result = finished[-1] if finished else {}
    if result.get("status") not in CHANGED or not isinstance(result.get("undo"), dict):
        raise EvidenceMismatch(f"the sealed audit log of case {case.case_id} holds no change by step {step_id!r}")
    action, undo = str(result.get("action")), result["undo"]
    try:
        expected = registry.get(action).undo
    except ActionError as exc:
        raise EvidenceMismatch(f"step {step_id!r} of case {case.case_id} ran no known action") from exc
    if undo.get("action") != expected or expected is None or not isinstance(undo.get("params"), dict):
        raise EvidenceMismatch(
            f"the undo of step {step_id!r} ({undo.get('action')!r}) is not the undo of {action} ({expected})"
        )
    return expected, dict(undo["params"])
