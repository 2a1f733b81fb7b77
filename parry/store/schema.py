"""The case table's schema, defined once: the CDK table (stacks/constructs/case_store.py), the local
and test table (`create_table`) and the case store's items all take their names from here.

Keys `pk`/`sk` hold every kind of item (cases, claims, rate counters); the index `by-opened`
(`kind`, `opened_at`) lists cases newest first, and only case items carry `kind`; DynamoDB deletes
an item once the time in `expires_at` (epoch seconds) has passed.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
INDEX = "by-opened"
INDEX_PARTITION_KEY = "kind"
INDEX_SORT_KEY = "opened_at"
TTL_ATTRIBUTE = "expires_at"


def create_table(dynamodb: Any, table: str) -> None:
    """The table as the CDK app defines it; for local mode and tests."""
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in (PARTITION_KEY, SORT_KEY, INDEX_PARTITION_KEY, INDEX_SORT_KEY)
        ],
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": INDEX_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": INDEX_SORT_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
