"""Response actions. Importing this package registers every action module."""

from parry.actions import (  # noqa: F401
    cloudtrail,
    ec2,
    ecs,
    eks,
    evidence,
    evidence_compute,
    guardduty,
    iam,
    iam_policies,
    iam_roles,
    lambda_,
    notify,
    rds,
    s3,
    s3_objects,
    securityhub,
    sequence,
)
