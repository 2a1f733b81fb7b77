"""Tampering with a sealed case, as someone with write (and GOVERNANCE bypass) rights on the bucket
could: every change is detected and named by the verifier, from the bucket and from an export."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from parry.evidence.export import export_case
from parry.evidence.keys import load_public_keys
from parry.evidence.problems import (
    BAD_SIGNATURE,
    BROKEN_CHAIN,
    CHANGED,
    FOREIGN_KEY,
    MISSING,
    NOT_SEALED,
    RETENTION,
    UNEXPECTED,
    UNSIGNED,
)
from parry.evidence.sources import DirSource, S3Source
from parry.evidence.verify import Policy, verify_case
from parry.evidence.writer import canonical_json, sha256_hex
from tests.support.evidence import BUCKET, build_case


def _verify(env, case, **kw):
    """Verify pinned to the test's signing key, as an auditor does (unpinned is never intact)."""
    kw.setdefault("trusted_keys", {sha256_hex(env.public_key_der())})
    return verify_case(S3Source(env.s3, BUCKET, case.prefix), **kw)


def _kinds(result):
    return {(p.kind, p.path) for p in result.problems}


def _get(env, key):
    return env.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _put(env, key, body, *, locked=True):
    kw = (
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": datetime.now(UTC) + timedelta(days=30)}
        if locked
        else {}
    )
    env.s3.put_object(Bucket=BUCKET, Key=key, Body=body, ChecksumAlgorithm="SHA256", **kw)


def _pin(env, tmp_path, key_id=None):
    path = tmp_path / "expected.der"
    path.write_bytes(env.public_key_der(key_id))
    return load_public_keys([path])


@pytest.fixture
def case(env):
    return build_case(env)


def test_an_untouched_case_is_intact(env, case, tmp_path):
    result = _verify(env, case, trusted_keys=_pin(env, tmp_path), policy=Policy("GOVERNANCE", 30))
    assert result.ok, result.problems
    assert result.manifests == 1 and result.audit_records == 6 and result.audit_head == case.chain_head


def test_case_with_approval_and_two_manifests_is_intact(env):
    case = build_case(env, "case-approved", approval=True)
    result = _verify(env, case)
    assert result.ok, result.problems
    assert result.manifests == 2


def test_modified_object_a_new_version(env, case):
    _put(env, case.prefix + "artifacts/deactivate-key/state.json", canonical_json({"before": {}, "after": {}}))
    result = _verify(env, case)
    assert (CHANGED, "artifacts/deactivate-key/state.json") in _kinds(result)
    assert not result.ok


def test_modified_object_with_the_sealed_version_removed(env, case):
    key = case.prefix + "event.json"
    old = env.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"][0]["VersionId"]
    _put(env, key, b'{"id":"forged"}')
    env.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=old, BypassGovernanceRetention=True)
    result = _verify(env, case)
    assert (CHANGED, "event.json") in _kinds(result) or (MISSING, "event.json") in _kinds(result)
    assert any(p.path == "event.json" for p in result.problems)


def test_deleted_object_a_delete_marker(env, case):
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "playbook.json")
    result = _verify(env, case)
    assert (MISSING, "playbook.json") in _kinds(result)


def test_added_object(env, case):
    _put(env, case.prefix + "artifacts/capture-user/extra.json", b"{}")
    result = _verify(env, case)
    assert _kinds(result) == {(UNEXPECTED, "artifacts/capture-user/extra.json")}


def test_added_object_without_retention(env, case):
    _put(env, case.prefix + "notes.txt", b"hello", locked=False)
    # the bucket's default retention locked it: a principal allowed to bypass GOVERNANCE lifts it
    env.s3.put_object_retention(
        Bucket=BUCKET, Key=case.prefix + "notes.txt", Retention={}, BypassGovernanceRetention=True
    )
    result = _verify(env, case)
    assert {(UNEXPECTED, "notes.txt"), (RETENTION, "notes.txt")} <= _kinds(result)


def test_rewritten_audit_record_breaks_the_chain(env, case):
    key = case.prefix + "audit/0003.json"
    record = json.loads(_get(env, key))
    record["result"]["summary"] = "nothing happened"
    _put(env, key, canonical_json(record))
    kinds = _kinds(_verify(env, case))
    assert (CHANGED, "audit/0003.json") in kinds
    assert (BROKEN_CHAIN, "audit/0004.json") in kinds


def test_reordered_audit_records(env, case):
    a, b = case.prefix + "audit/0002.json", case.prefix + "audit/0003.json"
    body_a, body_b = _get(env, a), _get(env, b)
    _put(env, a, body_b)
    _put(env, b, body_a)
    kinds = _kinds(_verify(env, case))
    assert (BROKEN_CHAIN, "audit/0002.json") in kinds and (BROKEN_CHAIN, "audit/0003.json") in kinds


def test_renumbered_audit_records_a_record_removed(env, case):
    """Drop record 3 and move 4..6 down one: each moved record still names its old predecessor."""
    bodies = {n: _get(env, case.prefix + f"audit/{n:04d}.json") for n in range(1, 7)}
    for n in (3, 4, 5):
        _put(env, case.prefix + f"audit/{n:04d}.json", bodies[n + 1])
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "audit/0006.json")
    result = _verify(env, case)
    kinds = _kinds(result)
    assert (BROKEN_CHAIN, "audit/0003.json") in kinds
    assert (MISSING, "audit/0006.json") in kinds
    assert (BROKEN_CHAIN, "audit/0006.json") in kinds or (MISSING, "audit/0006.json") in kinds


def test_renumbered_records_with_rewritten_seq_fields(env, case):
    """A forger who also rewrites `seq` and re-chains every later record still changes sealed bytes."""
    bodies = [json.loads(_get(env, case.prefix + f"audit/{n:04d}.json")) for n in range(1, 7)]
    del bodies[2]
    prev = "0" * 64
    for n, record in enumerate(bodies, start=1):
        record["seq"], record["prev_sha256"] = n, prev
        body = canonical_json(record)
        _put(env, case.prefix + f"audit/{n:04d}.json", body)
        prev = sha256_hex(body)
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "audit/0006.json")
    result = _verify(env, case)
    kinds = _kinds(result)
    assert (CHANGED, "audit/0003.json") in kinds
    assert (MISSING, "audit/0006.json") in kinds
    assert (BROKEN_CHAIN, "audit/0006.json") in kinds  # the manifest's chain head is gone


def test_audit_gap(env, case):
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "audit/0004.json")
    kinds = _kinds(_verify(env, case))
    assert (MISSING, "audit/0004.json") in kinds


def test_edited_manifest(env, case):
    key = case.prefix + "manifest/0001.json"
    manifest = json.loads(_get(env, key))
    manifest["objects"] = [o for o in manifest["objects"] if not o["key"].endswith("state.json")]
    _put(env, key, canonical_json(manifest))
    kinds = _kinds(_verify(env, case))
    assert (CHANGED, "manifest/0001.json") in kinds
    assert (BAD_SIGNATURE, "manifest/0001.json") in kinds


def test_manifest_resigned_by_another_key(env, case, tmp_path):
    """The forger edits the manifest and re-signs it with their own KMS key, storing their public key."""
    from parry.evidence import manifest as mf

    trusted = _pin(env, tmp_path)
    forger = env.new_key()
    key = case.prefix + "manifest/0001.json"
    manifest = json.loads(_get(env, key))
    manifest["objects"] = [o for o in manifest["objects"] if not o["key"].endswith("state.json")]
    public = mf.fetch_public_key(env.kms, forger)
    manifest["signing"] = mf.signing_block(public)
    body = canonical_json(manifest)
    _, signature = mf.sign(env.kms, forger, body)
    _put(env, key, body)
    _put(env, case.prefix + "manifest/0001.sig", signature)
    _put(env, case.prefix + "manifest/0001.pub.der", public.der)
    _put(env, case.prefix + "manifest/0001.pub.pem", public.pem)
    kinds = _kinds(_verify(env, case, trusted_keys=trusted))
    assert (FOREIGN_KEY, "manifest/0001.json") in kinds
    assert (CHANGED, "manifest/0001.json") in kinds
    assert (UNEXPECTED, "artifacts/deactivate-key/state.json") in kinds


def test_second_manifest_by_another_key_without_a_pin(env):
    from parry.evidence import manifest as mf

    case = build_case(env, "case-two-keys")
    case.audit("undo", {"step": "deactivate-key"})
    case.seal(kms=env.kms, key_id=env.new_key())
    result = _verify(env, case)
    assert (FOREIGN_KEY, mf.manifest_relpath(2)) in _kinds(result)


def test_unsigned_manifest_is_reported(env):
    case = build_case(env, "case-unsigned", sign=False)
    assert _kinds(_verify(env, case)) == {(UNSIGNED, "manifest/0001.json")}


def test_unsealed_case_is_reported(env):
    case = env.store.case(case_id="case-open", account="111122223333", opened_at=datetime(2026, 11, 3))
    case.put("event.json", {"id": "x"})
    case.audit("case_opened", {})
    kinds = _kinds(_verify(env, case))
    assert (NOT_SEALED, "manifest/") in kinds and (UNEXPECTED, "event.json") in kinds


def test_audit_records_after_the_seal_are_expected_if_chained(env, case):
    case.audit("undo_requested", {"step": "deactivate-key", "by": "bob"})
    result = _verify(env, case)
    assert result.ok, result.problems
    assert any("after the latest manifest" in n for n in result.notes)


def test_retention_shorter_than_the_policy(env, case):
    result = _verify(env, case, policy=Policy("GOVERNANCE", 365))
    assert {p.kind for p in result.problems} == {RETENTION}
    assert len(result.problems) == result.objects
    compliance = _verify(env, case, policy=Policy("COMPLIANCE", 30))
    assert any("COMPLIANCE" in p.detail for p in compliance.problems)


def test_export_verifies_offline_and_tampering_the_export_is_named(env, case, tmp_path):
    export_case(S3Source(env.s3, BUCKET, case.prefix), tmp_path / "out")
    trusted = _pin(env, tmp_path)
    assert verify_case(DirSource(tmp_path / "out"), trusted_keys=trusted).ok
    (tmp_path / "out" / "artifacts" / "deactivate-key" / "state.json").write_text('{"before":{},"after":{}}')
    (tmp_path / "out" / "event.json").unlink()
    (tmp_path / "out" / "artifacts" / "planted.json").write_text("{}")
    kinds = _kinds(verify_case(DirSource(tmp_path / "out"), trusted_keys=trusted))
    assert (CHANGED, "artifacts/deactivate-key/state.json") in kinds
    assert (MISSING, "event.json") in kinds
    assert (UNEXPECTED, "artifacts/planted.json") in kinds


def test_export_of_a_tampered_case_keeps_the_evidence_of_tampering(env, case, tmp_path):
    env.s3.delete_object(Bucket=BUCKET, Key=case.prefix + "playbook.json")
    export_case(S3Source(env.s3, BUCKET, case.prefix), tmp_path / "out")
    kinds = _kinds(verify_case(DirSource(tmp_path / "out")))
    assert (MISSING, "playbook.json") in kinds
