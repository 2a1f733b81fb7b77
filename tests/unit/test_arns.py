"""ARNs Parry builds itself: in the partition of the region (or of the caller), as IAM matches them."""

from __future__ import annotations

import pytest
from botocore.exceptions import UnknownRegionError

from parry.aws.arns import guardduty_product_arn, partition, role_arn


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", "aws"),
        ("eu-west-3", "aws"),
        ("ap-southeast-3", "aws"),
        ("cn-north-1", "aws-cn"),
        ("cn-northwest-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-gov-east-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eusc-de-east-1", "aws-eusc"),  # the AWS European Sovereign Cloud
    ],
)
def test_partition_of_a_region(region, expected):
    assert partition(region) == expected


def test_a_region_of_no_partition_is_refused_rather_than_guessed():
    with pytest.raises(UnknownRegionError):
        partition("moon-base-1")


def test_role_arn_takes_the_partition_of_the_callers_arn():
    assert role_arn("arn:aws:sts::111111111111:assumed-role/r/s", "222222222222", "parry-member-x") == (
        "arn:aws:iam::222222222222:role/parry-member-x"
    )
    assert role_arn("arn:aws-cn:sts::111111111111:assumed-role/r/s", "222222222222", "parry-member-x") == (
        "arn:aws-cn:iam::222222222222:role/parry-member-x"
    )
    assert role_arn("arn:aws-us-gov:iam::111111111111:user/u", "222222222222", "r").startswith("arn:aws-us-gov:iam::")
    assert role_arn("arn:aws-eusc:sts::111111111111:assumed-role/r/s", "222222222222", "r") == (
        "arn:aws-eusc:iam::222222222222:role/r"
    )


def test_guardduty_product_arn_is_the_product_security_hub_names():
    assert guardduty_product_arn(partition("us-gov-west-1"), "us-gov-west-1") == (
        "arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/guardduty"
    )
