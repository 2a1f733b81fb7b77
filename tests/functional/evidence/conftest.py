"""Fixtures for the evidence tests: an Object Lock bucket (GOVERNANCE, so tests can write new
versions the way an attacker with bypass rights could) and a KMS signing key, on in-process moto."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from evidence_cases import BUCKET, Env  # noqa: E402
from moto_kms import kms_digest_signing  # noqa: E402

from parry.evidence.writer import EvidenceStore# noqa: E402


@pytest.fixture
def env(aws):
    with kms_digest_signing():
        s3 = aws.client("s3")
        s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
        kms = aws.client("kms")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="parry evidence")["KeyMetadata"]["Arn"]
        yield Env(s3, kms, key_id, EvidenceStore(s3, BUCKET, retention_days=30, lock_mode="GOVERNANCE"))
