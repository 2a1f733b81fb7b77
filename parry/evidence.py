"""The evidence writer: per-case objects under Object Lock, and a hash-chained audit log.

Layout (DESIGN.md): `cases/<account>/<yyyy>/<mm>/<dd>/<case-id>/` holding `event.json`,
`playbook.json`, `artifacts/<step-id>/...` and `audit/<nnnn>.json`, each audit record carrying the
sha256 of the one before it. Every object is written once, with a retention date and S3's own
SHA-256 checksum, so neither Parry nor an operator can silently rewrite what happened.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

GENESIS = "0" * 64
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


def canonical_json(value: Any) -> bytes:
    """The exact bytes Parry hashes and stores for a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def case_prefix(account: str, opened_at: datetime, case_id: str) -> str:
    return f"cases/{account}/{opened_at:%Y/%m/%d}/{case_id}/"


@dataclass(frozen=True)
class StoredObject:
    key: str
    version_id: str | None
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version_id": self.version_id, "sha256": self.sha256, "size": self.size}


class EvidenceStore:
    """Writes evidence objects into one Object Lock bucket."""

    def __init__(self, s3: Any, bucket: str, *, retention_days: int = 365, lock_mode: str = "GOVERNANCE"):
        if lock_mode not in LOCK_MODES:
            raise ValueError(f"lock mode must be one of {LOCK_MODES}, not {lock_mode!r}")
        self.s3 = s3
        self.bucket = bucket
        self.retention_days = retention_days
        self.lock_mode = lock_mode

    def case(self, *, case_id: str, account: str, opened_at: datetime) -> "CaseEvidence":
        return CaseEvidence(self, case_prefix(account, opened_at, case_id))

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> StoredObject:
        retain_until = datetime.now(timezone.utc) + timedelta(days=self.retention_days)
        resp = self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
            ObjectLockMode=self.lock_mode,
            ObjectLockRetainUntilDate=retain_until,
        )
        return StoredObject(key, resp.get("VersionId"), sha256_hex(body), len(body))

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(out)


class CaseEvidence:
    """One case's folder. The audit chain continues where a previous invocation left it."""

    def __init__(self, store: EvidenceStore, prefix: str):
        self.store = store
        self.prefix = prefix
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._head = GENESIS

    def put(self, relpath: str, body: bytes | dict | list, content_type: str = "application/json") -> StoredObject:
        data = body if isinstance(body, bytes) else canonical_json(body)
        return self.store.put(self.prefix + relpath, data, content_type)

    def artifact(self, step_id: str, name: str, body: bytes | dict | list, content_type: str = "application/json") -> StoredObject:
        return self.put(f"artifacts/{step_id}/{name}", body, content_type)

    def has(self, relpath: str) -> bool:
        return bool(self.store.keys(self.prefix + relpath))

    def audit(self, kind: str, data: dict[str, Any]) -> StoredObject:
        """Append one immutable audit record holding the sha256 of the previous one."""
        with self._lock:
            if self._seq is None:
                self._resume_chain()
            assert self._seq is not None
            seq = self._seq + 1
            record = {"seq": seq, "kind": kind, "prev_sha256": self._head, "at": _now(), **data}
            stored = self.put(f"audit/{seq:04d}.json", record)
            self._seq, self._head = seq, stored.sha256
            return stored

    @property
    def chain_head(self) -> str:
        with self._lock:
            if self._seq is None:
                self._resume_chain()
            return self._head

    def _resume_chain(self) -> None:
        keys = self.store.keys(self.prefix + "audit/")
        if not keys:
            self._seq, self._head = 0, GENESIS
            return
        last = keys[-1]
        self._seq = int(last.rsplit("/", 1)[1].split(".")[0])
        self._head = sha256_hex(self.store.get(last))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
