"""The on-call's notice of a sweep's new results: what no active Parry finding recorded before it.

Counts by check and by severity, then each new result's check id, account and resource ARN (the
first 200), one JSON-quoted line each (an ARN is data, never a line that reads as Parry's). A result holds names
and identifiers only, and the notice uses fewer still: no detail, so no variable name either.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from parry.posture.results import CHECKS, SEVERITIES, Result

# results listed one a line: a first sweep of a large estate would otherwise pass SNS's 256 KB message limit
LISTED = 200


class SweepNotice(NamedTuple):
    subject: str
    body: str


def new_results_notice(new: Sequence[Result], unreachable: Sequence[str] = ()) -> SweepNotice:
    """The notice of `new` (non-empty); accounts the sweep could not enter are named at the end."""
    order = [check.check_id for check in CHECKS]
    by_check = Counter(x.check_id for x in new)
    by_severity = Counter(x.severity for x in new)
    lines = [f"parry sweep found {len(new)} new posture result(s), each now a Security Hub finding.", ""]
    lines += ["By severity:"] + [f"  {s}: {by_severity[s]}" for s in SEVERITIES if by_severity[s]]
    lines += ["By check:"] + [f"  {c}: {by_check[c]}" for c in order if by_check[c]]
    lines += ["", "New results (check, account, resource):"]
    lines += [f"  {x.check_id} {x.account} {json.dumps(x.resource_arn)}" for x in new[:LISTED]]
    if len(new) > LISTED:
        lines += [f"  ... and {len(new) - LISTED} more (in Security Hub, and in parry sweep --json)"]
    if unreachable:
        lines += ["", "Not swept:"] + [f"  {json.dumps(line)}" for line in unreachable]
    lines += ["", "Review:  parry sweep --json  (with --account for a member account)"]
    worst = next(s for s in SEVERITIES if by_severity[s])
    return SweepNotice(f"posture sweep: {len(new)} new result(s), worst {worst}", "\n".join(lines) + "\n")
