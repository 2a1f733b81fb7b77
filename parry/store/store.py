"""The case store (DynamoDB): claims, step checkpoints, leases, approvals and rate counters.

One table (its schema: parry.store.schema). A case is claimed with one transaction that writes a
claim item on (playbook, dedup value) and the case item, so a redelivered event finds the claim
and changes nothing. A run holds a lease on its case; a retried invocation can take the lease
over only once it has expired or been released, so two deliveries never run the same steps at
the same time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from parry.errors import CaseNotFound, ParryError, PlantedClaim, ReplayedDecision
from parry.store import lifecycle
from parry.store.hourly import HourlyLimits, counter_update, rate_partitions
from parry.store.model import OPEN_STATUSES, UNDO_PENDING, Case
from parry.store.schema import INDEX, INDEX_PARTITION_KEY, INDEX_SORT_KEY, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from parry.store.step_result import StepResult

CLOSED_CASE_TTL_DAYS = 400
NONCE_TTL_SECONDS = 86400 * 30  # a decision's nonce outlives the request that carried it (valid for minutes)
logger = logging.getLogger(__name__)
EXISTS = f"attribute_exists({PARTITION_KEY})"
ABSENT = f"attribute_not_exists({PARTITION_KEY})"
CONDITION_FAILED = "ConditionalCheckFailed"  # a transaction item's cancellation reason
CLAIM_TRANSACTION_ATTEMPTS = 4  # a claim cancelled by a conflict on a shared counter, or throttled, is tried again
CLAIM_RETRY_SECONDS = 0.05


def _iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")


def _item_key(partition: str, sort: str) -> dict[str, dict[str, str]]:
    return {PARTITION_KEY: {"S": partition}, SORT_KEY: {"S": sort}}


def _claim_key(playbook: str, dedup: str) -> str:
    return f"CLAIM#{playbook}#{hashlib.sha256(dedup.encode()).hexdigest()}"


class Claimed(NamedTuple):
    case: Case  # the case opened, or the one holding the claim
    fresh: bool  # this call opened it
    over: tuple[str, ...]  # the hourly limits the opened case went past: "playbook", "all"


def _log_planted(planted: PlantedClaim, case: Case) -> None:
    logger.warning(
        "security event",
        extra={
            "security_event": True,
            "reason": f"planted claim replaced: {planted}",
            "playbook": case.playbook,
            "planted_case_id": planted.case_id,
            "case_id": case.case_id,
        },
    )


class CaseStore:
    def __init__(self, dynamodb: Any, table: str, *, clock: Callable[[], float] = time.time):
        self.ddb = dynamodb
        self.table = table
        self.clock = clock

    # ---- claiming ------------------------------------------------------------------------------

    def claim(
        self,
        case: Case,
        *,
        lease_seconds: float,
        owner: str,
        replaces: str | None = None,
        hourly: HourlyLimits | None = None,
    ) -> Claimed:
        """Open the case, or find the case that holds the claim on its key (`Claimed.fresh` says which).

        `replaces`: the closed case this one follows on the same key; the claim moves to this case only
        while it still names that one (two deliveries cannot both follow it). A claim that is not this
        playbook's own (it names another playbook, or a case that is not this playbook's case of this
        dedup value) was planted by someone who could write the table: it is logged as a security
        event and replaced, so the real event still opens its case.

        `hourly`: the case is counted in the same transaction. A counter at its limit cancels it with
        that counter's own reason, told apart from a claim another case holds: the case is then opened
        and counted without its in-flight step (`case.inflight`, written with the claim so that the
        first change needs no checkpoint of its own), and `Claimed.over` names the limits it went
        past, for the engine to stop it for approval before any change.
        """
        lifecycle.check(case.case_id, None, case.status)
        now = self.clock()
        case.updated_at = case.opened_at
        claim = {
            **_item_key(_claim_key(case.playbook, case.dedup), "CLAIM"),
            "case_id": {"S": case.case_id},
            "playbook": {"S": case.playbook},
            "opened_at": {"S": case.opened_at},
        }
        claim_put: dict[str, Any] = {"TableName": self.table, "Item": claim, "ConditionExpression": ABSENT}
        if replaces is not None:
            claim_put["ConditionExpression"] = "case_id = :previous"
            claim_put["ExpressionAttributeValues"] = {":previous": {"S": replaces}}
        counters = self._counters(case, hourly, now)
        over: tuple[str, ...] = ()
        planted_once = False
        for attempt in range(CLAIM_TRANSACTION_ATTEMPTS):
            item = self._case_item(case, now)
            item["lease_owner"] = {"S": owner}
            item["lease_until"] = {"N": str(now + lease_seconds)}
            updates = [
                counter_update(self.table, partition, now, None if over else limit) for _, partition, limit in counters
            ]
            try:
                self.ddb.transact_write_items(
                    TransactItems=[
                        {"Put": claim_put},
                        {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": ABSENT}},
                        *({"Update": update} for update in updates),
                    ]
                )
                case.stored_status = case.status
                return Claimed(case, True, over)
            except self.ddb.exceptions.TransactionCanceledException as exc:
                cancelled = exc
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if CONDITION_FAILED in codes[:2] or not codes:
                try:
                    existing = self.claimed_case(case.playbook, case.dedup)
                except PlantedClaim as planted:
                    if planted_once:  # planted again under us: the delivery is retried
                        raise cancelled from planted
                    _log_planted(planted, case)
                    planted_once = True
                    claim_put["ConditionExpression"] = "case_id = :planted"
                    claim_put["ExpressionAttributeValues"] = {":planted": {"S": planted.case_id}}
                    continue
                if existing is None or existing.case_id == replaces:  # cancelled for another reason: the caller retries
                    raise cancelled from None
                return Claimed(existing, False, ())
            at_limit = tuple(
                name
                for (name, _, limit), code in zip(counters, codes[2:], strict=False)
                if limit is not None and code == CONDITION_FAILED
            )
            if at_limit and not over:
                over = at_limit
                case.inflight = None  # it waits for approval: no step runs in this invocation
                continue
            time.sleep(CLAIM_RETRY_SECONDS * (attempt + 1))  # a transaction conflict on a counter, or throttling
        raise cancelled

    @staticmethod
    def _counters(case: Case, hourly: HourlyLimits | None, now: float) -> list[tuple[str, str, int | None]]:
        """(name, counter item, limit or None) of the hourly counters a new case adds one to (see count_case)."""
        if hourly is None or not (hourly.playbook or hourly.total):
            return []
        mine, every = rate_partitions(case.playbook, case.account, manual=case.manual, now=now)
        return [("playbook", mine, hourly.playbook or None), ("all", every, hourly.total or None)]

    def claimed_case(self, playbook: str, dedup: str) -> Case | None:
        """The case holding the claim on (playbook, dedup); None if unclaimed; PlantedClaim if not genuine."""
        resp = self.ddb.get_item(
            TableName=self.table, Key=_item_key(_claim_key(playbook, dedup), "CLAIM"), ConsistentRead=True
        )
        if "Item" not in resp:
            return None
        claim = resp["Item"]
        case_id = claim.get("case_id", {}).get("S", "")
        named = claim.get("playbook", {}).get("S", playbook)  # claims written before they named their playbook
        if named != playbook:
            raise PlantedClaim(case_id, f"the claim names playbook {named!r}, not {playbook!r}")
        try:
            case = self.get(case_id)
        except CaseNotFound as exc:
            raise PlantedClaim(case_id, f"the claim names case {case_id!r}, which does not exist") from exc
        if case.playbook != playbook or case.dedup != dedup:
            raise PlantedClaim(case_id, f"the claim names case {case_id!r} of {case.playbook!r} on another event")
        return case

    def record_duplicate(self, case_id: str, event_id: str | None) -> None:
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(case_id),
            UpdateExpression="ADD duplicates :one SET last_duplicate = :e",
            ConditionExpression=EXISTS,  # count on the case, never create a stray item
            ExpressionAttributeValues={":one": {"N": "1"}, ":e": {"S": event_id or "?"}},
        )

    def attach_finding(self, case_id: str, entry: dict[str, Any]) -> None:
        """Append a new finding on the case's key to the case: its own list, so no run's checkpoint
        (which rewrites status, steps and history) can drop it."""
        self.ddb.update_item(
            TableName=self.table,
            Key=self._key(case_id),
            UpdateExpression="SET attached_findings = list_append(if_not_exists(attached_findings, :none), :entry)",
            ConditionExpression=EXISTS,
            ExpressionAttributeValues={
                ":none": {"L": []},
                ":entry": {"L": [{"S": json.dumps(entry, default=str, sort_keys=True)}]},
            },
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
                ConditionExpression=f"{EXISTS} AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :o)",
                ExpressionAttributeValues={
                    ":o": {"S": owner},
                    ":u": {"N": str(now + seconds)},
                    ":now": {"N": str(now)},
                },
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

    def save(
        self,
        case: Case,
        *,
        owner: str | None = None,
        undo_pending: str | bool | None = None,
        release: bool = False,
    ) -> None:
        """Checkpoint the case (status, steps, next step). With `owner`, only while holding the lease;
        `release`: and free the lease in the same write (a run's last checkpoint).

        Every save moves the case along the lifecycle (parry.store.lifecycle), from the status it was
        read with to its status now, and is written only while the table still holds that from-state:
        a transition the lifecycle lacks raises IllegalTransition, one someone else made first a ParryError.

        `undo_pending`: False, only while no undo request is pending (an undo with the caller's own
        credentials); a request id, only while that request is the pending one (the runner carrying
        it out), which is no longer pending once `case.undo_request` says so.
        """
        start = case.stored_status
        lifecycle.check(case.case_id, start, case.status)
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
        update = (
            "SET #s = :s, steps = :steps, next_step = :n, updated_at = :u, history = :h, awaiting = :a, dry_run = :d,"
            " inflight = :i, undo_request = :r"
        )
        if case.status not in OPEN_STATUSES:
            update += f", {TTL_ATTRIBUTE} = :ttl"
            values[":ttl"] = {"N": str(int(now + CLOSED_CASE_TTL_DAYS * 86400))}
        conditions = [EXISTS]
        if owner is not None:
            conditions.append("lease_owner = :o")
            values[":o"] = {"S": owner}
        if start is not None:
            conditions.append("#s = :from")
            values[":from"] = {"S": start}
        if undo_pending is False:
            conditions.append("attribute_not_exists(undo_pending)")
        removed = ["lease_owner", "lease_until"] if release else []
        if isinstance(undo_pending, str):
            conditions.append("undo_pending = :rid")
            values[":rid"] = {"S": undo_pending}
            if (case.undo_request or {}).get("state") != UNDO_PENDING:
                removed.append("undo_pending")
        if removed:
            update += " REMOVE " + ", ".join(removed)
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
            if not self._landed(case, owner, released=release):
                raise ParryError(f"case {case.case_id} changed under this run (lease lost or status moved on)") from exc
        case.stored_status = case.status

    def _landed(self, case: Case, owner: str | None, *, released: bool = False) -> bool:
        """Whether this very save is already in the table: botocore retried a write whose first attempt
        took effect (its answer was lost), so the retry's from-state no longer holds. The item then has
        this save's status, timestamp and lease owner (none, for a save that released it)."""
        item = self.ddb.get_item(TableName=self.table, Key=self._key(case.case_id), ConsistentRead=True).get("Item", {})
        held = item.get("lease_owner", {}).get("S")
        return (
            item.get("status", {}).get("S") == case.status
            and item.get("updated_at", {}).get("S") == case.updated_at
            and (owner is None or held == (None if released else owner))
        )

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
                ConditionExpression=f"{EXISTS} AND #s = :s AND updated_at = :read AND attribute_not_exists(undo_pending)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":r": {"S": json.dumps(request, default=str)},
                    ":rid": {"S": str(request.get("id"))},
                    ":h": {"S": json.dumps(case.history, default=str)},
                    ":u": {"S": case.updated_at},
                    ":s": {"S": case.status},
                    ":read": {"S": read_at},
                },
            )
        except self.ddb.exceptions.ConditionalCheckFailedException as exc:
            raise ParryError(
                f"case {case.case_id} changed meanwhile (another undo was requested or ran): "
                f"look at `parry cases show {case.case_id}` and ask again if still needed"
            ) from exc

    def withdraw_undo(self, case_id: str, request: dict[str, Any]) -> None:
        """End a pending request that could not be sent to the runner (so a new one can be recorded)."""
        try:
            self.ddb.update_item(
                TableName=self.table,
                Key=self._key(case_id),
                UpdateExpression="SET undo_request = :r REMOVE undo_pending",
                ConditionExpression="undo_pending = :rid",
                ExpressionAttributeValues={
                    ":r": {"S": json.dumps(request, default=str)},
                    ":rid": {"S": str(request["id"])},
                },
            )
        except self.ddb.exceptions.ConditionalCheckFailedException:
            pass  # already carried out or withdrawn

    # ---- decisions ---------------------------------------------------------------------------------

    def use_nonce(self, nonce: str, *, case_id: str, gate: str) -> None:
        """Record that a decision's nonce was used (one conditional write); ReplayedDecision if it was before."""
        if not nonce:
            raise ReplayedDecision("a decision without a nonce cannot be checked for replay")
        now = self.clock()
        try:
            self.ddb.put_item(
                TableName=self.table,
                Item={
                    **_item_key(f"NONCE#{nonce}", "NONCE"),
                    "case_id": {"S": case_id},
                    "gate": {"S": gate},
                    "used_at": {"S": _iso(now)},
                    TTL_ATTRIBUTE: {"N": str(int(now + NONCE_TTL_SECONDS))},
                },
                ConditionExpression=ABSENT,
            )
        except self.ddb.exceptions.ConditionalCheckFailedException as exc:
            raise ReplayedDecision(f"the decision nonce {nonce} was used before: a decision works once") from exc

    # ---- rate limiting ---------------------------------------------------------------------------

    def count_case(self, playbook: str, account: str, *, manual: bool) -> tuple[int, int]:
        """Count one more case in the current hour (a new case is counted by its claim: this counts one whose
        opening a crash cut short before its record, which holds the claim's decision); (the new count of the playbook's cases of this origin
        in `account`, the new count of every playbook's cases).

        A flood in one account, or people's starts, never hold another account's (or the automatic)
        cases of the playbook: each (playbook, account, manual or not) has its own counter. The
        global counter bounds them all together.
        """
        now = self.clock()
        mine, every = rate_partitions(playbook, account, manual=manual, now=now)
        return self._count(mine, now), self._count(every, now)

    def _count(self, partition: str, now: float) -> int:
        resp = self.ddb.update_item(**counter_update(self.table, partition, now, None), ReturnValues="UPDATED_NEW")
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
            "KeyConditionExpression": f"{INDEX_PARTITION_KEY} = :k",
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
    def _key(case_id: str) -> dict[str, dict[str, str]]:
        return _item_key(f"CASE#{case_id}", "CASE")

    def _case_item(self, case: Case, now: float) -> dict[str, Any]:
        requester = {"requested_by": case.requested_by, "requested_via": case.requested_via}
        return {
            **self._key(case.case_id),
            INDEX_PARTITION_KEY: {"S": "case"},
            "case_id": {"S": case.case_id},
            "playbook": {"S": case.playbook},
            "playbook_sha256": {"S": case.playbook_sha256},
            "status": {"S": case.status},
            INDEX_SORT_KEY: {"S": case.opened_at},  # the index lists cases by when they were opened
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
            **{name: {"S": value} for name, value in requester.items() if value},
            "history": {"S": json.dumps(case.history, default=str)},
            "awaiting": {"S": json.dumps(case.awaiting, default=str)},
            **({"follows": {"S": case.follows}} if case.follows else {}),
            **({"inflight": {"S": json.dumps(case.inflight, default=str)}} if case.inflight else {}),
        }

    @staticmethod
    def _from_item(item: dict[str, Any]) -> Case:
        def s(name: str, default: str = "") -> str:
            return item[name]["S"] if name in item else default

        def j(name: str, default: Any) -> Any:
            return json.loads(item[name]["S"]) if name in item else default

        case = Case(
            case_id=s("case_id"),
            playbook=s("playbook"),
            playbook_sha256=s("playbook_sha256"),
            status=s("status"),
            opened_at=s(INDEX_SORT_KEY),
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
            requested_by=s("requested_by") or None,
            requested_via=s("requested_via") or None,
            history=j("history", []),
            awaiting=j("awaiting", None),
            inflight=j("inflight", None),
            undo_request=j("undo_request", None),
            duplicates=int(item.get("duplicates", {"N": "0"})["N"]),
            follows=s("follows") or None,
            attached_findings=[json.loads(v["S"]) for v in item.get("attached_findings", {"L": []})["L"]],
        )
        case.stored_status = case.status
        return case
