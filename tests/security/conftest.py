"""What the planted-table attacks aim at: another user's key, which Parry must never touch."""

from __future__ import annotations

import pytest


@pytest.fixture
def victim(aws) -> str:
    """The active access key of another user, payments-batch, whom the attacker wants Parry to lock out."""
    iam = aws.client("iam")
    iam.create_user(UserName="payments-batch")
    return str(iam.create_access_key(UserName="payments-batch")["AccessKey"]["AccessKeyId"])
