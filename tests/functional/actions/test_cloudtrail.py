"""CloudTrail actions on moto."""

from __future__ import annotations

import pytest

from tests.support.actions import assert_contract, assert_missing, assert_refused


@pytest.fixture
def trail(aws):
    aws.client("s3").create_bucket(Bucket="trail-logs")
    ct = aws.client("cloudtrail")
    ct.create_trail(Name="main", S3BucketName="trail-logs")
    return ct


def test_start_logging(ctx, trail):
    first = assert_contract(ctx, "cloudtrail.start_logging", trail="main")
    assert first.before["is_logging"] is False and first.after["is_logging"] is True
    assert first.undo is None
    assert trail.get_trail_status(Name="main")["IsLogging"] is True


def test_start_logging_missing_and_protected(ctx, aws, trail):
    assert_missing(ctx, "cloudtrail.start_logging", "CloudTrail trail ghost does not exist", trail="ghost")
    trail.create_trail(Name="prod", S3BucketName="trail-logs", TagsList=[{"Key": "parry:protected", "Value": "true"}])
    assert_refused(ctx, "cloudtrail.start_logging", trail="prod")
    assert trail.get_trail_status(Name="prod")["IsLogging"] is False
