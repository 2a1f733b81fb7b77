"""The verifier: prove a case intact from the bucket alone, or name exactly what is wrong.

Nothing Parry recorded elsewhere is trusted (no case table, no writer state): every sha256 is
recomputed from the bytes, the audit chain is re-walked, each manifest's signature is checked with
`cryptography` against the public key stored beside it and, when given, against the keys the
auditor pins. The same checks run on a folder made by `parry evidence export`.

Problems are named with one of the kinds in `KINDS`, the object's path inside the case folder and a
sentence saying what differs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Protocol

from parry.evidence import manifest as mf
from parry.errors import VerifyError
from parry.evidence.writer import GENESIS, sha256_hex

__all__ = [
    "KINDS",
    "DirSource",
    "Policy",
    "Problem",
    "S3Source",
    "Verification",
    "load_public_keys",
    "verify_case",
]

CHANGED = "changed object"
MISSING = "missing object"
UNEXPECTED = "unexpected object"
BROKEN_CHAIN = "broken chain"
BAD_SIGNATURE = "bad signature"
FOREIGN_KEY = "foreign key"
UNSIGNED = "unsigned manifest"
RETENTION = "retention"
BAD_MANIFEST = "bad manifest"
NOT_SEALED = "not sealed"
KINDS = (CHANGED, MISSING, UNEXPECTED, BROKEN_CHAIN, BAD_SIGNATURE, FOREIGN_KEY, UNSIGNED, RETENTION, BAD_MANIFEST, NOT_SEALED)

RETENTION_SLACK = timedelta(hours=1)
EXPORT_INDEX = "export.json"


@dataclass(frozen=True)
class Problem:
    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail}


@dataclass(frozen=True)
class Policy:
    """The retention an auditor requires: a lock mode at least this strict, for at least `days`."""

    mode: str | None = None
    days: int | None = None


@dataclass
class Version:
    version_id: str | None
    is_latest: bool
    delete_marker: bool = False
    size: int | None = None
    last_modified: datetime | None = None


@dataclass
class Head:
    mode: str | None
    retain_until: datetime | None
    checksum_sha256: str | None
    last_modified: datetime | None


class Source(Protocol):
    prefix: str
    label: str

    def listing(self) -> dict[str, list[Version]]: ...

    def read(self, relpath: str, version_id: str | None) -> bytes | None: ...

    def head(self, relpath: str, version_id: str | None) -> Head | None: ...


@dataclass
class Verification:
    prefix: str
    case_id: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifests: int = 0
    objects: int = 0
    audit_records: int = 0
    audit_head: str | None = None
    signed_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, path: str, detail: str) -> None:
        if not any(p.kind == kind and p.path == path for p in self.problems):
            self.problems.append(Problem(kind, path, detail))

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "prefix": self.prefix,
            "intact": self.ok,
            "problems": [p.as_dict() for p in self.problems],
            "notes": self.notes,
            "manifests": self.manifests,
            "objects": self.objects,
            "audit_records": self.audit_records,
            "audit_head": self.audit_head,
            "signed_by": self.signed_by,
        }


# ---- sources -----------------------------------------------------------------------------------


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


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
                out.setdefault(v["Key"][len(self.prefix):], []).append(
                    Version(v.get("VersionId"), bool(v.get("IsLatest")), False, v.get("Size"), _aware(v.get("LastModified"))))
            for d in page.get("DeleteMarkers", []):
                out.setdefault(d["Key"][len(self.prefix):], []).append(
                    Version(d.get("VersionId"), bool(d.get("IsLatest")), True, None, _aware(d.get("LastModified"))))
        return out

    def read(self, relpath: str, version_id: str | None) -> bytes | None:
        cache_key = (relpath, version_id)
        if cache_key not in self._bodies:
            kwargs = {"VersionId": version_id} if version_id else {}
            try:
                body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + relpath, **kwargs)["Body"].read()
            except Exception as exc:
                if _code(exc) not in ("NoSuchKey", "NoSuchVersion", "404", "InvalidArgument", "MethodNotAllowed"):
                    raise
                body = None
            self._bodies[cache_key] = body
        return self._bodies[cache_key]

    def head(self, relpath: str, version_id: str | None) -> Head | None:
        kwargs = {"VersionId": version_id} if version_id else {}
        try:
            resp = self.s3.head_object(Bucket=self.bucket, Key=self.prefix + relpath, ChecksumMode="ENABLED", **kwargs)
        except Exception as exc:
            if _code(exc) not in ("NoSuchKey", "NoSuchVersion", "404", "405", "MethodNotAllowed"):
                raise
            return None
        return Head(resp.get("ObjectLockMode"), _aware(resp.get("ObjectLockRetainUntilDate")),
                    resp.get("ChecksumSHA256"), _aware(resp.get("LastModified")))


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
            out[rel] = [Version(v.get("version_id"), bool(v.get("is_latest")), bool(v.get("delete_marker")), v.get("size"),
                                _aware(v.get("last_modified"))) for v in info.get("versions", [])]
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
        return Head(h.get("mode"), _aware(h.get("retain_until")), h.get("checksum_sha256"), _aware(h.get("last_modified")))


# ---- public keys -------------------------------------------------------------------------------


def _load_key(data: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    if data.lstrip().startswith(b"-----BEGIN"):
        return serialization.load_pem_public_key(data)
    return serialization.load_der_public_key(data)


def _der(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_keys(paths: Iterable[str | Path]) -> set[str]:
    """sha256 fingerprints (of the DER SubjectPublicKeyInfo) of PEM or DER public key files."""
    out = set()
    for path in paths:
        try:
            out.add(sha256_hex(_der(_load_key(Path(path).read_bytes()))))
        except OSError as exc:
            raise VerifyError(f"{path}: cannot read public key: {exc.strerror}") from exc
        except ValueError as exc:
            raise VerifyError(f"{path}: not a PEM or DER public key") from exc
    return out


def _verify_signature(der: bytes, signature: bytes, body: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _load_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


# ---- the checks --------------------------------------------------------------------------------


def case_id_of(prefix: str) -> str:
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def verify_case(source: Source, *, policy: Policy | None = None, trusted_keys: set[str] | None = None) -> Verification:
    """Every check on one case; the result names each problem found (an empty list: intact)."""
    result = Verification(source.prefix, case_id_of(source.prefix))
    listing = source.listing()
    current: dict[str, Version] = {}
    for rel, versions in sorted(listing.items()):
        _check_write_once(result, rel, versions)
        latest = next((v for v in versions if v.is_latest), None)
        if latest is not None and not latest.delete_marker:
            current[rel] = latest
    result.objects = len(current)

    manifests = _check_manifests(result, source, listing, current, trusted_keys or set())
    audit = _check_audit_chain(result, source, current)
    if not manifests:
        result.add(NOT_SEALED, "manifest/", "the case has no manifest: nothing proves what it held")
        sealed: set[str] = set()
        head_seq = 0
    else:
        seq, doc = max(manifests.items())
        sealed = _check_sealed_objects(result, source, current, listing, manifests, seq)
        head_seq = _check_heads(result, manifests, audit)
    allowed = _manifest_material(manifests) | sealed
    late = 0
    for rel in sorted(current):
        if rel in allowed:
            continue
        m = mf.AUDIT_RE.match(rel)
        if m and int(m.group(1)) > head_seq and audit.get(int(m.group(1))) is not None:
            late += 1  # chained audit records written after the last seal are expected
            continue
        result.add(UNEXPECTED, rel, "in the case folder but in no manifest")
    if late:
        result.notes.append(f"{late} audit record(s) written after the latest manifest (chained, not yet sealed)")
    _check_retention(result, source, current, listing, policy, manifests)
    return result


def _check_write_once(result: Verification, rel: str, versions: list[Version]) -> None:
    """Parry writes each key exactly once: a second version or a delete marker is tampering."""
    markers = [v for v in versions if v.delete_marker]
    objects = [v for v in versions if not v.delete_marker]
    latest = next((v for v in versions if v.is_latest), None)
    if latest is not None and latest.delete_marker:
        result.add(MISSING, rel, f"deleted: the current version is a delete marker ({len(objects)} older version(s) retained)")
    elif markers:
        result.add(CHANGED, rel, f"deleted and written again ({len(markers)} delete marker(s))")
    if len(objects) > 1:
        newest = next((v for v in objects if v.is_latest), objects[0])
        result.add(CHANGED, rel, f"{len(objects)} versions of a write-once object; the newest is {newest.version_id}")


def _manifest_material(manifests: dict[int, dict[str, Any]]) -> set[str]:
    out = set()
    for seq in manifests:
        der, pem = mf.public_key_relpaths(seq)
        out |= {mf.manifest_relpath(seq), mf.signature_relpath(seq), der, pem}
    return out


def _check_manifests(result: Verification, source: Source, listing: dict[str, list[Version]],
                     current: dict[str, Version], trusted: set[str]) -> dict[int, dict[str, Any]]:
    manifests: dict[int, dict[str, Any]] = {}
    bodies: dict[int, tuple[bytes, str | None]] = {}
    for rel in sorted(listing):
        m = mf.MANIFEST_RE.match(rel)
        if not m or m.group(2) != "json" or rel not in current:
            continue
        seq = int(m.group(1))
        if rel != mf.manifest_relpath(seq) or seq in bodies:
            continue  # a second spelling of the same number: reported as unexpected
        body = source.read(rel, current[rel].version_id)
        if body is None:
            result.add(MISSING, rel, "listed but unreadable")
            continue
        try:
            doc = json.loads(body)
            if not isinstance(doc, dict):
                raise ValueError
        except ValueError:
            result.add(BAD_MANIFEST, rel, "not a JSON object")
            continue
        bodies[seq] = (body, current[rel].version_id)
        manifests[seq] = doc
    result.manifests = len(manifests)
    reference: tuple[int, str] | None = None
    for seq in sorted(manifests):
        rel, doc = mf.manifest_relpath(seq), manifests[seq]
        body, version_id = bodies[seq]
        if doc.get("format") != mf.FORMAT:
            result.add(BAD_MANIFEST, rel, f"format {doc.get('format')!r}, expected {mf.FORMAT}")
        if doc.get("seq") != seq:
            result.add(BROKEN_CHAIN, rel, f"says it is manifest {doc.get('seq')!r}: renumbered or moved")
        if source.prefix and doc.get("prefix") not in (None, source.prefix):
            result.add(BAD_MANIFEST, rel, f"was written for {doc.get('prefix')}, not this case folder")
        expected_previous = None
        if seq > 1:
            if seq - 1 not in manifests:
                result.add(BROKEN_CHAIN, mf.manifest_relpath(seq - 1), f"missing: manifest {seq} follows it")
            else:
                prev_body, prev_version = bodies[seq - 1]
                expected_previous = {"key": source.prefix + mf.manifest_relpath(seq - 1), "sha256": sha256_hex(prev_body)}
        named = doc.get("previous_manifest")
        if expected_previous is None and seq == 1 and named is not None:
            result.add(BROKEN_CHAIN, rel, "manifest 1 names a predecessor")
        elif expected_previous is not None and (not isinstance(named, dict) or named.get("sha256") != expected_previous["sha256"]):
            result.add(BROKEN_CHAIN, rel, f"does not name manifest {seq - 1} (sha256 {expected_previous['sha256'][:16]}…) as its predecessor")
        reference = _check_signature(result, source, current, seq, doc, body, trusted, reference)
    return manifests


def _check_signature(result: Verification, source: Source, current: dict[str, Version], seq: int, doc: dict[str, Any],
                     body: bytes, trusted: set[str], reference: tuple[int, str] | None) -> tuple[int, str] | None:
    rel = mf.manifest_relpath(seq)
    signing = doc.get("signing")
    if not doc.get("signed") or not isinstance(signing, dict):
        result.add(UNSIGNED, rel, "written without a signature: nothing proves Parry wrote it")
        return reference
    sig_rel = mf.signature_relpath(seq)
    der_rel, pem_rel = mf.public_key_relpaths(seq)
    parts = {}
    for part in (sig_rel, der_rel):
        data = source.read(part, current[part].version_id) if part in current else None
        if data is None:
            result.add(MISSING, part, f"the signature material of manifest {seq} is absent")
            return reference
        parts[part] = data
    der = parts[der_rel]
    fingerprint = sha256_hex(der)
    if fingerprint != signing.get("public_key_sha256"):
        result.add(FOREIGN_KEY, der_rel, f"public key sha256 {fingerprint[:16]}… is not the key manifest {seq} names "
                   f"({str(signing.get('public_key_sha256'))[:16]}…, {signing.get('key_id')})")
        return reference
    if pem_rel in current:
        pem = source.read(pem_rel, current[pem_rel].version_id)
        if pem != mf.der_to_pem(der):  # byte for byte: Parry writes the PEM from the DER, nothing else
            result.add(CHANGED, pem_rel, f"the PEM public key is not the PEM form of {der_rel}")
    else:
        result.add(MISSING, pem_rel, f"the PEM public key of manifest {seq} is absent")
    try:
        valid = _verify_signature(der, parts[sig_rel], body)
    except ValueError:
        valid = False
    if not valid:
        result.add(BAD_SIGNATURE, rel, f"the signature in {sig_rel} does not match the manifest's bytes (key {fingerprint[:16]}…)")
        return reference
    label = f"{signing.get('key_id')} (sha256 {fingerprint[:16]}…)"
    if label not in result.signed_by:
        result.signed_by.append(label)
    if trusted:
        if fingerprint not in trusted:
            result.add(FOREIGN_KEY, rel, f"validly signed, but by {label}, not by an expected public key")
    elif reference is None:
        result.notes.append(f"signatures checked with the public key stored in the case ({label}); pin it with --public-key")
        reference = (seq, fingerprint)
    elif reference[1] != fingerprint:
        result.add(FOREIGN_KEY, rel, f"signed by {label}, not the key that signed manifest {reference[0]}")
    return reference


def _check_sealed_objects(result: Verification, source: Source, current: dict[str, Version], listing: dict[str, list[Version]],
                          manifests: dict[int, dict[str, Any]], latest_seq: int) -> set[str]:
    """Each object the latest manifest lists is there, at that version, with those bytes; what an
    earlier manifest sealed is still in the latest one, unchanged."""
    sealed: dict[str, dict[str, Any]] = {}
    for seq in sorted(manifests):
        entries = manifests[seq].get("objects")
        if not isinstance(entries, list):
            result.add(BAD_MANIFEST, mf.manifest_relpath(seq), "has no object list")
            continue
        for entry in entries:
            key = str(entry.get("key", "")) if isinstance(entry, dict) else ""
            if not key.startswith(source.prefix) or len(key) == len(source.prefix):
                result.add(BAD_MANIFEST, mf.manifest_relpath(seq), f"lists {key!r}, outside this case folder")
                continue
            rel = key[len(source.prefix):]
            if seq == latest_seq:
                sealed[rel] = entry
            elif rel not in sealed_in(manifests[latest_seq]):
                result.add(MISSING, rel, f"sealed in manifest {seq} but absent from manifest {latest_seq}")
            elif sealed_in(manifests[latest_seq])[rel].get("sha256") != entry.get("sha256"):
                result.add(CHANGED, rel, f"sha256 differs between manifest {seq} and manifest {latest_seq}")
    for rel, entry in sorted(sealed.items()):
        version_id = entry.get("version_id")
        versions = listing.get(rel, [])
        if rel not in current:
            if not versions:
                result.add(MISSING, rel, "sealed in the manifest, absent from the case folder")
            else:
                result.add(MISSING, rel, "sealed in the manifest, deleted from the case folder")
            continue
        if version_id and current[rel].version_id and current[rel].version_id != version_id:
            result.add(CHANGED, rel, f"version {current[rel].version_id} replaced the sealed version {version_id}")
        body = source.read(rel, version_id)
        if body is None:
            result.add(MISSING, rel, f"the sealed version {version_id} cannot be read (removed, or absent from the export)")
            continue
        digest = sha256_hex(body)
        if digest != entry.get("sha256"):
            result.add(CHANGED, rel, f"sha256 {digest[:16]}… differs from the manifest's {str(entry.get('sha256'))[:16]}…")
        elif len(body) != entry.get("size"):
            result.add(CHANGED, rel, f"size {len(body)} differs from the manifest's {entry.get('size')}")
        if version_id and current[rel].version_id != version_id:
            continue
        latest = source.read(rel, current[rel].version_id)
        if latest is not None and sha256_hex(latest) != entry.get("sha256"):
            result.add(CHANGED, rel, "the current bytes differ from the manifest's sha256")
    return set(sealed)


def sealed_in(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = str(doc.get("prefix", ""))
    return {str(e.get("key", ""))[len(prefix):]: e for e in doc.get("objects", []) if isinstance(e, dict)}


def _check_audit_chain(result: Verification, source: Source, current: dict[str, Version]) -> dict[int, str | None]:
    """seq -> sha256 of each audit record whose link to the one before it holds (None: broken)."""
    records: dict[int, tuple[str, bytes]] = {}
    for rel in sorted(current):
        m = mf.AUDIT_RE.match(rel)
        if not m:
            continue
        seq = int(m.group(1))
        if rel != mf.audit_relpath(seq) or seq in records:
            result.add(BROKEN_CHAIN, rel, f"a second record numbered {seq}")
            continue
        body = source.read(rel, current[rel].version_id)
        if body is None:
            result.add(MISSING, rel, "listed but unreadable")
            continue
        records[seq] = (rel, body)
    result.audit_records = len(records)
    chain: dict[int, str | None] = {}
    previous_sha, previous_at = GENESIS, ""
    for seq in range(1, max(records, default=0) + 1):
        if seq not in records:
            result.add(BROKEN_CHAIN, mf.audit_relpath(seq), "missing: a gap in the audit log")
            chain[seq], previous_sha, previous_at = None, "", ""
            continue
        rel, body = records[seq]
        digest = sha256_hex(body)
        try:
            record = json.loads(body)
            if not isinstance(record, dict):
                raise ValueError
        except ValueError:
            result.add(BROKEN_CHAIN, rel, "not a JSON audit record")
            chain[seq], previous_sha, previous_at = None, digest, ""
            continue
        ok = True
        if record.get("seq") != seq:
            result.add(BROKEN_CHAIN, rel, f"the record says seq {record.get('seq')!r}: renumbered or moved")
            ok = False
        if previous_sha and record.get("prev_sha256") != previous_sha:
            before = "the chain start" if seq == 1 else mf.audit_relpath(seq - 1)
            result.add(BROKEN_CHAIN, rel, f"prev_sha256 does not match {before}: records changed, reordered or removed")
            ok = False
        at = str(record.get("at", ""))
        if previous_at and at and at < previous_at:
            result.add(BROKEN_CHAIN, rel, f"dated {at}, before the record it follows ({previous_at}): reordered")
            ok = False
        chain[seq] = digest if ok else None
        previous_sha, previous_at = digest, at or previous_at
    if records:
        result.audit_head = chain.get(max(records))
    return chain


def _check_heads(result: Verification, manifests: dict[int, dict[str, Any]], chain: dict[int, str | None]) -> int:
    """Each manifest's audit head is a record that is still there with those bytes."""
    head_seq = 0
    for seq in sorted(manifests):
        head = manifests[seq].get("audit_head") or {}
        n, digest = head.get("seq"), head.get("sha256")
        rel = mf.manifest_relpath(seq)
        if not isinstance(n, int) or n < 0:
            result.add(BAD_MANIFEST, rel, "has no audit chain head")
            continue
        head_seq = n
        if n == 0:
            if digest != GENESIS:
                result.add(BROKEN_CHAIN, rel, "names an empty audit log with a non-genesis head")
            continue
        if n not in chain:
            result.add(BROKEN_CHAIN, mf.audit_relpath(n), f"manifest {seq}'s chain head is missing: the audit log was truncated")
        elif chain[n] is not None and chain[n] != digest:
            result.add(BROKEN_CHAIN, mf.audit_relpath(n), f"is not the chain head manifest {seq} sealed")
    return head_seq


def _check_retention(result: Verification, source: Source, current: dict[str, Version], listing: dict[str, list[Version]],
                     policy: Policy | None, manifests: dict[int, dict[str, Any]]) -> None:
    mode, days = (policy.mode, policy.days) if policy else (None, None)
    if manifests and (mode is None or days is None):
        recorded = manifests[max(manifests)].get("retention") or {}
        mode = mode or recorded.get("mode")
        days = days if days is not None else recorded.get("days")
    unknown = 0
    for rel, version in sorted(current.items()):
        head = source.head(rel, version.version_id)
        if head is None:
            unknown += 1
            continue
        if head.checksum_sha256:
            try:
                s3_sha = base64.b64decode(head.checksum_sha256).hex()
            except (binascii.Error, ValueError):
                s3_sha = ""
            body = source.read(rel, version.version_id)
            if body is not None and s3_sha and "-" not in head.checksum_sha256 and s3_sha != sha256_hex(body):
                result.add(CHANGED, rel, "S3's SHA-256 checksum does not match the bytes")
        if not head.mode or head.retain_until is None:
            result.add(RETENTION, rel, "no Object Lock retention")
            continue
        if mode == "COMPLIANCE" and head.mode != "COMPLIANCE":
            result.add(RETENTION, rel, f"locked in {head.mode} mode; the policy requires COMPLIANCE")
        written = head.last_modified or version.last_modified
        if days and written and head.retain_until + RETENTION_SLACK < written + timedelta(days=int(days)):
            result.add(RETENTION, rel, f"retained until {head.retain_until:%Y-%m-%d}, shorter than the {days}-day policy "
                       f"(written {written:%Y-%m-%d})")
    if unknown:
        result.notes.append(f"retention not checked for {unknown} object(s): no lock state recorded")
    result.notes.append(f"retention policy checked: mode {mode or 'any'}, {days or 'any'} days")


# ---- finding and exporting cases ---------------------------------------------------------------


def case_prefixes(s3: Any, bucket: str, prefix: str = "cases/") -> list[str]:
    """Every case folder under `prefix`, deleted objects included (so a wiped case is still found)."""
    found: set[str] = set()
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
            parts = item["Key"].split("/")
            if len(parts) > 6 and parts[0] == "cases":
                found.add("/".join(parts[:6]) + "/")
    return sorted(found)


def find_case(s3: Any, bucket: str, case_id: str) -> str:
    """The folder of `case_id`: the path segment after the date must equal it."""
    if not case_id or "/" in case_id:
        raise VerifyError(f"not a case id: {case_id!r}")
    matches = [p for p in case_prefixes(s3, bucket) if p.split("/")[5] == case_id]
    if not matches:
        raise VerifyError(f"no case {case_id} in s3://{bucket}/cases/")
    if len(matches) > 1:
        raise VerifyError(f"case id {case_id} is in {len(matches)} folders: {', '.join(matches)}")
    return matches[0]


def export_case(source: S3Source, directory: str | Path) -> dict[str, Any]:
    """Copy a case's current objects into `directory` with export.json (versions, lock state)."""
    root = Path(directory)
    if root.exists() and any(root.iterdir()):
        raise VerifyError(f"{root}: exists and is not empty")
    root.mkdir(parents=True, exist_ok=True)
    objects: dict[str, Any] = {}
    for rel, versions in sorted(source.listing().items()):
        if rel == EXPORT_INDEX or ".." in rel.split("/") or rel.startswith("/"):
            raise VerifyError(f"refusing to export {rel!r}: not a safe relative path")
        latest = next((v for v in versions if v.is_latest and not v.delete_marker), None)
        info: dict[str, Any] = {"versions": [
            {"version_id": v.version_id, "is_latest": v.is_latest, "delete_marker": v.delete_marker, "size": v.size,
             "last_modified": v.last_modified.isoformat() if v.last_modified else None} for v in versions]}
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
                info["head"] = {"mode": head.mode, "retain_until": head.retain_until.isoformat() if head.retain_until else None,
                                "checksum_sha256": head.checksum_sha256,
                                "last_modified": head.last_modified.isoformat() if head.last_modified else None}
        objects[rel] = info
    index = {"format": "parry.export/v1", "source": source.label, "bucket": source.bucket, "prefix": source.prefix,
             "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "objects": objects}
    (root / EXPORT_INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return index


def env_public_keys() -> list[str]:
    value = os.environ.get("PARRY_EVIDENCE_PUBLIC_KEY", "")
    return [p for p in value.split(os.pathsep) if p]
