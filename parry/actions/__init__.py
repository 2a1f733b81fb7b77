"""Response actions. Importing this package registers every action module."""

from parry.actions import evidence, iam, notify  # noqa: F401
