"""The member role's ARN and session name: what STS accepts and what the member's CloudTrail shows."""

from __future__ import annotations

import re

from parry.aws.members import role_arn, session_name


def test_role_arn_takes_the_partition_of_the_callers_arn():
    assert role_arn("arn:aws:sts::111111111111:assumed-role/r/s", "222222222222", "parry-member-x") == (
        "arn:aws:iam::222222222222:role/parry-member-x"
    )
    assert role_arn("arn:aws-cn:sts::111111111111:assumed-role/r/s", "222222222222", "parry-member-x") == (
        "arn:aws-cn:iam::222222222222:role/parry-member-x"
    )
    assert role_arn("arn:aws-us-gov:iam::111111111111:user/u", "222222222222", "r").startswith("arn:aws-us-gov:iam::")


def test_session_name_names_the_case_within_what_sts_allows():
    assert session_name("case-20260101-0123456789") == "parry-case-20260101-0123456789"
    odd = session_name("(plan) " + "x" * 100)
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", odd) and odd.startswith("parry--plan--")
