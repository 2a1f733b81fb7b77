"""Response actions. Importing this package registers every action module."""

from parry.actions import (  # noqa: F401
    cloudtrail,
    ec2,
    evidence,
    evidence_compute,
    guardduty,
    iam,
    iam_roles,
    lambda_,
    notify,
    resource_policies,
    s3,
    securityhub,
)
