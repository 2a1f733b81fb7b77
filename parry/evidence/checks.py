"""The checks the verifier runs on a case, each adding to a Verification the problems it finds.

Every check reads only the source: the versions listed, the bytes at a version, the lock state. A
manifest is trusted for what it seals only once its own chain and signature have been checked, and
an object counts as sealed only at the version and with the sha256 the latest manifest names.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from parry.evidence import manifest as mf
from parry.evidence.keys import signature_valid
from parry.evidence.problems import (
    BAD_MANIFEST,
    BAD_SIGNATURE,
    BROKEN_CHAIN,
    CHANGED,
    FOREIGN_KEY,
    MISDATED,
    MISSING,
    RETENTION,
    UNEXPECTED,
    UNSIGNED,
)
from parry.evidence.sources import Source, Version
from parry.evidence.writer import GENESIS, sha256_hex

if TYPE_CHECKING:
    from parry.evidence.verify import Policy, Verification

Listing = dict[str, list[Version]]  # path inside the case folder -> every version S3 holds of it
Current = dict[str, Version]  # path -> its current version (absent when the latest version is a delete marker)
Manifests = dict[int, dict[str, Any]]  # manifest number -> the manifest, as JSON-decoded

RETENTION_SLACK = timedelta(hours=1)  # the writer dates the lock from its own clock, before S3 stamps LastModified
# The writer dates a record from its own clock just before S3 stamps LastModified; any more apart is a lie.
RECORD_CLOCK_SLACK = timedelta(minutes=5)


def check_write_once(result: Verification, rel: str, versions: list[Version]) -> None:
    """Parry writes each key exactly once: a second version or a delete marker is tampering."""
    markers = [v for v in versions if v.delete_marker]
    objects = [v for v in versions if not v.delete_marker]
    latest = next((v for v in versions if v.is_latest), None)
    if latest is not None and latest.delete_marker:
        result.add(
            MISSING, rel, f"deleted: the current version is a delete marker ({len(objects)} older version(s) retained)"
        )
    elif markers:
        result.add(CHANGED, rel, f"deleted and written again ({len(markers)} delete marker(s))")
    if len(objects) > 1:
        newest = next((v for v in objects if v.is_latest), objects[0])
        result.add(CHANGED, rel, f"{len(objects)} versions of a write-once object; the newest is {newest.version_id}")


def manifest_material(manifests: Manifests) -> set[str]:
    """The paths a manifest brings with it: itself, its signature and its public key (DER and PEM)."""
    out = set()
    for seq in manifests:
        der, pem = mf.public_key_relpaths(seq)
        out |= {mf.manifest_relpath(seq), mf.signature_relpath(seq), der, pem}
    return out


def check_manifests(
    result: Verification, source: Source, listing: Listing, current: Current, trusted: set[str]
) -> Manifests:
    """Each manifest: a JSON object of the right format, numbered in order, naming its predecessor, validly signed."""
    manifests: Manifests = {}
    bodies: dict[int, bytes] = {}
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
        bodies[seq] = body
        manifests[seq] = doc
    result.manifests = len(manifests)
    reference: tuple[int, str] | None = None
    for seq in sorted(manifests):
        rel, doc = mf.manifest_relpath(seq), manifests[seq]
        body = bodies[seq]
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
                expected_previous = {
                    "key": source.prefix + mf.manifest_relpath(seq - 1),
                    "sha256": sha256_hex(bodies[seq - 1]),
                }
        named = doc.get("previous_manifest")
        if expected_previous is None and seq == 1 and named is not None:
            result.add(BROKEN_CHAIN, rel, "manifest 1 names a predecessor")
        elif expected_previous is not None and (
            not isinstance(named, dict) or named.get("sha256") != expected_previous["sha256"]
        ):
            result.add(
                BROKEN_CHAIN,
                rel,
                f"does not name manifest {seq - 1} (sha256 {expected_previous['sha256'][:16]}…) as its predecessor",
            )
        reference = _check_signature(result, source, current, seq, doc, body, trusted, reference)
    return manifests


def _check_signature(
    result: Verification,
    source: Source,
    current: Current,
    seq: int,
    doc: dict[str, Any],
    body: bytes,
    trusted: set[str],
    reference: tuple[int, str] | None,
) -> tuple[int, str] | None:
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
        result.add(
            FOREIGN_KEY,
            der_rel,
            f"public key sha256 {fingerprint[:16]}… is not the key manifest {seq} names "
            f"({str(signing.get('public_key_sha256'))[:16]}…, {signing.get('key_id')})",
        )
        return reference
    if pem_rel in current:
        pem = source.read(pem_rel, current[pem_rel].version_id)
        if pem != mf.der_to_pem(der):  # byte for byte: Parry writes the PEM from the DER, nothing else
            result.add(CHANGED, pem_rel, f"the PEM public key is not the PEM form of {der_rel}")
    else:
        result.add(MISSING, pem_rel, f"the PEM public key of manifest {seq} is absent")
    try:
        valid = signature_valid(der, parts[sig_rel], body)
    except ValueError:
        valid = False
    if not valid:
        result.add(
            BAD_SIGNATURE,
            rel,
            f"the signature in {sig_rel} does not match the manifest's bytes (key {fingerprint[:16]}…)",
        )
        return reference
    label = f"{signing.get('key_id')} (sha256 {fingerprint[:16]}…)"
    if label not in result.signed_by:
        result.signed_by.append(label)
    if trusted:
        if fingerprint not in trusted:
            result.add(FOREIGN_KEY, rel, f"validly signed, but by {label}, not by an expected public key")
    elif reference is None:
        reference = (seq, fingerprint)
    elif reference[1] != fingerprint:
        result.add(FOREIGN_KEY, rel, f"signed by {label}, not the key that signed manifest {reference[0]}")
    return reference


def check_sealed_objects(
    result: Verification, source: Source, current: Current, listing: Listing, manifests: Manifests, latest_seq: int
) -> set[str]:
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
            rel = key[len(source.prefix) :]
            if seq == latest_seq:
                sealed[rel] = entry
            elif rel not in _sealed_in(manifests[latest_seq]):
                result.add(MISSING, rel, f"sealed in manifest {seq} but absent from manifest {latest_seq}")
            elif _sealed_in(manifests[latest_seq])[rel].get("sha256") != entry.get("sha256"):
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
            result.add(
                MISSING, rel, f"the sealed version {version_id} cannot be read (removed, or absent from the export)"
            )
            continue
        digest = sha256_hex(body)
        if digest != entry.get("sha256"):
            result.add(
                CHANGED, rel, f"sha256 {digest[:16]}… differs from the manifest's {str(entry.get('sha256'))[:16]}…"
            )
        elif len(body) != entry.get("size"):
            result.add(CHANGED, rel, f"size {len(body)} differs from the manifest's {entry.get('size')}")
        if version_id and current[rel].version_id != version_id:
            continue
        latest = source.read(rel, current[rel].version_id)
        if latest is not None and sha256_hex(latest) != entry.get("sha256"):
            result.add(CHANGED, rel, "the current bytes differ from the manifest's sha256")
    return set(sealed)


def _sealed_in(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    prefix = str(doc.get("prefix", ""))
    return {str(e.get("key", ""))[len(prefix) :]: e for e in doc.get("objects", []) if isinstance(e, dict)}


def check_audit_chain(result: Verification, source: Source, current: Current) -> dict[int, str | None]:
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
        _check_record_time(result, rel, at, current[rel].last_modified)
        if previous_at and at and at < previous_at:
            result.add(BROKEN_CHAIN, rel, f"dated {at}, before the record it follows ({previous_at}): reordered")
            ok = False
        chain[seq] = digest if ok else None
        previous_sha, previous_at = digest, at or previous_at
    if records:
        result.audit_head = chain.get(max(records))
    return chain


def _check_record_time(result: Verification, rel: str, at: str, written: datetime | None) -> None:
    """A record's `at` is when its writer wrote it: S3's LastModified says when that was. A
    back-dated record (a forged approval "from last week") differs by more than clock skew."""
    if written is None or not at:
        return
    try:
        stamped = datetime.fromisoformat(at)
    except ValueError:
        result.add(MISDATED, rel, f"dated {at!r}, which is not a time")
        return
    if stamped.tzinfo is None:
        stamped = stamped.replace(tzinfo=UTC)
    if abs(written - stamped) > RECORD_CLOCK_SLACK:
        how = "back-dated" if stamped < written else "dated in its future"
        result.add(MISDATED, rel, f"dated {at}, but S3 stored it at {written.isoformat()}: {how}")


def check_heads(result: Verification, manifests: Manifests, chain: dict[int, str | None]) -> int:
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
            result.add(
                BROKEN_CHAIN,
                mf.audit_relpath(n),
                f"manifest {seq}'s chain head is missing: the audit log was truncated",
            )
        elif chain[n] is not None and chain[n] != digest:
            result.add(BROKEN_CHAIN, mf.audit_relpath(n), f"is not the chain head manifest {seq} sealed")
    return head_seq


def check_unexpected(
    result: Verification, current: Current, allowed: set[str], chain: dict[int, str | None], head_seq: int
) -> None:
    """Every current object is sealed or manifest material; audit records chained after the last seal are expected."""
    late = 0
    for rel in sorted(current):
        if rel in allowed:
            continue
        m = mf.AUDIT_RE.match(rel)
        if m and int(m.group(1)) > head_seq and chain.get(int(m.group(1))) is not None:
            late += 1  # chained audit records written after the last seal are expected
            continue
        result.add(UNEXPECTED, rel, "in the case folder but in no manifest")
    if late:
        result.notes.append(f"{late} audit record(s) written after the latest manifest (chained, not yet sealed)")


def check_retention(result: Verification, source: Source, current: Current, policy: Policy) -> None:
    """Each current object is locked (in COMPLIANCE mode if required) for as long as the policy asks,
    and S3's own SHA-256 checksum agrees with its bytes."""
    mode, days = policy.mode, policy.days
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
            result.add(
                RETENTION,
                rel,
                f"retained until {head.retain_until:%Y-%m-%d}, shorter than the {days}-day policy "
                f"(written {written:%Y-%m-%d})",
            )
    if unknown:
        result.notes.append(f"retention not checked for {unknown} object(s): no lock state recorded")
    result.notes.append(f"retention policy checked: mode {mode or 'any'}, {days or 'any'} days ({policy.origin})")
