"""The scheduled posture sweep Lambda: `parry sweep --security-hub` on every account and region Parry covers.

The schedule's event carries nothing the sweep uses: which accounts and regions to read comes from
the function's own configuration (PARRY_REGIONS, PARRY_SWEEP_ACCOUNTS, PARRY_MEMBER_ROLE_NAME), so a
forged invocation can at most run the same read-only sweep again. Results go to Security Hub; the
log line counts them by check and names what could not be read, never a value read from a function.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any


def sweep_and_publish(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Sweep the configured scopes, import the results into Security Hub, and say what happened."""
    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.posture import publish_report, scopes, sweep

    env = dict(os.environ if env is None else env)
    aws = ClientFactory()
    regions = [r.strip() for r in env.get("PARRY_REGIONS", "").split(",") if r.strip()] or [aws.region]
    accounts = [a.strip() for a in env.get("PARRY_SWEEP_ACCOUNTS", "").split(",") if a.strip()]
    settings = Settings.from_env(env)
    report = sweep(
        scopes(
            aws,
            regions,
            accounts,
            member_role_name=settings.member_role_name,
            member_external_id=settings.member_external_id,
        )
    )
    published = publish_report(report)
    return {
        "functions": report.functions,
        "results": dict(Counter(x.check_id for x in report.results)),
        "imported": sum(p.imported for _, _, p in published),
        "resolved": sum(p.resolved for _, _, p in published),
        "problems": report.problems,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    summary = sweep_and_publish()
    print(json.dumps({"message": "posture sweep", **summary}))  # one structured line in the function's log
    return summary
