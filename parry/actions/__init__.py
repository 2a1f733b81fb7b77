"""Response actions. Importing this package registers every action module."""

from parry.actions import cloudtrail, ec2, evidence, iam, iam_roles, lambda_, notify, s3  # noqa: F401
