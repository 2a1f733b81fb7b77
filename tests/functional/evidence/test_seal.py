"""The writer's side: sealing, numbering, write-once objects, the chain across invocations."""

from __future__ import annotations

import hashlib
import json

import pytest

from parry.errors import EvidenceConflict
from parry.evidence.writer import canonical_json
from tests.support.evidence import BUCKET, build_case


def _get(env, key, version=None):
    kw = {"VersionId": version} if version else {}
    return env.s3.get_object(Bucket=BUCKET, Key=key, **kw)["Body"].read()


def test_seal_writes_a_signed_manifest_listing_every_object(env):
    case = build_case(env)
    keys = env.store.keys(case.prefix)
    assert case.prefix == "cases/111122223333/2026/11/03/case-0001/"
    assert case.prefix + "manifest/0001.json" in keys
    for suffix in ("sig", "pub.der", "pub.pem"):
        assert case.prefix + f"manifest/0001.{suffix}" in keys
    manifest = json.loads(_get(env, case.prefix + "manifest/0001.json"))
    listed = {o["key"] for o in manifest["objects"]}
    assert listed == {k for k in keys if "/manifest/" not in k}
    for entry in manifest["objects"]:
        assert hashlib.sha256(_get(env, entry["key"], entry["version_id"])).hexdigest() == entry["sha256"]
    assert manifest["audit_head"] == {"seq": 6, "sha256": case.chain_head}
    assert manifest["signed"] is True and manifest["signing"]["message_type"] == "DIGEST"
    assert _get(env, case.prefix + "manifest/0001.json") == canonical_json(manifest)


def test_signature_verifies_offline_with_the_stored_public_key(env):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    case = build_case(env)
    body = _get(env, case.prefix + "manifest/0001.json")
    pub = serialization.load_pem_public_key(_get(env, case.prefix + "manifest/0001.pub.pem"))
    pub.verify(_get(env, case.prefix + "manifest/0001.sig"), body, ec.ECDSA(hashes.SHA256()))
    assert _get(env, case.prefix + "manifest/0001.pub.der") == env.public_key_der()


def test_resealing_adds_a_numbered_manifest_chained_to_the_previous(env):
    case = build_case(env, approval=True)
    first = _get(env, case.prefix + "manifest/0001.json")
    second = json.loads(_get(env, case.prefix + "manifest/0002.json"))
    assert second["previous_manifest"]["sha256"] == hashlib.sha256(first).hexdigest()
    assert second["seq"] == 2
    versions = env.s3.list_object_versions(Bucket=BUCKET, Prefix=case.prefix)
    assert all(v["IsLatest"] for v in versions["Versions"]), "nothing is ever overwritten"
    assert not versions.get("DeleteMarkers")


def test_every_object_is_locked_and_checksummed(env):
    case = build_case(env)
    for key in env.store.keys(case.prefix):
        head = env.s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
        assert head["ObjectLockMode"] == "GOVERNANCE"
        assert head["ObjectLockRetainUntilDate"]
        assert head["ChecksumSHA256"]


def test_unsigned_seal_says_so(env):
    case = build_case(env, sign=False)
    manifest = json.loads(_get(env, case.prefix + "manifest/0001.json"))
    assert manifest["signed"] is False and manifest["signing"] is None
    assert case.prefix + "manifest/0001.sig" not in env.store.keys(case.prefix)


def test_objects_are_write_once_but_idempotent(env):
    case = env.store.case(
        case_id="c-write-once", account="111122223333", opened_at=__import__("datetime").datetime(2026, 1, 2)
    )
    first = case.put("event.json", {"a": 1})
    assert case.put("event.json", {"a": 1}) == first
    with pytest.raises(EvidenceConflict):
        case.put("event.json", {"a": 2})
    assert len(env.s3.list_object_versions(Bucket=BUCKET, Prefix=case.prefix)["Versions"]) == 1


def test_audit_chain_resumes_and_survives_a_racing_writer(env):
    from datetime import datetime

    opened = datetime(2026, 1, 2)
    one = env.store.case(case_id="c-race", account="111122223333", opened_at=opened)
    two = env.store.case(case_id="c-race", account="111122223333", opened_at=opened)
    one.audit("case_opened", {})
    assert two.chain_head == one.chain_head
    one.audit("step_started", {"step": "a"})
    stored = two.audit("step_started", {"step": "b"})  # two's view is stale: record 2 exists
    assert stored.key.endswith("audit/0003.json")
    record = json.loads(_get(env, stored.key))
    assert record["prev_sha256"] == hashlib.sha256(_get(env, one.prefix + "audit/0002.json")).hexdigest()


def test_audit_data_cannot_forge_chain_fields(env):
    from datetime import datetime

    case = env.store.case(case_id="c-forge", account="111122223333", opened_at=datetime(2026, 1, 2))
    with pytest.raises(ValueError):
        case.audit("step_started", {"prev_sha256": "0" * 64})
    with pytest.raises(ValueError):
        case.put("audit/0001.json", {"seq": 1})
    with pytest.raises(ValueError):
        case.put("manifest/0001.json", {})


def test_a_seal_that_died_before_its_signature_is_repaired_by_the_next(env):
    from parry.evidence.sources import S3Source
    from parry.evidence.verify import verify_case
    from parry.evidence.writer import sha256_hex

    pin = {sha256_hex(env.public_key_der())}
    case = build_case(env, "case-crash")
    for suffix in ("sig", "pub.der", "pub.pem"):  # as if the Lambda died right after writing the manifest
        key = case.prefix + f"manifest/0001.{suffix}"
        version = env.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"][0]["VersionId"]
        env.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version, BypassGovernanceRetention=True)
    assert not verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pin).ok
    case.audit("undo", {"step": "deactivate-key"})
    case.seal(kms=env.kms, key_id=env.key_id)
    result = verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pin)
    assert result.ok, [str(p) for p in result.problems]
    assert result.manifests == 2


def test_kms_failure_leaves_no_manifest_behind(env):
    case = env.store.case(
        case_id="c-kms-down", account="111122223333", opened_at=__import__("datetime").datetime(2026, 1, 2)
    )
    case.put("event.json", {"a": 1})

    class Down:
        def get_public_key(self, **kw):
            return env.kms.get_public_key(**kw)

        def sign(self, **kw):
            raise RuntimeError("KMS unavailable")

    with pytest.raises(RuntimeError):
        case.seal(kms=Down(), key_id=env.key_id)
    assert not case.has("manifest/")
    case.seal(kms=env.kms, key_id=env.key_id)
    assert case.has("manifest/0001.sig")


def _reads(env):
    """The keys the S3 client reads whole (GetObject) from now on."""
    seen: list[str] = []
    env.s3.meta.events.register("provide-client-params.s3.GetObject", lambda params, **_: seen.append(params["Key"]))
    return seen


def test_a_seal_reads_back_only_what_earlier_invocations_wrote(env):
    from datetime import datetime

    opened = datetime(2026, 1, 2)
    earlier = env.store.case(case_id="c-known", account="111122223333", opened_at=opened)
    earlier.put("event.json", {"id": "evt"})
    earlier.audit("case_opened", {})
    reads = _reads(env)
    earlier.seal(kms=env.kms, key_id=env.key_id)
    assert reads == [], "what this invocation wrote is sealed from the hashes it computed"

    later = env.store.case(case_id="c-known", account="111122223333", opened_at=opened)
    later.audit("case_resumed", {})
    later.artifact("step", "state.json", {"before": 1})
    reads.clear()
    later.seal(kms=env.kms, key_id=env.key_id)
    prefix = later.prefix
    assert sorted(reads) == sorted(prefix + k for k in ("event.json", "audit/0001.json", "manifest/0001.json"))
    second = json.loads(_get(env, prefix + "manifest/0002.json"))
    for entry in second["objects"]:
        assert hashlib.sha256(_get(env, entry["key"], entry["version_id"])).hexdigest() == entry["sha256"]
        assert len(_get(env, entry["key"], entry["version_id"])) == entry["size"]


def test_a_version_written_over_this_invocations_object_is_read_back(env):
    from datetime import datetime

    case = env.store.case(case_id="c-over", account="111122223333", opened_at=datetime(2026, 1, 2))
    case.put("event.json", {"id": "evt"})
    planted = env.s3.put_object(Bucket=BUCKET, Key=case.prefix + "event.json", Body=b'{"id":"forged"}')
    case.seal(kms=env.kms, key_id=env.key_id)
    manifest = json.loads(_get(env, case.prefix + "manifest/0001.json"))
    (entry,) = [o for o in manifest["objects"] if o["key"].endswith("event.json")]
    assert entry["version_id"] == planted["VersionId"]
    assert entry["sha256"] == hashlib.sha256(b'{"id":"forged"}').hexdigest()


def test_a_new_chain_starts_without_listing_and_still_appends_after_a_planted_record(env):
    from datetime import datetime

    opened = datetime(2026, 1, 2)
    listed: list[str] = []
    env.s3.meta.events.register("provide-client-params.s3.ListObjectsV2", lambda params, **_: listed.append("x"))
    fresh = env.store.case(case_id="c-new", account="111122223333", opened_at=opened)
    fresh.new_chain()
    assert fresh.audit("case_opened", {}).key.endswith("audit/0001.json")
    assert listed == []

    planted = env.store.case(case_id="c-planted", account="111122223333", opened_at=opened)
    planted.audit("case_opened", {"by": "someone else"})
    mine = env.store.case(case_id="c-planted", account="111122223333", opened_at=opened)
    mine.new_chain()
    stored = mine.audit("case_opened", {})
    assert stored.key.endswith("audit/0002.json")
    assert (
        json.loads(_get(env, stored.key))["prev_sha256"]
        == hashlib.sha256(_get(env, planted.prefix + "audit/0001.json")).hexdigest()
    )


def test_a_kept_public_key_is_used_until_kms_signs_with_another_key(env):
    from datetime import datetime

    from parry.evidence.manifest import fetch_public_key
    from parry.evidence.writer import sha256_hex

    fetched: list[str] = []
    env.kms.meta.events.register("provide-client-params.kms.GetPublicKey", lambda params, **_: fetched.append("x"))
    kept = {env.key_id: fetch_public_key(env.kms, env.key_id)}
    fetched.clear()
    first = env.store.case(case_id="c-kept", account="111122223333", opened_at=datetime(2026, 1, 2))
    first.audit("case_opened", {})
    first.seal(kms=env.kms, key_id=env.key_id, public_keys=kept)
    assert fetched == []

    kept[env.key_id] = fetch_public_key(env.kms, env.new_key())  # as if the key id now named another key
    fetched.clear()
    second = env.store.case(case_id="c-moved", account="111122223333", opened_at=datetime(2026, 1, 2))
    second.audit("case_opened", {})
    second.seal(kms=env.kms, key_id=env.key_id, public_keys=kept)
    assert fetched == ["x"]
    manifest = json.loads(_get(env, second.prefix + "manifest/0001.json"))
    assert manifest["signing"]["public_key_sha256"] == sha256_hex(env.public_key_der())
    assert _get(env, second.prefix + "manifest/0001.pub.der") == env.public_key_der()
