"""The shipped playbooks' triggers as `parry route` applies them, and events to route: fixtures or built."""

from __future__ import annotations

import json

from parry.local.corrections import as_detection
from parry.playbooks.validate import load_all
from parry.routing.events import wrap
from parry.routing.patterns import compile_pattern
from tests.support.paths import EVENTS, ROOT

BOOKS = {b.name: b for b in load_all([ROOT / "playbooks"])}
PATTERNS = {name: compile_pattern(b.trigger) for name, b in BOOKS.items()}


def envelope(payload: dict) -> dict:
    """The EventBridge event for a fixture; bare findings and records get EventBridge's envelope."""
    try:
        return wrap(payload)[0]
    except Exception:  # a finding without a resource block: wrap it as GuardDuty would deliver it
        return {
            "version": "0",
            "id": "fixture",
            "detail-type": "GuardDuty Finding",
            "source": "aws.guardduty",
            "account": payload.get("accountId", ""),
            "region": payload.get("region", ""),
            "time": payload.get("updatedAt", ""),
            "resources": [],
            "detail": payload,
        }


def load(relpath: str, *, sample: bool = False) -> dict:
    """A fixture of tests/events as EventBridge delivers it: a GuardDuty finding as the real detection
    it stands for (without the sample mark), unless `sample`."""
    event = envelope(json.loads((EVENTS / relpath).read_text()))
    if event.get("source") == "aws.guardduty" and not sample:
        event["detail"] = as_detection(event["detail"])
    return event


def routes(event: dict) -> set[str]:
    """The shipped playbooks whose trigger matches the event."""
    return {name for name, pattern in PATTERNS.items() if pattern.matches(event)}


# ---- findings built from GuardDuty's documented format ---------------------------------------------


def finding(
    type_: str, resource_type: str, severity: float, resource: dict | None = None, action: dict | None = None
) -> dict:
    """A GuardDuty finding from its documented format, for families without a freely licensed sample."""
    detail = {
        "schemaVersion": "2.0",
        "accountId": "123456789012",
        "region": "us-east-1",
        "partition": "aws",
        "id": f"parry-{type_.lower().replace(':', '-').replace('/', '-')}",
        "arn": "arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1",
        "type": type_,
        "resource": {"resourceType": resource_type, **(resource or {})},
        "service": {
            "serviceName": "guardduty",
            "detectorId": "d1",
            "archived": False,
            "count": 1,
            "action": action or {},
        },
        "severity": severity,
        "createdAt": "2024-05-01T10:00:00.000Z",
        "updatedAt": "2024-05-01T10:00:00.000Z",
        "title": type_,
        "description": type_,
    }
    return envelope(detail)


# an IAM user's access key, as a finding's resource block names it
IAM_KEY = {
    "accessKeyDetails": {
        "accessKeyId": "AKIAEXAMPLE",
        "principalId": "AIDAEXAMPLE",
        "userName": "alice",
        "userType": "IAMUser",
    }
}
