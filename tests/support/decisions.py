"""Decisions as the control plane hands them to the runner: at the gate the case waits at now, for its
playbook version, with a fresh nonce (the tests that replay or forge decisions build theirs by hand)."""

from __future__ import annotations

import uuid

from parry.engine.approvals import APPROVE, DENY, Decision, decide
from parry.engine.run import Engine
from parry.store.model import Case


def decision_for(engine: Engine, case_id: str, kind: str, *, who: str, reason: str = "") -> Decision:
    case = engine.store.get(case_id)
    gate = str((case.awaiting or {}).get("gate", ""))
    return Decision(kind, gate, case.playbook_sha256, uuid.uuid4().hex, who, reason)


def approve(engine: Engine, case_id: str, *, who: str, reason: str = "") -> Case:
    return decide(engine, case_id, decision_for(engine, case_id, APPROVE, who=who, reason=reason))


def deny(engine: Engine, case_id: str, *, who: str, reason: str = "") -> Case:
    return decide(engine, case_id, decision_for(engine, case_id, DENY, who=who, reason=reason))
