"""What a delivery is to the case that already holds its dedup key: never a reason to drop a finding.

The same delivery again (its event id, or the same finding at the same version) is a duplicate.
A new finding while the case is open is attached to it (recorded; the on-call told if the severity
rose). Once the case is closed (succeeded, failed, denied, expired, undone, a dry run) a new finding
opens a new case that follows it, unless the playbook's `dedup_window` keeps a SUCCEEDED case
answering for a while, in which case the finding is attached to it, never dropped.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from parry.routing.finding_view import OCSF_DETAIL_TYPE, ocsf_version
from parry.store import lifecycle
from parry.store.model import SUCCEEDED, Case


class Relation(Enum):
    REDELIVERY = "redelivery"  # the very same delivery or finding version: a duplicate
    ATTACH = "attach"  # a new finding on an open case (or one in the dedup window): recorded with it
    FOLLOW = "follow"  # a new finding on a closed case: a new case, linked to the earlier one


def delivery_keys(event: dict[str, Any]) -> set[str]:
    """What identifies this delivery: the event id, and the finding's id at its version."""
    keys = {f"event:{event['id']}"} if isinstance(event.get("id"), str) and event["id"] else set()
    version = finding_version(event)
    if version:
        keys.add(f"finding:{version}")
    return keys


def finding_version(event: dict[str, Any]) -> str | None:
    """`<finding id>@<updated at>` for a GuardDuty or Security Hub (ASFF) finding, `<uid>@<digest of what
    was detected>` for a Security Hub v2 (OCSF) one (its write-backs are no new version); None for other
    events."""
    detail = _detail(event)
    if event.get("source") == "aws.guardduty" and isinstance(detail.get("id"), str):
        return f"{detail['id']}@{detail.get('updatedAt', '')}"
    findings = detail.get("findings")
    if event.get("source") == "aws.securityhub" and isinstance(findings, list) and findings:
        first = findings[0] if isinstance(findings[0], dict) else {}
        if event.get("detail-type") == OCSF_DETAIL_TYPE:
            return ocsf_version(first)
        if isinstance(first.get("Id"), str):
            return f"{first['Id']}@{first.get('UpdatedAt', '')}"
    return None


def severity(event: dict[str, Any]) -> float | None:
    """The finding's severity on its service's scale (GuardDuty 1-10, ASFF Normalized 0-100), if any."""
    detail = _detail(event)
    value: Any = detail.get("severity")
    findings = detail.get("findings")
    if value is None and isinstance(findings, list) and findings and isinstance(findings[0], dict):
        value = (findings[0].get("Severity") or {}).get("Normalized")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def seen_keys(case: Case) -> set[str]:
    """Every delivery the case has answered for: its own event and each attached finding."""
    keys = delivery_keys(case.event)
    for attached in case.attached_findings:
        keys.update(attached.get("keys", []))
    return keys


def relation(case: Case, event: dict[str, Any], *, now: float, window_seconds: float, new_case: bool) -> Relation:
    """What `event` is to `case`, the case holding its key (see the module docstring).

    `new_case`: a person asked for a fresh case (`--new-case`): a closed case is followed even by the
    same finding version.
    """
    closed = not lifecycle.is_open(case.status)
    if new_case and closed:
        return Relation.FOLLOW
    if delivery_keys(event) & seen_keys(case):
        return Relation.REDELIVERY
    if not closed:
        return Relation.ATTACH
    if case.status == SUCCEEDED and window_seconds > 0 and _age(case, now) < window_seconds:
        return Relation.ATTACH
    return Relation.FOLLOW


def attachment(event: dict[str, Any], *, at: str, by: str | None) -> dict[str, Any]:
    """The record of a finding attached to a case."""
    return {
        "event_id": event.get("id"),
        "finding": finding_version(event),
        "severity": severity(event),
        "keys": sorted(delivery_keys(event)),
        "at": at,
        "by": by,
    }


def severity_rose(case: Case, event: dict[str, Any]) -> bool:
    """Whether `event` is more severe than the case's own finding and every one attached so far."""
    new = severity(event)
    if new is None:
        return False
    known = [severity(case.event), *(a.get("severity") for a in case.attached_findings)]
    return all(isinstance(s, (int, float)) and new > s for s in known if s is not None) and any(
        s is not None for s in known
    )


def _detail(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail")
    return detail if isinstance(detail, dict) else {}


def _age(case: Case, now: float) -> float:
    try:
        return now - datetime.fromisoformat(case.updated_at).timestamp()
    except ValueError:
        return float("inf")
