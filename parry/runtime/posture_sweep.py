"""The scheduled posture sweep Lambda: `parry sweep --security-hub` on every account and region Parry covers.

The schedule's event carries nothing the sweep uses: which accounts and regions to read comes from
the function's own configuration (PARRY_REGIONS, PARRY_SWEEP_ACCOUNTS, PARRY_SWEEP_ROLE_NAME), so a
forged invocation can at most run the same read-only sweep again. Results go to Security Hub, and
those no active finding recorded before to Parry's topic (PARRY_TOPIC_ARN) in one notice; the log
line counts them by check and names what could not be read, never a value read from a function.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any


def sweep_and_publish(env: dict[str, str] | None = None) -> dict[str, Any]:
    """Sweep the configured scopes, import the results into Security Hub, tell the topic what is new,
    and say what happened. An account the sweep cannot enter is a problem line; the others go on."""
    from parry.aws.clients import ClientFactory
    from parry.config import Settings
    from parry.engine.notices import tell
    from parry.errors import ParryError
    from parry.posture import enter, new_results_notice, publish_each, sweep

    env = dict(os.environ if env is None else env)
    aws = ClientFactory()
    regions = [r.strip() for r in env.get("PARRY_REGIONS", "").split(",") if r.strip()] or [aws.region]
    accounts = [a.strip() for a in env.get("PARRY_SWEEP_ACCOUNTS", "").split(",") if a.strip()]
    settings = Settings.from_env(env)
    entered = enter(
        aws,
        regions,
        accounts,
        member_role_name=env.get("PARRY_SWEEP_ROLE_NAME") or settings.member_role_name,
        member_external_id=settings.member_external_id,
    )
    report = sweep(entered.scopes, unreachable=entered.unreachable)
    published, refused = publish_each(report)
    new = [x for _, _, p in published for x in p.new]
    if new:
        tell(aws, settings.topic_arn, *new_results_notice(new, report.unreachable))
    if refused:  # after the notice: what was imported is told; the failed invocation shows the rest
        raise ParryError("\n".join(refused))
    return {
        "accounts": sorted({scope.account for scope in report.scopes}),
        "functions": report.functions,
        "results": dict(Counter(x.check_id for x in report.results)),
        "imported": sum(p.imported for _, _, p in published),
        "resolved": sum(p.resolved for _, _, p in published),
        "new": len(new),
        "problems": report.problems,
    }


def handler(event: Any, context: Any) -> dict[str, Any]:
    summary = sweep_and_publish()
    print(json.dumps({"message": "posture sweep", **summary}))  # one structured line in the function's log
    return summary
