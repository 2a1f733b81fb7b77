"""Amazon Inspector findings authenticated: an `Inspector2 Finding` is re-read from Inspector before Parry acts.

Anyone who can put an event Parry reads can describe a vulnerable function to quarantine. Parry
asks Inspector itself: ListFindings filtered on the finding's ARN, in the finding's region, with
the runner's own credentials (the Inspector delegated administrator sees its members' findings).
A finding Inspector does not hold, or whose account or resources differ from what was delivered,
is refused with FindingNotAuthentic; otherwise Inspector's copy replaces the delivered detail.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from parry.errors import FindingNotAuthentic
from parry.routing.events import REGION

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory

SOURCE = "aws.inspector2"
DETAIL_TYPE = "Inspector2 Finding"
FINDING_ARN = re.compile(
    r"arn:aws[a-z-]*:inspector2:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):finding/[A-Za-z0-9._-]+"
)


def authentic_inspector_event(event: dict[str, Any], aws: ClientFactory) -> dict[str, Any]:
    """`event` with its detail as Inspector holds the finding; FindingNotAuthentic when it does not."""
    if event.get("detail-type") != DETAIL_TYPE:
        raise FindingNotAuthentic(f"Parry re-reads {DETAIL_TYPE} events of {SOURCE} only: it cannot confirm this one")
    delivered = event.get("detail") or {}
    arn = delivered.get("findingArn") if isinstance(delivered, dict) else None
    found = FINDING_ARN.fullmatch(arn) if isinstance(arn, str) else None
    if found is None or not REGION.fullmatch(found["region"]):
        raise FindingNotAuthentic("the Inspector event's detail.findingArn is not an Inspector finding ARN")
    inspector = aws.client("inspector2", found["region"])
    criteria = {"findingArn": [{"comparison": "EQUALS", "value": arn}]}
    held = inspector.list_findings(filterCriteria=criteria, maxResults=1).get("findings", [])
    if not held:
        raise FindingNotAuthentic(f"Inspector holds no finding {arn}")
    finding: dict[str, Any] = json.loads(json.dumps(held[0], default=str))  # its timestamps as text, like the event's
    differences = [
        f"{name} is {mine!r:.200} in the event, {theirs!r:.200} in Inspector"
        for name, mine, theirs in (
            ("awsAccountId", delivered.get("awsAccountId"), finding.get("awsAccountId")),
            ("resources[].id", _resource_ids(delivered), _resource_ids(finding)),
        )
        if mine != theirs
    ]
    if differences:
        raise FindingNotAuthentic(
            f"Inspector finding {arn} differs from what Inspector holds: {'; '.join(differences)}"
        )
    return {
        **event,
        "account": finding.get("awsAccountId", event.get("account")),
        "region": found["region"],
        "detail": finding,
    }


def _resource_ids(finding: dict[str, Any]) -> list[str]:
    resources = finding.get("resources")
    return sorted(str(r.get("id")) for r in resources if isinstance(r, dict)) if isinstance(resources, list) else []
