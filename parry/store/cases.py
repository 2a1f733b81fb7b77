"""The case store (DynamoDB): claims, step checkpoints, leases, approvals and rate counters.

One table, keys `pk`/`sk`, a GSI `by-opened` (`kind`, `opened_at`) for listing. A case is claimed
with one transaction that writes a claim item on (playbook, dedup value) and the case item, so a
redelivered event finds the claim and changes nothing. A run holds a lease on its case; a retried
invocation can take the lease over only once it has expired or been released, so two deliveries
never run the same steps at the same time.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from parry.errors import CaseNotFound, ParryError
from parry.engine.steps import StepResult

# case statuses
RUNNING = "RUNNING"
AWAITING_APPROVAL = "AWAITING_APPROVAL"
SUCCEEDED = "SUCCEEDED"
COMPLETED_WITH_ERRORS = "COMPLETED_WITH_ERRORS"
FAILED = "FAILED"
DRY_RUN = "DRY_RUN"
DENIED = "DENIED"
EXPIRED = "CLOSED_UNAPPROVED"
UNDONE = "UNDONE"
OPEN_STATUSES = (RUNNING, AWAITING_APPROVAL)

# states of an undo request (Case.undo_request["state"])
UNDO_PENDING = "pending"
UNDO_DONE = "done"
UNDO_FAILED = "failed"

CLOSED_CASE_TTL_DAYS = 400
INDEX = "by-opened"


def new_case_id(now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now or time.time(), timezone.utc).strftime("%Y%m%d")
    return f"case-{stamp}-{uuid.uuid4().hex[:10]}"


@dataclass
class Case:
    case_id: str
    playbook: str
    playbook_sha256: str
    status: str
    opened_at: str
    account: str
    region: str
    dedup: str
    event: dict[str, Any]
    target: dict[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    next_step: int = 0
    dry_run: bool = False
    manual: bool = False
    evidence_prefix: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)  # approvals, denials, undos, duplicates
    awaiting: dict[str, Any] | None = None  # {"step": id, "index": n, "reason": .., "deadline": epoch}
    duplicates: int = 0
    updated_at: str = ""
    # the mutating step being applied ({"step", "before", "undo"}), checkpointed just before its change
    inflight: dict[str, Any] | None = None
    # the latest `parry undo` request carried out by the runner (see parry.engine.undo): {"id", "by", "reason",
    # "step", "partial", "at", "state", ...}; "pending" until the runner has carried it out
    undo_request: dict[str, Any] | None = None
    # set on the object returned for a redelivery; never stored
    duplicate: bool = False
    # set on the object returned by a run that stopped near its deadline; never stored
    continue_later: bool = False
    # set on the object returned by a run that stopped at a step it had no credentials for; never stored
    blocked: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "playbook": self.playbook,
            "playbook_sha256": self.playbook_sha256,
            "status": self.status,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "account": self.account,
            "region": self.region,
            "dedup": self.dedup,
            "target": self.target,
            "dry_run": self.dry_run,
            "manual": self.manual,
            "evidence_prefix": self.evidence_prefix,
            "awaiting": self.awaiting,
            "duplicates": self.duplicates,
            "duplicate": self.duplicate,
            "undo_request": self.undo_request,
            "history": self.history,
            "steps": [s.as_dict() for s in self.steps],
            "event": self.event,
        }

    @property
    def opened_datetime(self) -> datetime:
        return datetime.fromisoformat(self.opened_at)


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds")


def _claim_key(playbook: str, dedup: str) -> str:
    return f"CLAIM#{playbook}#{hashlib.sha256(dedup.encode()).hexdigest()}"


class CaseStore:
    def __init__(self, dynamodb: Any, table: str, *, clock: Any = time.time):
        self.ddb = dynamodb
        self.table = table
        self.clock = clock

    # ---- claiming ------------------------------------------------------------------------------

    def claim(self, case: Case, *, lease_seconds: float, owner: str) -> tuple[Case, bool]:
        """(case, True) when this call opened it; (existing case, False) when it was claimed before."""
        now = self.clock()
        case.updated_at = case.opened_at
        item = self._case_item(case, now)
        item["lease_owner"] = {"S": owner}
        item["lease_until"] = {"N": str(now + lease_seconds)}
        claim = {
            "pk": {"S": _claim_key(case.playbook, case.dedup)},
            "sk": {"S": "CLAIM"},
            "case_id": {"S": case.case_id},
            "opened_at": {"S": case.opened_at},
        }
        try:
            self.ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": self.table, "Item": claim, "ConditionExpression": "attribute_not_exists(pk)"}},
                    {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
            return case, True
        except self.ddb.exceptions.TransactionCanceledException:
            existing = self.claimed_case(case.playbook, case.dedup)
            if existing is None:  # cancelled for another reason (throttling, conflict): let the caller retry
                raise
            return existing, False

    def claimed_case(self, playbook: str, dedup: str) -> Case | None:
        resp = self.ddb.get_item(
            TableName=self.table, Key={"pk": {"S": _claim_key(playbook, dedup)}, "sk": {"S": "CLAIM"}}, ConsistentRead=True
        )
        if "Item" not in resp:
            return None
        return self.get(resp["Item"]["case_id"]["S"])

    def record_duplicate(self, case_id: str, event_id: str | None) -> None:
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(case_id),
            UpdateExpression="ADD duplicates :one SET last_duplicate = :e",
            ConditionExpression="attribute_exists(pk)",  # count on the case, never create a stray item
            ExpressionAttributeValues={":one": {"N": "1"}, ":e": {"S": event_id or "?"}},
        )

    # ---- leases ----------------------------------------------------------------------------------

    def acquire_lease(self, case_id: str, *, owner: str, seconds: float) -> bool:
        """Take the run lease if it is free or expired; False when another run holds it."""
        now = self.clock()
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case_id),
                UpdateExpression="SET lease_owner = :o, lease_until = :u",
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :o)",
                ExpressionAttributeValues={":o": {"S": owner}, ":u": {"N": str(now + seconds)}, ":now": {"N": str(now)}},
            )
            return True
        except self.ddb.exceptions.ConditionalCheckFailedException:
            return False

    def release_lease(self, case_id: str, *, owner: str) -> None:
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case_id),
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :o",
                ExpressionAttributeValues={":o": {"S": owner}},
            )
        except self.ddb.exceptions.ConditionalCheckFailedException:
            pass  # someone else's lease now: nothing of ours to release

    # ---- checkpoints -----------------------------------------------------------------------------

    def save(self, case: Case, *, owner: str | None = None, expected_status: str | None = None,
             undo_pending: str | bool | None = None) -> None:
        """Checkpoint the case (status, steps, next step). With `owner`, only while holding the lease.

        `undo_pending`: False, only while no undo request is pending (an undo with the caller's own
        credentials); a request id, only while that request is the pending one (the runner carrying
        it out), which is no longer pending once `case.undo_request` says so.
        """
        now = self.clock()
        case.updated_at = _iso(now)
        names = {"#s": "status"}
        values: dict[str, Any] = {
            ":s": {"S": case.status},
            ":steps": {"S": json.dumps([s.as_dict() for s in case.steps], default=str)},
            ":n": {"N": str(case.next_step)},
            ":u": {"S": case.updated_at},
            ":h": {"S": json.dumps(case.history, default=str)},
            ":a": {"S": json.dumps(case.awaiting, default=str)},
            ":d": {"BOOL": case.dry_run},
            ":i": {"S": json.dumps(case.inflight, default=str)},
            ":r": {"S": json.dumps(case.undo_request, default=str)},
        }
        update = ("SET #s = :s, steps = :steps, next_step = :n, updated_at = :u, history = :h, awaiting = :a, dry_run = :d,"
                  " inflight = :i, undo_request = :r")
        if case.status not in OPEN_STATUSES:
            update += ", expires_at = :ttl"
            values[":ttl"] = {"N": str(int(now + CLOSED_CASE_TTL_DAYS * 86400))}
        conditions = ["attribute_exists(pk)"]
        if owner is not None:
            conditions.append("lease_owner = :o")
            values[":o"] = {"S": owner}
        if expected_status is not None:
            conditions.append("#s = :es")
            values[":es"] = {"S": expected_status}
        if undo_pending is False:
            conditions.append("attribute_not_exists(undo_pending)")
        elif isinstance(undo_pending, str):
            conditions.append("undo_pending = :rid")
            values[":rid"] = {"S": undo_pending}
            if (case.undo_request or {}).get("state") != UNDO_PENDING:
                update += " REMOVE undo_pending"
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case.case_id),
                UpdateExpression=update,
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except self.ddb.exceptions.ConditionalCheckFailedException as exc:
            raise ParryError(f"case {case.case_id} changed under this run (lease lost or status moved on)") from exc

    # ---- undo requests ---------------------------------------------------------------------------

    def request_undo(self, case: Case, *, read_at: str) -> None:
        """Record `case.undo_request` (pending) and its history entry: one pending request per case.

        Conditional on the case being as it was read (status, `updated_at`) and on no other request
        pending, so two people asking at once cannot both be recorded, nor one overwrite the other's
        history. ParryError when the condition fails.
        """
        request = case.undo_request or {}
        case.updated_at = _iso(self.clock())
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case.case_id),
                UpdateExpression="SET undo_request = :r, undo_pending = :rid, history = :h, updated_at = :u",
                ConditionExpression="attribute_exists(pk) AND #s = :s AND updated_at = :read AND attribute_not_exists(undo_pending)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":r": {"S": json.dumps(request, default=str)}, ":rid": {"S": str(request.get("id"))},
                    ":h": {"S": json.dumps(case.history, default=str)}, ":u": {"S": case.updated_at},
                    ":s": {"S": case.status}, ":read": {"S": read_at},
                },
            )
        except self.ddb.exceptions.ConditionalCheckFailedException as exc:
            raise ParryError(f"case {case.case_id} changed meanwhile (another undo was requested or ran): "
                             f"look at `parry cases show {case.case_id}` and ask again if still needed") from exc

    def withdraw_undo(self, case_id: str, request: dict[str, Any]) -> None:
        """End a pending request that could not be sent to the runner (so a new one can be recorded)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case_id),
                UpdateExpression="SET undo_request = :r REMOVE undo_pending",
                ConditionExpression="undo_pending = :rid",
                ExpressionAttributeValues={":r": {"S": json.dumps(request, default=str)}, ":rid": {"S": str(request["id"])}},
            )
        except self.ddb.exceptions.ConditionalCheckFailedException:
            pass  # already carried out or withdrawn

    # ---- rate limiting ---------------------------------------------------------------------------

    def count_case(self, playbook: str) -> int:
        """Atomically count one more case for the playbook in the current hour; the new count."""
        now = self.clock()
        hour = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%d%H")
        resp = self.ddb.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"RATE#{playbook}#{hour}"}, "sk": {"S": "RATE"}},
            UpdateExpression="ADD cases :one SET expires_at = :ttl",
            ExpressionAttributeValues={":one": {"N": "1"}, ":ttl": {"N": str(int(now + 7200))}},
            ReturnValues="UPDATED_NEW",
        )
        return int(resp["Attributes"]["cases"]["N"])

    # ---- reading ---------------------------------------------------------------------------------

    def get(self, case_id: str) -> Case:
        resp = self.ddb.get_item(TableName=self.table, Key=self._key(case_id), ConsistentRead=True)
        if "Item" not in resp:
            raise CaseNotFound(f"no case {case_id} in table {self.table}")
        return self._from_item(resp["Item"])

    def list(self, *, limit: int = 50, playbook: str | None = None, status: str | None = None) -> list[Case]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": INDEX,
            "KeyConditionExpression": "kind = :k",
            "ExpressionAttributeValues": {":k": {"S": "case"}},
            "ScanIndexForward": False,
        }
        out: list[Case] = []
        for page in self.ddb.get_paginator("query").paginate(**kwargs):
            for item in page.get("Items", []):
                case = self._from_item(item)
                if (playbook is None or case.playbook == playbook) and (status is None or case.status == status):
                    out.append(case)
                if len(out) >= limit:
                    return out
        return out

    # ---- items -----------------------------------------------------------------------------------

    @staticmethod
    def _key(case_id: str) -> dict[str, Any]:
        return {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}}

    def _case_item(self, case: Case, now: float) -> dict[str, Any]:
        return {
            **self._key(case.case_id),
            "kind": {"S": "case"},
            "case_id": {"S": case.case_id},
            "playbook": {"S": case.playbook},
            "playbook_sha256": {"S": case.playbook_sha256},
            "status": {"S": case.status},
            "opened_at": {"S": case.opened_at},
            "updated_at": {"S": case.updated_at or _iso(now)},
            "account": {"S": case.account},
            "region": {"S": case.region},
            "dedup": {"S": case.dedup},
            "event": {"S": json.dumps(case.event, default=str)},
            "target": {"S": json.dumps(case.target, default=str)},
            "steps": {"S": json.dumps([s.as_dict() for s in case.steps], default=str)},
            "next_step": {"N": str(case.next_step)},
            "dry_run": {"BOOL": case.dry_run},
            "manual": {"BOOL": case.manual},
            "evidence_prefix": {"S": case.evidence_prefix},
            "history": {"S": json.dumps(case.history, default=str)},
            "awaiting": {"S": json.dumps(case.awaiting, default=str)},
        }

    @staticmethod
    def _from_item(item: dict[str, Any]) -> Case:
        def s(name: str, default: str = "") -> str:
            return item[name]["S"] if name in item else default

        def j(name: str, default: Any) -> Any:
            return json.loads(item[name]["S"]) if name in item else default

        return Case(
            case_id=s("case_id"),
            playbook=s("playbook"),
            playbook_sha256=s("playbook_sha256"),
            status=s("status"),
            opened_at=s("opened_at"),
            updated_at=s("updated_at"),
            account=s("account"),
            region=s("region"),
            dedup=s("dedup"),
            event=j("event", {}),
            target=j("target", {}),
            steps=[StepResult.from_dict(d) for d in j("steps", [])],
            next_step=int(item.get("next_step", {"N": "0"})["N"]),
            dry_run=item.get("dry_run", {"BOOL": False})["BOOL"],
            manual=item.get("manual", {"BOOL": False})["BOOL"],
            evidence_prefix=s("evidence_prefix"),
            history=j("history", []),
            awaiting=j("awaiting", None),
            inflight=j("inflight", None),
            undo_request=j("undo_request", None),
            duplicates=int(item.get("duplicates", {"N": "0"})["N"]),
        )


def create_table(dynamodb: Any, table: str) -> None:
    """The table as the CDK app defines it; for local mode and tests."""
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "kind", "AttributeType": "S"},
            {"AttributeName": "opened_at", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": INDEX,
                "KeySchema": [
                    {"AttributeName": "kind", "KeyType": "HASH"},
                    {"AttributeName": "opened_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
