"""Physical names: within AWS limits, stable, and inside Parry's own-resource patterns."""

from __future__ import annotations

import fnmatch
import re

import pytest

from parry.engine.guardrails import OWN_RESOURCE_PATTERNS
from stacks import naming

LONGEST = "a" * 30 + "-" + "b" * 33  # a 64-character playbook name, the longest the schema allows


@pytest.mark.parametrize("playbook", ["iam-credential-compromise", LONGEST])
def test_names_fit_aws_limits_and_are_protected_by_the_guardrails(playbook: str):
    fn = naming.function_name(playbook)
    role = naming.runner_role_name(playbook, "ap-southeast-3")
    assert len(fn) <= 64 and len(role) <= 64 and len(naming.member_role_name(playbook)) <= 64
    assert len(naming.dlq_name(playbook)) <= 80 and len(naming.rule_name(playbook, "trigger")) <= 64
    assert any(
        fnmatch.fnmatchcase(f"arn:aws:lambda:eu-west-1:111111111111:function:{fn}", p) for p in OWN_RESOURCE_PATTERNS
    )
    assert any(fnmatch.fnmatchcase(f"arn:aws:iam::111111111111:role/{role}", p) for p in OWN_RESOURCE_PATTERNS)
    assert re.fullmatch(r"[A-Za-z0-9]{1,20}", naming.security_hub_action_id(playbook))


def test_long_names_stay_distinct():
    other = LONGEST[:-1] + "c"
    assert naming.function_name(LONGEST) != naming.function_name(other)
    assert naming.runner_role_name(LONGEST, "eu-west-1") != naming.runner_role_name(other, "eu-west-1")


def test_security_hub_action_names_are_short_and_unambiguous():
    names = naming.security_hub_action_names(
        ["iam-credential-compromise", "iam-credential-compromise-root", "s3-public"]
    )
    assert all(1 <= len(n) <= 20 for n in names.values())
    assert len(set(names.values())) == 3
    assert names["s3-public"] == "s3-public"
