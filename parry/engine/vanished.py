"""Cases whose record is gone from the case table while their evidence remains.

A case's table item is written (its claim) before any of its evidence, and a closed case's item
expires only after CLOSED_CASE_TTL_DAYS: an evidence folder without an item means someone who could
write the table deleted it. Nothing would then continue, expire or list that case (a deleted case
waiting for approval is stalled for good), so the maintenance sweep says so, once a case: a security
log line and a notice, its evidence folder named for `parry evidence verify`.

Which folders a sweep looks at: today's and yesterday's (UTC), and one older day in turn, so that
every day a case can still wait for approval (approval_ttl_hours is at most 720) is looked at a few
times a day at one listing a sweep.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from parry.errors import CaseNotFound
from parry.store.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from parry.engine.run import Engine

logger = logging.getLogger(__name__)

RECENT_DAYS = 2  # today and yesterday, every sweep
WINDOW_DAYS = 31  # the longest approval window (720 hours) and the day it opened; far short of CLOSED_CASE_TTL_DAYS
SWEEP_MINUTES = 15  # the maintenance schedule (stacks/constructs/maintenance.py): one older day a sweep
TOLD_PREFIX = "VANISHED#"  # one marker item a deleted case once it is said, so it is said once
CASE_FOLDER = re.compile(r"cases/(\d{12})/\d{4}/\d{2}/\d{2}/(case-\d{8}(?:T\d{6}Z)?-[0-9a-f]{8,32})/")  # new_case_id


@dataclass(frozen=True)
class Vanished:
    case_id: str
    account: str
    folder: str  # s3://bucket/cases/ACCOUNT/YYYY/MM/DD/CASE_ID/


def days_to_look_at(now: float) -> list[date]:
    """Today, yesterday and the older day of the window whose turn it is at `now` (epoch seconds)."""
    moment = datetime.fromtimestamp(now, UTC)
    today = moment.date()
    turn = (moment.hour * 60 + moment.minute) // SWEEP_MINUTES % (WINDOW_DAYS - RECENT_DAYS)
    return [today - timedelta(days=n) for n in range(RECENT_DAYS)] + [today - timedelta(days=RECENT_DAYS + turn)]


def vanished_cases(engine: Engine) -> list[Vanished]:
    """The case folders of the days looked at now whose case has no item in the case table."""
    bucket, _ = engine.settings.require()
    s3 = engine.aws.client("s3")
    found = []
    for account_folder in _folders(s3, bucket, "cases/"):
        for day in days_to_look_at(engine.clock()):
            for folder in _folders(s3, bucket, f"{account_folder}{day:%Y/%m/%d}/"):
                named = CASE_FOLDER.fullmatch(folder)
                if named is None:  # not a folder Parry writes: `parry evidence verify --all` names it
                    continue
                account, case_id = named.groups()
                try:
                    engine.store.get(case_id)
                except CaseNotFound:
                    found.append(Vanished(case_id, account, f"s3://{bucket}/{folder}"))
    return found


def said_before(engine: Engine, gone: Vanished) -> bool:
    """Whether an earlier sweep said `gone` (its marker item is there)."""
    _, table = engine.settings.require()
    key = {PARTITION_KEY: {"S": f"{TOLD_PREFIX}{gone.case_id}"}, SORT_KEY: {"S": "VANISHED"}}
    return "Item" in engine.aws.client("dynamodb").get_item(TableName=table, Key=key, ConsistentRead=True)


def mark_said(engine: Engine, gone: Vanished) -> None:
    """The marker that `gone` was said, kept while its day can still be looked at."""
    _, table = engine.settings.require()
    engine.aws.client("dynamodb").put_item(
        TableName=table,
        Item={
            PARTITION_KEY: {"S": f"{TOLD_PREFIX}{gone.case_id}"},
            SORT_KEY: {"S": "VANISHED"},
            "folder": {"S": gone.folder},
            TTL_ATTRIBUTE: {"N": str(int(engine.clock()) + (WINDOW_DAYS + 1) * 86400)},
        },
    )


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
