"""Counting what a run does to the account: every API call, classified as it is made.

Exactly-once is a claim about effects, so the scenarios count mutating calls on the protected
account's resources (Parry's own bookkeeping excluded) and SNS notifications, rather than trusting
what the engine says it did.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

READ_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Query",
    "Scan",
    "BatchGet",
    "Select",
    "Test",
    "Simulate",
    "Check",
    "Estimate",
    "Validate",
    "Verify",
)
# Parry's own bookkeeping, not an effect on the account being protected.
BOOKKEEPING_SERVICES = ("dynamodb", "sts")
BOOKKEEPING_OPS = {("kms", "Sign"), ("kms", "GenerateMac"), ("kms", "GetPublicKey"), ("ssm", "GetParameter")}
NOTIFY_OPS = {("sns", "Publish")}


def is_mutating(service: str, op: str) -> bool:
    return not op.startswith(READ_PREFIXES)


class Probe:
    """Records every API call made by instrumented clients, classified.

    `mutations` are calls that change a resource of the protected account (Parry's case table,
    evidence bucket and signing key excluded); `notifications` are SNS publishes.
    """

    def __init__(self, evidence_bucket: str | None = None):
        self.evidence_bucket = evidence_bucket
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []
        self.mutations: list[tuple[str, str, str]] = []
        self.notifications: list[str] = []
        self.max_retry_attempts = 0

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.mutations.clear()
            self.notifications.clear()
            self.max_retry_attempts = 0

    def on_params(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """Classify the call as it is made; it counts once AWS answered (a call a crash stopped
        before it was sent changed nothing)."""
        service, op = model.service_model.endpoint_prefix, model.name
        with self.lock:
            self.calls.append((service, op))
        if (service, op) in NOTIFY_OPS:
            context["probe"] = (self.notifications, str(params.get("Subject", "")))
            return
        if service in BOOKKEEPING_SERVICES or (service, op) in BOOKKEEPING_OPS or not is_mutating(service, op):
            return
        if service == "s3" and params.get("Bucket") == self.evidence_bucket:
            return
        key = json.dumps({k: v for k, v in params.items() if k not in ("Body",)}, sort_keys=True, default=str)
        context["probe"] = (self.mutations, (service, op, key))

    def on_after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        attempts = (parsed or {}).get("ResponseMetadata", {}).get("RetryAttempts", 0)
        with self.lock:
            self.max_retry_attempts = max(self.max_retry_attempts, attempts)
            if "probe" in context:
                into, entry = context.pop("probe")
                into.append(entry)

    def mutation_counts(self) -> Counter:
        with self.lock:
            return Counter(self.mutations)
