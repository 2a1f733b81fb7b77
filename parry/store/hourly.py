"""The hourly counters a new case is counted on: its playbook's cases in its account, and every case.

One item per counter and hour (with a TTL), so a storm of cases is stopped for approval before any
change (parry.engine.guardrails.rate_limit_reason). A new case is counted by its claim's transaction
(CaseStore.claim), conditionally on the counter being under its limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from parry.store.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

RATE_COUNTER_TTL_SECONDS = 7200  # an hour's counter outlives its hour, then DynamoDB deletes it
GLOBAL_RATE_PREFIX = "RATE-ALL#"  # the counter of every playbook's cases: no playbook's name makes this key


class HourlyLimits(NamedTuple):
    """The hourly limits a new case is counted against: its playbook's in its account (None: no limit)
    and every playbook's together (0: none). Over either, the case waits for approval."""

    playbook: int | None
    total: int


def rate_partitions(playbook: str, account: str, *, manual: bool, now: float) -> tuple[str, str]:
    """The counter items of this hour: the playbook's cases of one origin in `account`, and every case."""
    hour = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H")
    origin = "manual" if manual else "auto"
    return f"RATE#{playbook}#{account}#{origin}#{hour}", f"{GLOBAL_RATE_PREFIX}{hour}"


def counter_update(table: str, partition: str, now: float, limit: int | None) -> dict[str, Any]:
    """One more case on a counter; with `limit`, only while fewer than `limit` cases are counted."""
    update: dict[str, Any] = {
        "TableName": table,
        "Key": {PARTITION_KEY: {"S": partition}, SORT_KEY: {"S": "RATE"}},
        "UpdateExpression": f"ADD cases :one SET {TTL_ATTRIBUTE} = :ttl",
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":ttl": {"N": str(int(now + RATE_COUNTER_TTL_SECONDS))}},
    }
    if limit is not None:
        update["ConditionExpression"] = "attribute_not_exists(cases) OR cases < :limit"
        update["ExpressionAttributeValues"][":limit"] = {"N": str(limit)}
    return update
