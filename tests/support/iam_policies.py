"""AWS's own managed policies in moto's IAM, one at a time.

IAM always holds them (arn:aws:iam::aws:policy/AdministratorAccess ...); moto loads all of them only
with MOTO_IAM_LOAD_MANAGED_POLICIES, which costs seconds per account. A test that attaches one puts
just that one there, as AWS publishes it (moto's copy of the documents).
"""

from __future__ import annotations

import functools
import json
from typing import Any

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@functools.cache
def _published() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def aws_managed_policy(account: str, arn: str) -> str:
    """Make AWS's managed policy `arn` attachable in `account` (moto, in-process); its ARN."""
    from moto.iam.models import AWSManagedPolicy, iam_backends

    name = arn.rsplit("/", 1)[-1]
    policy = AWSManagedPolicy.from_data(name, account, "aws", _published()[name])
    iam_backends[account]["aws"].managed_policies[policy.arn] = policy
    return policy.arn
