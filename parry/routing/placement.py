"""Where a case acts: the region of the resources its authenticated finding names.

GuardDuty and Security Hub are regional: a finding from eu-west-1 that reaches Parry's home region
is about a resource in eu-west-1, and acting on it with the home region's clients would miss it
(or, for a name that exists in both, touch the wrong one). So the case acts in the region its
finding's resources are in, read from the service's own copy of the finding (parry.routing.findings
re-read it there). Parry acts only in the regions it is configured for (PARRY_REGIONS, by default
its home region): a finding naming a resource elsewhere is refused by name and nothing is done.

A CloudTrail call, re-read from CloudTrail in its `awsRegion` (parry.routing.cloudtrail), acts in
that region, under the same rule; a call to a global service (IAM, the console sign-in) acts from
the home region, as IAM answers from every region. Any other event (an EC2 state change, a Config
item) cannot be re-read from its service: its `region` is whatever the event says, so such a case
keeps acting in the runner's own region.

An attack sequence (GuardDuty Extended Threat Detection) names resources in several accounts and
regions: it is not refused as a whole. Its case acts in the finding's own region, and the step
that contains its resources (`sequence.contain`) acts on each in that resource's own account and
region, refusing by name only the ones outside PARRY_REGIONS.
"""

from __future__ import annotations

from typing import Any

from parry.errors import EventError
from parry.routing.cloudtrail import CLOUDTRAIL_DETAIL_TYPES
from parry.routing.finding_view import GLOBAL, finding_view

SEQUENCE_PREFIX = "AttackSequence:"
GLOBAL_EVENT_SOURCES = frozenset({"iam.amazonaws.com", "signin.amazonaws.com"})


def acting_region(event: dict[str, Any], *, configured: tuple[str, ...], home: str) -> str:
    """The region the case's clients call for `event`'s resources; EventError naming a resource outside `configured`.

    The one region of the finding's regional resources; with several, or only global ones (IAM),
    the finding's own region when Parry acts there, else `home` (IAM answers from every region).
    """
    allowed = configured or (home,)
    if event.get("detail-type") in CLOUDTRAIL_DETAIL_TYPES:
        return _call_region(event.get("detail") or {}, allowed, home)
    view = finding_view(event)
    if view is None:
        return home
    if is_attack_sequence(view.types):
        return view.region if view.region and view.region in allowed else home
    outside = [r for r in view.resources if r.region not in (None, GLOBAL) and r.region not in allowed]
    if outside:
        named = ", ".join(f"{r.type} {r.id[:200]} in {r.region}" for r in outside[:5])
        raise EventError(
            f"finding {view.finding_id[:300]} names {named}, outside the regions Parry acts in "
            f"({', '.join(allowed)}): nothing was done. Add the region to the CDK context parry:regions "
            "(PARRY_REGIONS on the runners) to act there."
        )
    regional = sorted({r.region for r in view.resources if r.region not in (None, GLOBAL)})
    if len(regional) == 1:
        return regional[0]
    return view.region if view.region and view.region in allowed else home


def is_attack_sequence(types: tuple[str, ...]) -> bool:
    """Whether a finding is an attack sequence, whose resources each act in their own place."""
    return any(t.startswith(SEQUENCE_PREFIX) for t in types)


def _call_region(detail: dict[str, Any], allowed: tuple[str, ...], home: str) -> str:
    region = detail.get("awsRegion")
    if detail.get("eventSource") in GLOBAL_EVENT_SOURCES or not isinstance(region, str) or not region:
        return home
    if region not in allowed:
        raise EventError(
            f"the call {str(detail.get('eventName'))[:100]} ({str(detail.get('eventID'))[:100]}) was made in "
            f"{region[:30]}, outside the regions Parry acts in ({', '.join(allowed)}): nothing was done. Add the "
            "region to the CDK context parry:regions (PARRY_REGIONS on the runners) to act there."
        )
    return region
