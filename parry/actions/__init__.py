"""Response actions. Importing this package registers every action module."""

from parry.actions import ec2, evidence, iam, iam_roles, lambda_, notify  # noqa: F401
