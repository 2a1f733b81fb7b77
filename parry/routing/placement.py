"""Where a case acts: the region of the resources its authenticated finding names.

GuardDuty and Security Hub are regional: a finding from eu-west-1 that reaches Parry's home region
is about a resource in eu-west-1, and acting on it with the home region's clients would miss it
(or, for a name that exists in both, touch the wrong one). So the case acts in the region its
finding's resources are in, read from the service's own copy of the finding (parry.routing.findings
re-read it there). Parry acts only in the regions it is configured for (PARRY_REGIONS, by default
its home region): a finding naming a resource elsewhere is refused by name and nothing is done.

Any other event (a CloudTrail record, an EC2 state change) cannot be re-read from its service: its
`region` is whatever the event says, so such a case keeps acting in the runner's own region.
"""

from __future__ import annotations

from typing import Any

from parry.errors import EventError
from parry.routing.finding_view import GLOBAL, finding_view


def acting_region(event: dict[str, Any], *, configured: tuple[str, ...], home: str) -> str:
    """The region the case's clients call for `event`'s resources; EventError naming a resource outside `configured`.

    The one region of the finding's regional resources; with several, or only global ones (IAM),
    the finding's own region when Parry acts there, else `home` (IAM answers from every region).
    """
    view = finding_view(event)
    if view is None:
        return home
    allowed = configured or (home,)
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
