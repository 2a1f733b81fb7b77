"""Building ARNs: the partition of a region, and the ARNs Parry makes rather than reads from an API.

The partition comes from botocore's endpoint data, so every partition botocore knows (aws, aws-cn,
aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc ...) is right without a list of
region prefixes here that would fall behind.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import botocore.session


@functools.cache
def _botocore_session() -> botocore.session.Session:
    """One botocore session for the endpoint data: loading it costs tens of milliseconds, once."""
    import botocore.session

    return botocore.session.get_session()


def partition(region: str) -> str:
    """The ARN partition of `region`; botocore's UnknownRegionError for a name no partition claims."""
    return _botocore_session().get_partition_for_region(region)


def role_arn(caller_arn: str, account: str, role_name: str) -> str:
    """A role's ARN in `account`, in the partition of the caller's own ARN (aws, aws-cn, aws-us-gov, ...)."""
    partition_of_caller = caller_arn.split(":")[1] if caller_arn.count(":") >= 5 else "aws"
    return f"arn:{partition_of_caller}:iam::{account}:role/{role_name}"


def guardduty_product_arn(partition_name: str, region: str) -> str:
    """GuardDuty's product in Security Hub: the ProductArn of the findings GuardDuty sends there."""
    return f"arn:{partition_name}:securityhub:{region}::product/aws/guardduty"
