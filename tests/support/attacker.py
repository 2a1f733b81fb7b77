"""What an attacker one permission short of Parry's roles can do to Parry's state: write items of the
case table straight (as dynamodb:PutItem / UpdateItem would), and what the tests then look at: the
security events logged and the sealed audit log of a case."""

from __future__ import annotations

import json
import logging
from typing import Any

from parry.aws.clients import ClientFactory
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
