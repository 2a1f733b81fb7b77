"""The member role's session name: what STS accepts and what the member's CloudTrail shows."""

from __future__ import annotations

import re

from parry.aws.members import session_name


def test_session_name_names_the_case_within_what_sts_allows():
    assert session_name("case-20260101-0123456789") == "parry-case-20260101-0123456789"
    odd = session_name("(plan) " + "x" * 100)
    assert re.fullmatch(r"[\w+=,.@-]{2,64}", odd) and odd.startswith("parry--plan--")
