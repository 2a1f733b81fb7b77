"""Response actions. Importing this package registers every action module."""

from parry.actions import (  # noqa: F401
    cloudtrail,
    ec2,
    evidence,
    evidence_compute,
    guardduty,
    iam,
    iam_policies,
    iam_roles,
    lambda_,
    lambda_tags,
    lambda_urls,
    notify,
    posture,
    rds,
    resource_policies,
    s3,
    s3_objects,
    securityhub,
)
