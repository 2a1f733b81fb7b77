"""What an attacker one permission short of Parry's roles can do to Parry's state: write items of the
case table straight (as dynamodb:PutItem / UpdateItem would), and what the tests then look at: the
security events logged and the sealed audit log of a case."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from parry.aws.clients import ClientFactory
from parry.engine import intake
from parry.store.schema import INDEX_PARTITION_KEY, INDEX_SORT_KEY, PARTITION_KEY, SORT_KEY


def case_key(case_id: str) -> dict[str, dict[str, str]]:
    return {PARTITION_KEY: {"S": f"CASE#{case_id}"}, SORT_KEY: {"S": "CASE"}}


def overwrite_case(aws: ClientFactory, table: str, case_id: str, **values: Any) -> None:
    """UpdateItem on the case: strings as they are, everything else JSON-encoded as the store keeps it."""
    names = {f"#a{i}": name for i, name in enumerate(values)}
    encoded = {
        f":v{i}": {"S": value if isinstance(value, str) else json.dumps(value)}
        for i, value in enumerate(values.values())
    }
    aws.client("dynamodb").update_item(
        TableName=table,
        Key=case_key(case_id),
        UpdateExpression="SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=encoded,
    )


def put_case(aws: ClientFactory, table: str, case: dict[str, Any]) -> None:
    """PutItem of a whole case the attacker made up, in the store's item format."""
    item: dict[str, Any] = {**case_key(case["case_id"]), INDEX_PARTITION_KEY: {"S": "case"}}
    item[INDEX_SORT_KEY] = {"S": case["opened_at"]}
    for name, value in case.items():
        if name == "opened_at":
            continue
        if isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int):
            item[name] = {"N": str(value)}
        else:
            item[name] = {"S": value if isinstance(value, str) else json.dumps(value)}
    aws.client("dynamodb").put_item(TableName=table, Item=item)


def audit_kinds(aws: ClientFactory, bucket: str, prefix: str) -> list[str]:
    s3 = aws.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "audit/").get("Contents", [])
    return [json.loads(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())["kind"] for o in listed]


def security_events(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    return [r for r in records if getattr(r, "security_event", False)]


def plant_case(
    aws: ClientFactory,
    table: str,
    book: Any,
    event: dict[str, Any],
    *,
    status: str,
    target: dict[str, Any],
    **extra: Any,
) -> str:
    """A case item and its claim, both as the store writes them for `book`, on `event`'s dedup key."""
    resolved, dedup = intake.resolve(book, event)
    case_id = "case-20240101T000000Z-deadbeef"
    put_case(
        aws,
        table,
        {
            "case_id": case_id,
            "playbook": book.name,
            "playbook_sha256": book.sha256,
            "status": status,
            "opened_at": "2024-01-01T00:00:00.000+00:00",
            "updated_at": "2024-01-01T00:00:00.000+00:00",
            "account": event["account"],
            "region": event["region"],
            "dedup": dedup,
            "event": event,
            "target": target,
            **{"next_step": 0, **extra},
        },
    )
    aws.client("dynamodb").put_item(
        TableName=table,
        Item={
            PARTITION_KEY: {"S": f"CLAIM#{book.name}#{hashlib.sha256(dedup.encode()).hexdigest()}"},
            SORT_KEY: {"S": "CLAIM"},
            "case_id": {"S": case_id},
            "playbook": {"S": book.name},
            "opened_at": {"S": "2024-01-01T00:00:00.000+00:00"},
        },
    )
    assert resolved  # the planted target differs from what the event resolves to only where a test says
    return case_id
