"""S3 actions on moto."""

from __future__ import annotations

import pytest

from parry.actions.s3 import ALL_BLOCKED
from tests.support.actions import assert_contract, assert_missing, assert_refused, run_undo

PARTIAL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


@pytest.fixture
def s3(aws):
    return aws.client("s3")


def test_block_public_access_undo_deletes_when_there_was_none(ctx, s3):
    s3.create_bucket(Bucket="site")
    first = assert_contract(ctx, "s3.block_public_access", bucket="site")
    assert first.before["public_access_block"] is None and first.after["public_access_block"] == ALL_BLOCKED
    undone = run_undo(ctx, first)
    assert undone.status == "succeeded", undone.error
    assert undone.after == first.before
    assert run_undo(ctx, first).status == "noop"


def test_block_public_access_undo_restores_previous_configuration(ctx, s3):
    s3.create_bucket(Bucket="data")
    s3.put_public_access_block(Bucket="data", PublicAccessBlockConfiguration=PARTIAL)
    first = assert_contract(ctx, "s3.block_public_access", bucket="data")
    undone = run_undo(ctx, first)
    assert undone.after["public_access_block"] == PARTIAL == first.before["public_access_block"]


def test_block_public_access_missing_and_protected(ctx, s3):
    assert_missing(ctx, "s3.block_public_access", "S3 bucket ghost-bucket does not exist", bucket="ghost-bucket")
    s3.create_bucket(Bucket="prod")
    s3.put_bucket_tagging(Bucket="prod", Tagging={"TagSet": [{"Key": "parry:protected", "Value": "true"}]})
    assert_refused(ctx, "s3.block_public_access", bucket="prod")
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_public_access_block(Bucket="prod")


def test_restore_refuses_a_protected_bucket(ctx, s3):
    s3.create_bucket(Bucket="prod")
    s3.put_bucket_tagging(Bucket="prod", Tagging={"TagSet": [{"Key": "parry:protected", "Value": "true"}]})
    s3.put_public_access_block(Bucket="prod", PublicAccessBlockConfiguration=ALL_BLOCKED)
    assert_refused(ctx, "s3.restore_public_access_block", bucket="prod")
    assert s3.get_public_access_block(Bucket="prod")["PublicAccessBlockConfiguration"] == ALL_BLOCKED
