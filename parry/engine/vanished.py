"""Cases whose record is gone from the case table while their evidence remains.

A case's table item is written (its claim) before any of its evidence, and a closed case's item
expires only after CLOSED_CASE_TTL_DAYS: an evidence folder of the last days without an item means
someone who could write the table deleted it. Nothing would then continue, expire or list that case
(a deleted case waiting for approval is stalled for good), so the maintenance sweep says so: a
security log line and one notice a case, its evidence folder named for `parry evidence verify`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from parry.errors import CaseNotFound
from parry.store.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from parry.engine.run import Engine

logger = logging.getLogger(__name__)

# today's and yesterday's folders (the sweep runs every 15 minutes); far short of CLOSED_CASE_TTL_DAYS
LOOKBACK_DAYS = 2
TOLD_PREFIX = "VANISHED#"  # one item a vanished case once it is told, so the on-call hears of it once


@dataclass(frozen=True)
class Vanished:
    case_id: str
    account: str
    folder: str  # s3://bucket/cases/ACCOUNT/YYYY/MM/DD/CASE_ID/


def vanished_cases(engine: Engine, *, days: int = LOOKBACK_DAYS) -> list[Vanished]:
    """The case folders opened in the last `days` (UTC) whose case has no item in the case table."""
    bucket, _ = engine.settings.require()
    s3 = engine.aws.client("s3")
    today = datetime.fromtimestamp(engine.clock(), UTC).date()
    found = []
    for account_folder in _folders(s3, bucket, "cases/"):
        for day in (today - timedelta(days=n) for n in range(days)):
            for folder in _folders(s3, bucket, f"{account_folder}{day:%Y/%m/%d}/"):
                case_id = folder.rstrip("/").rsplit("/", 1)[-1]
                try:
                    engine.store.get(case_id)
                except CaseNotFound:
                    found.append(Vanished(case_id, account_folder.split("/")[1], f"s3://{bucket}/{folder}"))
    return found


def first_told(engine: Engine, gone: Vanished) -> bool:
    """Mark `gone` as told; False when an earlier sweep told it already (a condition on the marker item)."""
    _, table = engine.settings.require()
    ddb = engine.aws.client("dynamodb")
    expires = int(engine.clock()) + (LOOKBACK_DAYS + 1) * 86400
    try:
        ddb.put_item(
            TableName=table,
            Item={
                PARTITION_KEY: {"S": f"{TOLD_PREFIX}{gone.case_id}"},
                SORT_KEY: {"S": "VANISHED"},
                "folder": {"S": gone.folder},
                TTL_ATTRIBUTE: {"N": str(expires)},
            },
            ConditionExpression=f"attribute_not_exists({PARTITION_KEY})",
        )
    except ddb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def log(gone: Vanished) -> None:
    """One security log line, as every refusal has."""
    logger.warning(
        "security event",
        extra={
            "security_event": True,
            "reason": f"case {gone.case_id} is gone from the case table; its evidence remains at {gone.folder}",
            "case_id": gone.case_id,
            "account": gone.account,
        },
    )


def _folders(s3: Any, bucket: str, prefix: str) -> list[str]:
    folders: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return folders
