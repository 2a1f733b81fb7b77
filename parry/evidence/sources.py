"""Where a case's evidence is read from: its folder in the bucket, or a folder `parry evidence export` wrote.

The verifier and the report read both through one `Source`: the versions S3 holds of each object
(delete markers included), an object's bytes at a version, and its Object Lock state. Nothing
else Parry recorded is consulted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from parry.aws.errors import error_code
from parry.errors import VerifyError

EXPORT_INDEX = "export.json"
# What S3 answers for a key or version that cannot be read: absent, an invalid version id, or a
# delete marker (405 MethodNotAllowed). Anything else is an error the caller should see.
_NOT_READABLE = ("NoSuchKey", "NoSuchVersion", "404", "InvalidArgument", "MethodNotAllowed")
_NO_HEAD = ("NoSuchKey", "NoSuchVersion", "404", "405", "MethodNotAllowed")


@dataclass
class Version:
    """One version of an object, or a delete marker, as ListObjectVersions reports it."""

    version_id: str | None
    is_latest: bool
    delete_marker: bool = False
    size: int | None = None
    last_modified: datetime | None = None


@dataclass
class Head:
    """An object version's lock state and S3's own checksum, as HeadObject reports them."""

    mode: str | None
    retain_until: datetime | None
    checksum_sha256: str | None
    last_modified: datetime | None


class Source(Protocol):
    """One case folder: `listing` maps each path inside it to its versions."""

    prefix: str
    label: str

    def listing(self) -> dict[str, list[Version]]: ...

    def read(self, relpath: str, version_id: str | None) -> bytes | None: ...

    def head(self, relpath: str, version_id: str | None) -> Head | None: ...

    def default_retention(self) -> tuple[str, int] | None:
        """The bucket's default Object Lock retention (mode, days): the deployed policy."""
        ...


def case_id_of(prefix: str) -> str:
    """The case id a case folder is named after: its last path segment."""
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def _aware(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class S3Source:
    """One case folder in the evidence bucket, read version by version."""

    def __init__(self, s3: Any, bucket: str, prefix: str):
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        self.label = f"s3://{bucket}/{prefix}"
        self._bodies: dict[tuple[str, str | None], bytes | None] = {}

    def listing(self) -> dict[str, list[Version]]:
        out: dict[str, list[Version]] = {}
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for v in page.get("Versions", []):
                out.setdefault(v["Key"][len(self.prefix) :], []).append(
                    Version(
                        v.get("VersionId"), bool(v.get("IsLatest")), False, v.get("Size"), _aware(v.get("LastModified"))
                    )
                )
            for d in page.get("DeleteMarkers", []):
                out.setdefault(d["Key"][len(self.prefix) :], []).append(
                    Version(d.get("VersionId"), bool(d.get("IsLatest")), True, None, _aware(d.get("LastModified")))
                )
        return out

    def read(self, relpath: str, version_id: str | None) -> bytes | None:
        cache_key = (relpath, version_id)
        if cache_key not in self._bodies:
            kwargs = {"VersionId": version_id} if version_id else {}
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + relpath, **kwargs)["Body"].read()
            except Exception as exc:
                if error_code(exc) not in _NOT_READABLE:
                    raise
                body = None
            self._bodies[cache_key] = body
        return self._bodies[cache_key]

    def head(self, relpath: str, version_id: str | None) -> Head | None:
        kwargs = {"VersionId": version_id} if version_id else {}
        try:
            resp = self.s3.head_object(Bucket=self.bucket, Key=self.prefix + relpath, ChecksumMode="ENABLED", **kwargs)
        except Exception as exc:
            if error_code(exc) not in _NO_HEAD:
                raise
            return None
        return Head(
            resp.get("ObjectLockMode"),
            _aware(resp.get("ObjectLockRetainUntilDate")),
            resp.get("ChecksumSHA256"),
            _aware(resp.get("LastModified")),
        )

    def default_retention(self) -> tuple[str, int] | None:
        try:
            config = self.s3.get_object_lock_configuration(Bucket=self.bucket)["ObjectLockConfiguration"]
        except Exception as exc:
            if error_code(exc) != "ObjectLockConfigurationNotFoundError":
                raise
            return None
        rule = (config.get("Rule") or {}).get("DefaultRetention") or {}
        days = rule.get("Days") or 365 * int(rule.get("Years") or 0)
        return (str(rule["Mode"]), int(days)) if rule.get("Mode") and days else None


class DirSource:
    """A folder written by `export_case`: the files, plus export.json recording what S3 reported
    (versions, delete markers, lock state) at export time. The files' bytes are what is verified."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.label = str(self.root)
        index_path = self.root / EXPORT_INDEX
        try:
            self.index = json.loads(index_path.read_text())
        except FileNotFoundError as exc:
            raise VerifyError(f"{self.root}: no {EXPORT_INDEX}; not a folder made by `parry evidence export`") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise VerifyError(f"{index_path}: unreadable: {exc}") from exc
        self.prefix = str(self.index.get("prefix", ""))
        self._objects: dict[str, dict[str, Any]] = self.index.get("objects", {})

    def _files(self) -> list[str]:
        out = []
        for path in self.root.rglob("*"):
            if path.is_file():
                rel = path.relative_to(self.root).as_posix()
                if rel != EXPORT_INDEX:
                    out.append(rel)
        return out

    def listing(self) -> dict[str, list[Version]]:
        out: dict[str, list[Version]] = {}
        for rel, info in self._objects.items():
            out[rel] = [
                Version(
                    v.get("version_id"),
                    bool(v.get("is_latest")),
                    bool(v.get("delete_marker")),
                    v.get("size"),
                    _aware(v.get("last_modified")),
                )
                for v in info.get("versions", [])
            ]
        for rel in self._files():
            if rel not in out:  # a file nobody exported: report it with no version id
                out[rel] = [Version(None, True)]
            elif not any(v.is_latest and not v.delete_marker for v in out[rel]):
                out[rel].append(Version(None, True))
        return out

    def read(self, relpath: str, version_id: str | None) -> bytes | None:
        info = self._objects.get(relpath, {})
        exported = info.get("exported_version")
        if version_id is not None and exported is not None and version_id != exported:
            return None
        try:
            return (self.root / relpath).read_bytes()
        except OSError:
            return None

    def head(self, relpath: str, version_id: str | None) -> Head | None:
        info = self._objects.get(relpath)
        if not info or (version_id is not None and info.get("exported_version") not in (None, version_id)):
            return None
        h = info.get("head") or {}
        return Head(
            h.get("mode"), _aware(h.get("retain_until")), h.get("checksum_sha256"), _aware(h.get("last_modified"))
        )

    def default_retention(self) -> tuple[str, int] | None:
        """As the bucket reported it at export time (export.json)."""
        recorded = self.index.get("bucket_retention") or {}
        mode, days = recorded.get("mode"), recorded.get("days")
        return (str(mode), int(days)) if mode and days else None
