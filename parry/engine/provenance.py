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
  target and account from that event, never from the table.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from parry.engine import intake
from parry.errors import EvidenceMismatch
from parry.evidence import manifest as mf
from parry.store import model as cs

if TYPE_CHECKING:
    from collections.abc import Callable

    from parry.evidence.writer import CaseEvidence
    from parry.playbooks.model import Playbook
    from parry.store.model import Case

logger = logging.getLogger(__name__)

EVENT_FILE = "event.json"


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
) -> None:
    """Set the case's event, target and account to what its sealed event says, before it runs on.

    `delivery`: the authenticated event at hand, used only when no event was sealed yet (an opening
    cut short); without one such a case is EvidenceMismatch. `account_of`: the account an event is
    about, as the engine decided it when the case opened. A table that said otherwise is logged.
    """
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


def log(reason: str, case: Case, **extra: Any) -> None:
    """One security log line, as every refusal has (the runner counts them as SecurityRejections)."""
    logger.warning(
        "security event",
        extra={"security_event": True, "reason": reason, "playbook": case.playbook, "case_id": case.case_id, **extra},
    )
