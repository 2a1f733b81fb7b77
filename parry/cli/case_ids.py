"""Case ids as a person types them: a full id, or a unique prefix of one, as git takes a commit.

The candidates come from the case table (cases, approve, deny, undo, resume) or from the evidence
bucket's case folders (the auditor's commands, which trust nothing the table says). A full id is
taken as given, with no extra call: the command's own read says whether it exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from parry.cli.render import inert
from parry.errors import CaseNotFound
from parry.store.schema import INDEX, INDEX_PARTITION_KEY

if TYPE_CHECKING:
    from parry.store.store import CaseStore

FULL_ID = re.compile(r"case-\d{8}-[0-9a-f]{10}")  # parry.store.model.new_case_id
SHOWN_CANDIDATES = 10


def is_full(given: str) -> bool:
    return FULL_ID.fullmatch(given) is not None


def resolve(given: str, candidates: Iterable[str], where: str) -> str:
    """The one candidate `given` starts; a clear error when none or several do."""
    wanted = given.strip()
    if not wanted:
        raise CaseNotFound("give a case id (or a unique prefix of one)")
    matches = sorted({c for c in candidates if c.startswith(wanted)})
    if wanted in matches:  # an id that is also the start of a longer one is still itself
        return wanted
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CaseNotFound(f"no case {inert(wanted)} in {where} (no case id starts with it)")
    shown = "\n".join(f"  {inert(m)}" for m in matches[:SHOWN_CANDIDATES])
    more = f"\n  ... and {len(matches) - SHOWN_CANDIDATES} more" if len(matches) > SHOWN_CANDIDATES else ""
    raise CaseNotFound(
        f"case id prefix {inert(wanted)!r} is ambiguous: {len(matches)} cases in {where} start with it\n{shown}{more}"
    )


def from_table(store: CaseStore, given: str) -> str:
    """`given` resolved against the case table (only case items carry the index key, so only cases are read)."""
    if is_full(given):
        return given
    return resolve(given, _table_ids(store), f"table {store.table}")


def _table_ids(store: CaseStore) -> Iterable[str]:
    pages = store.ddb.get_paginator("query").paginate(
        TableName=store.table,
        IndexName=INDEX,
        KeyConditionExpression=f"{INDEX_PARTITION_KEY} = :k",
        ExpressionAttributeValues={":k": {"S": "case"}},
        ProjectionExpression="case_id",
    )
    for page in pages:
        for item in page.get("Items", []):
            if "case_id" in item:
                yield item["case_id"]["S"]


def from_bucket(s3: Any, bucket: str, given: str) -> str:
    """`given` resolved against the case folders in the evidence bucket (cases/ACCOUNT/YYYY/MM/DD/CASE_ID/)."""
    from parry.evidence.export import case_prefixes

    if is_full(given):
        return given
    ids = (prefix.split("/")[5] for prefix in case_prefixes(s3, bucket))
    return resolve(given, ids, f"s3://{bucket}/cases/")
