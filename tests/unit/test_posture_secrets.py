"""The secret detectors: each known format found, near misses left alone, and never the value in what they return."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parry.posture.secrets import SecretVariable, classify, detector

ALNUM = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=36, max_size=40)


@pytest.mark.parametrize(
    "name, value, found",
    [
        ("KEY", "AKIAZ7Q2XK4MBN3VWPLR", "aws-access-key-id"),
        ("KEY", "ASIAZ7Q2XK4MBN3VWPLR", "aws-access-key-id"),
        ("GH", "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ2cD4", "github-token"),
        ("GH", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github-token"),
        ("HOOK", "xoxp-1234567890-abcdefghij", "slack-token"),
        ("PEM", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA", "private-key"),
        ("PEM", "-----BEGIN PRIVATE KEY-----", "private-key"),
        ("DATABASE_URL", "postgres://app:s3cr3t@db.internal:5432/app", "url-credentials"),
        ("BLOB", "Qm9vT2xkLzR3eHpQa1ZuN2ZUcmFjZTk4", "high-entropy"),
        ("DB_PASSWORD", "hunter22", "secret-name"),
        ("stripe_api_key", "not-a-number", "secret-name"),
        ("CLIENT_SECRET", "abc", "secret-name"),
    ],
)
def test_each_detector_finds_its_secret(name: str, value: str, found: str):
    assert detector(name, value) == found


@pytest.mark.parametrize(
    "name, value",
    [
        ("TOKEN_TTL", "300"),
        ("TOKEN_TIMEOUT", "30s"),
        ("API_KEY_ENABLED", "true"),
        ("DB_PASSWORD_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
        ("DB_PASSWORD", "/app/prod/db-password"),
        ("SECRET", ""),
        ("LOG_LEVEL", "INFO"),
        ("TABLE_NAME", "orders-table-prod"),
        ("BUILD_SHA", "0123456789abcdef0123456789abcdef01234567"),  # a hex digest, not random base64
        ("REQUEST_ID", "7d7a3a3e-1c1f-4b1e-9d0c-6f8e2b1a9c3d"),
        ("SITE", "https://example.com/Path/To/Page2024"),
        ("MESSAGE", "Hello World this is a Sentence 2024"),
        ("TOKENIZER", "wordpiece"),  # TOKEN is not a word of TOKENIZER
    ],
)
def test_near_misses_are_not_secrets(name: str, value: str):
    assert detector(name, value) is None


@given(ALNUM.map(lambda s: "ghp_" + s))
def test_classify_never_returns_the_value(secret: str):
    hits = classify({"GITHUB": secret, "PLAIN": "1"})
    assert hits == (SecretVariable("GITHUB", "github-token"),)
    assert secret not in repr(hits) and secret[4:] not in str(hits)


@given(st.dictionaries(st.from_regex(r"[A-Z_]{1,12}", fullmatch=True), st.text(min_size=8, max_size=60), max_size=6))
def test_whatever_the_variables_only_names_and_detectors_come_back(variables: dict[str, str]):
    for hit in classify(variables):
        assert hit.name in variables
        assert hit.detector in {
            "private-key",
            "aws-access-key-id",
            "github-token",
            "slack-token",
            "stripe-secret-key",
            "url-credentials",
            "high-entropy",
            "secret-name",
        }
