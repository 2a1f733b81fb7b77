"""Write-once objects in the evidence bucket: each key written once, under Object Lock, with S3's own
SHA-256 checksum and `If-None-Match: *`, so a retry or a racing invocation can never add a second
version of a key (a second version is exactly what the verifier reports as a changed object).
The bytes Parry hashes and stores for a JSON value, and where a case's folder is, are defined here.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from parry.aws.errors import error_code
from parry.errors import EvidenceConflict, EvidenceError

LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


def canonical_json(value: Any) -> bytes:
    """The exact bytes Parry hashes and stores for a JSON value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def case_prefix(account: str, opened_at: datetime, case_id: str) -> str:
    if not case_id or "/" in case_id or case_id in (".", ".."):
        raise ValueError(f"case id must be a non-empty string without '/', not {case_id!r}")
    if not account or "/" in account:
        raise ValueError(f"account must be a non-empty string without '/', not {account!r}")
    return f"cases/{account}/{opened_at:%Y/%m/%d}/{case_id}/"


@dataclass(frozen=True)
class StoredObject:
    key: str
    version_id: str | None
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "version_id": self.version_id, "sha256": self.sha256, "size": self.size}


class WriteOnceBucket:
    """Writes evidence objects into one Object Lock bucket, each key once."""

    def __init__(self, s3: Any, bucket: str, *, retention_days: int = 365, lock_mode: str = "GOVERNANCE"):
        if lock_mode not in LOCK_MODES:
            raise ValueError(f"lock mode must be one of {LOCK_MODES}, not {lock_mode!r}")
        if retention_days < 1:
            raise ValueError(f"retention must be at least one day, not {retention_days}")
        self.s3 = s3
        self.bucket = bucket
        self.retention_days = retention_days
        self.lock_mode = lock_mode

    def put(self, key: str, body: bytes, content_type: str = "application/json") -> StoredObject:
        """Write `body` once. Writing the same bytes again returns the stored object (idempotent
        under at-least-once delivery); different bytes raise EvidenceConflict."""
        for _ in range(3):
            stored = self._put_new(key, body, content_type)
            if stored is not None:
                return stored
            existing = self.head(key)
            if existing is None:
                continue  # a concurrent write was still in flight (409), or it was deleted: try again
            if existing.sha256 == sha256_hex(body):
                return existing
            raise EvidenceConflict(f"evidence object {key} already exists with different content")
        raise EvidenceError(f"could not write evidence object {key}: it keeps changing under us")

    def _put_new(self, key: str, body: bytes, content_type: str) -> StoredObject | None:
        """Create `key`, or return None when it already exists (If-None-Match: *)."""
        retain_until = datetime.now(UTC) + timedelta(days=self.retention_days)
        digest = hashlib.sha256(body).digest()
        try:
            resp = self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=base64.b64encode(digest).decode(),
                ObjectLockMode=self.lock_mode,
                ObjectLockRetainUntilDate=retain_until,
                IfNoneMatch="*",
            )
        except Exception as exc:
            if error_code(exc) in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return None
            raise
        return StoredObject(key, resp.get("VersionId"), digest.hex(), len(body))

    def head(self, key: str) -> StoredObject | None:
        """The current version of `key` (hashed from its bytes), or None."""
        current = self._current(key)
        if current is None:
            return None
        version_id, body = current
        return StoredObject(key, version_id, sha256_hex(body), len(body))

    def _current(self, key: str) -> tuple[str | None, bytes] | None:
        """(version id, bytes) of the current version of `key`; None when there is none (never written,
        or deleted). Any other failure to read it is raised."""
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NoSuchVersion"):
                return None
            raise
        return resp.get("VersionId"), resp["Body"].read()

    def get(self, key: str, version_id: str | None = None) -> bytes:
        kwargs = {"VersionId": version_id} if version_id else {}
        return self.s3.get_object(Bucket=self.bucket, Key=key, **kwargs)["Body"].read()

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out.extend(obj["Key"] for obj in page.get("Contents", []))
        return sorted(out)

    def current_versions(self, prefix: str) -> dict[str, str | None]:
        """key -> version id of every current (not deleted) object under `prefix`."""
        out: dict[str, str | None] = {}
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=prefix):
            for v in page.get("Versions", []):
                if v.get("IsLatest"):
                    out[v["Key"]] = v.get("VersionId")
        return out
