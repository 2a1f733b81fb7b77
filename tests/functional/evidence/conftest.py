"""Fixtures for the evidence tests: an Object Lock bucket (GOVERNANCE, so tests can write new
versions the way an attacker with bypass rights could) and a KMS signing key, on in-process moto."""

from __future__ import annotations

import pytest

from parry.evidence.writer import EvidenceStore
from tests.support.evidence import BUCKET, Env, create_bucket
from tests.support.kms import kms_digest_signing


@pytest.fixture
def env(aws):
    with kms_digest_signing():
        s3 = aws.client("s3")
        create_bucket(s3)
        kms = aws.client("kms")
        key_id = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Description="parry evidence")[
            "KeyMetadata"
        ]["Arn"]
        yield Env(s3, kms, key_id, EvidenceStore(s3, BUCKET, retention_days=30, lock_mode="GOVERNANCE"))
