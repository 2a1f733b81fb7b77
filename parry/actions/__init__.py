"""Response actions. Importing this package registers every action module."""

from parry.actions import evidence, iam, iam_roles, notify  # noqa: F401
