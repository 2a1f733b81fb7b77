"""Finding case folders in the evidence bucket, and copying one out for verifying offline.

A case is found by listing object versions, delete markers included, so a case someone wiped is
still found (and then reported missing, not silently skipped).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from parry.errors import VerifyError
from parry.evidence.sources import EXPORT_INDEX, S3Source
from parry.evidence.writer import sha256_hex

EXPORT_FORMAT = "parry.export/v1"


def case_prefixes(s3: Any, bucket: str, prefix: str = "cases/") -> list[str]:
    """Every case folder under `prefix`, deleted objects included (so a wiped case is still found)."""
    found: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            parts = item["Key"].split("/")
            if len(parts) > 6 and parts[0] == "cases":
                found.add("/".join(parts[:6]) + "/")
    return sorted(found)


def find_case(s3: Any, bucket: str, case_id: str) -> list[str]:
    """Every folder named after `case_id` (the path segment after the date), whatever its account
    and date segments say: one is the case, any other a decoy the verifier tells apart."""
    if not case_id or "/" in case_id:
        raise VerifyError(f"not a case id: {case_id!r}")
    matches = [p for p in case_prefixes(s3, bucket) if p.split("/")[5] == case_id]
    if not matches:
        raise VerifyError(f"no case {case_id} in s3://{bucket}/cases/")
    return matches


def export_case(
    source: S3Source, directory: str | Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Copy a case's current objects into `directory` with export.json (versions, lock state);
    `progress(done, total)` after each object, for a front end that shows how far it is."""
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise VerifyError(f"{root}: exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    objects: dict[str, Any] = {}
    listing = sorted(source.listing().items())
    for done, (rel, versions) in enumerate(listing, start=1):
        if rel == EXPORT_INDEX or ".." in rel.split("/") or rel.startswith("/"):
            raise VerifyError(f"refusing to export {rel!r}: not a safe relative path")
        latest = next((v for v in versions if v.is_latest and not v.delete_marker), None)
        info: dict[str, Any] = {
            "versions": [
                {
                    "version_id": v.version_id,
                    "is_latest": v.is_latest,
                    "delete_marker": v.delete_marker,
                    "size": v.size,
                    "last_modified": v.last_modified.isoformat() if v.last_modified else None,
                }
                for v in versions
            ]
        }
        if latest is not None:
            body = source.read(rel, latest.version_id)
            head = source.head(rel, latest.version_id)
            if body is not None:
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                info["exported_version"] = latest.version_id
                info["sha256"] = sha256_hex(body)
            if head is not None:
                info["head"] = {
                    "mode": head.mode,
                    "retain_until": head.retain_until.isoformat() if head.retain_until else None,
                    "checksum_sha256": head.checksum_sha256,
                    "last_modified": head.last_modified.isoformat() if head.last_modified else None,
                }
        objects[rel] = info
        if progress is not None:
            progress(done, len(listing))
    retention = source.default_retention()
    index = {
        "format": EXPORT_FORMAT,
        "source": source.label,
        "bucket": source.bucket,
        "prefix": source.prefix,
        "bucket_retention": dict(zip(("mode", "days"), retention, strict=True)) if retention else None,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "objects": objects,
    }
    (root / EXPORT_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index
