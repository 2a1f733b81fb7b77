"""Attack: append a correctly chained "approved by CISO" record to a genuine case and re-seal it, or
fabricate a whole back-dated case, signing with a KMS key of one's own (its public half stored
beside each manifest, as Parry stores its own).

Pinned to the deployed key (its ARN, the stack's SigningKeyArn output), the verifier refuses both:
the forger's manifests are signed by a foreign key. Without a pin it never says intact, whatever
the case, and says how to pin.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from parry.cli.evidence import evidence_app
from parry.evidence.problems import FOREIGN_KEY, UNPINNED
from parry.evidence.sources import S3Source
from parry.evidence.verify import verify_case
from parry.evidence.writer import EvidenceStore, sha256_hex
from tests.support.evidence import BUCKET, Env, build_case
from tests.support.kms import kms_digest_signing


@pytest.fixture
def env(aws):
    with kms_digest_signing():
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        kms = aws.client("kms")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        yield Env(s3, kms, key_id, EvidenceStore(s3, BUCKET, retention_days=30, lock_mode="GOVERNANCE"))


def pinned(env: Env) -> set[str]:
    return {sha256_hex(env.public_key_der())}


def kinds(result) -> set[str]:
    return {p.kind for p in result.problems}


def test_an_appended_record_resealed_with_another_key_is_refused_when_pinned(env):
    case = build_case(env, "case-genuine")
    assert verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env)).ok

    forger = env.new_key()
    case.audit("approved", {"step": "revoke-sessions", "by": "ciso@example.com", "reason": "approved by CISO"})
    case.seal(kms=env.kms, key_id=forger)

    result = verify_case(S3Source(env.s3, BUCKET, case.prefix), trusted_keys=pinned(env))
    assert not result.ok
    assert any(p.kind == FOREIGN_KEY and p.path == "manifest/0002.json" for p in result.problems), result.problems


def test_a_fabricated_back_dated_case_signed_with_a_fresh_key_is_refused_when_pinned(env):
    forged = build_case(
        replace(env, key_id=env.new_key()), "case-forged", opened_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    )

    result = verify_case(S3Source(env.s3, BUCKET, forged.prefix), trusted_keys=pinned(env))

    assert not result.ok and FOREIGN_KEY in kinds(result), result.problems


def test_an_unpinned_verify_never_says_intact(env, monkeypatch):
    genuine = build_case(env, "case-genuine")
    forged = build_case(replace(env, key_id=env.new_key()), "case-forged")
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)
    monkeypatch.delenv("PARRY_SIGNING_KEY_ID", raising=False)
    monkeypatch.delenv("PARRY_EVIDENCE_PUBLIC_KEY", raising=False)

    for case in (genuine, forged):
        result = verify_case(S3Source(env.s3, BUCKET, case.prefix))
        assert not result.ok and kinds(result) == {UNPINNED}, result.problems
        assert result.as_dict()["intact"] is False

    for case_id in ("case-genuine", "case-forged"):
        out = CliRunner().invoke(evidence_app, ["verify", case_id])
        assert out.exit_code == 1, out.output
        assert out.stdout.startswith(f"NOT INTACT  {case_id}")
        assert "key not pinned" in out.stdout and "--key-id" in out.stdout and "SigningKeyArn" in out.stdout

    pinned_out = CliRunner().invoke(evidence_app, ["verify", "case-genuine", "--key-id", env.key_id])
    assert pinned_out.exit_code == 0 and pinned_out.stdout.startswith("INTACT  case-genuine"), pinned_out.output


def test_an_alias_is_not_a_pin(env, monkeypatch):
    """Whoever may create or re-point an alias would choose which key the auditor trusts."""
    build_case(env, "case-genuine")
    env.kms.create_alias(AliasName="alias/parry-evidence", TargetKeyId=env.new_key())
    monkeypatch.setenv("PARRY_EVIDENCE_BUCKET", BUCKET)

    out = CliRunner().invoke(evidence_app, ["verify", "case-genuine", "--key-id", "alias/parry-evidence"])

    assert out.exit_code == 2 and "pin the key ARN" in out.stderr and "INTACT" not in out.stdout
