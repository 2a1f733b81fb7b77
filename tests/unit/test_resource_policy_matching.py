"""Which resource-policy statements `policy.remove_grant` removes, leaves and names, or ignores."""

from __future__ import annotations

import pytest

from parry.actions.resource_policies import grants, principals

OUTSIDER = {("AWS", "999988887777")}


def allow(principal, action, **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def test_an_account_id_and_its_root_arn_are_one_principal():
    assert principals({"AWS": "arn:aws:iam::999988887777:root"}) == principals({"AWS": "999988887777"}) == OUTSIDER
    assert principals("*") == principals({"AWS": "*"}) == {("AWS", "*")}
    assert principals({"AWS": "arn:aws:iam::999988887777:role/r"}) != OUTSIDER  # a role is not the account


@pytest.mark.parametrize(
    "statement, kind",
    [
        (allow({"AWS": "999988887777"}, "s3:GetObject"), "only"),
        (allow({"AWS": ["arn:aws:iam::999988887777:root"]}, ["s3:Get*", "s3:List*"]), "only"),  # a wildcard covers it
        (allow({"AWS": "999988887777"}, "*"), "only"),
        (allow({"AWS": ["999988887777", "444455556666"]}, "s3:GetObject"), "shared"),  # also a partner
        (allow("*", "s3:GetObject"), "shared"),  # everyone, the outsider included
        ({"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject"}, "shared"),
        ({"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "NotAction": "s3:PutObject"}, "shared"),
        (allow({"AWS": "999988887777"}, "s3:PutObject"), None),  # another action
        (allow({"AWS": "444455556666"}, "s3:GetObject"), None),  # another principal
        ({"Effect": "Deny", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject"}, None),  # never a deny
    ],
    ids=[
        "exact",
        "wildcard",
        "all-actions",
        "with-partner",
        "public",
        "not-principal",
        "not-action",
        "other-action",
        "other-principal",
        "deny",
    ],
)
def test_what_a_statement_grants_the_findings_principal(statement, kind):
    assert grants(statement, OUTSIDER, ["s3:GetObject"]) == kind


def test_a_public_finding_removes_a_public_statement():
    assert grants(allow("*", "sqs:SendMessage"), principals({"AWS": "*"}), ["sqs:SendMessage"]) == "only"
