"""The posture checks on facts as AWS returns them, including what moto cannot hold (DLQs, org conditions)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from parry.posture import checks
from parry.posture.reader import FunctionFacts, LayerVersionFacts, Policy
from parry.posture.runtimes import deprecation

ARN = "arn:aws:lambda:us-east-1:123456789012:function:f"
CLEAN = FunctionFacts(
    arn=ARN,
    name="f",
    account="123456789012",
    region="us-east-1",
    runtime="python3.13",
    role_arn="arn:aws:iam::123456789012:role/f",
    layers=(),
    secret_variables=(),
    url_auth_types=(),
    policy_statements=(),
    event_sources=(),
    has_dead_letter_queue=True,
    has_on_failure_destination=False,
)
TODAY = date(2026, 12, 1)
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "lambda:InvokeFunction", "Resource": ARN}


def ids(facts: FunctionFacts, today: date = TODAY) -> list[str]:
    return [x.check_id for x in checks.check_function(facts, today)]


def test_clean_function_has_no_results():
    assert ids(CLEAN) == []


def test_a_dead_letter_queue_or_a_destination_is_enough():
    assert ids(replace(CLEAN, has_dead_letter_queue=False, has_on_failure_destination=True)) == []
    assert ids(replace(CLEAN, has_dead_letter_queue=False)) == ["PARRY-LAMBDA-10"]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
        {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    ],
)
def test_a_scoping_condition_makes_a_public_principal_safe(condition: dict):
    assert ids(replace(CLEAN, policy_statements=({**PUBLIC, "Condition": condition},))) == []


def test_public_principal_forms_are_reported_and_a_null_condition_does_not_scope():
    for statement in (PUBLIC, {**PUBLIC, "Principal": {"AWS": "*"}}, {**PUBLIC, "Principal": {"AWS": ["*"]}}):
        assert ids(replace(CLEAN, policy_statements=(statement,))) == ["PARRY-LAMBDA-2"]
    null = {**PUBLIC, "Condition": {"Null": {"aws:SourceArn": "false"}}}
    assert ids(replace(CLEAN, policy_statements=(null,))) == ["PARRY-LAMBDA-2"]


def test_the_url_statement_of_an_open_url_is_reported_once():
    url = {
        **PUBLIC,
        "Action": "lambda:InvokeFunctionUrl",
        "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
    }
    facts = replace(
        CLEAN, policy_statements=(url,), url_auth_types=(("https://x.lambda-url.us-east-1.on.aws/", "NONE"),)
    )
    assert ids(facts) == ["PARRY-LAMBDA-1"]


def test_pass_role_through_a_wildcard_action_and_admin_are_told_apart():
    pass_all = Policy("p", False, ({"Effect": "Allow", "Action": ["iam:*"], "Resource": "*"},))
    narrow = Policy("n", False, ({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/x"},))
    denied = Policy("d", False, ({"Effect": "Deny", "Action": "*", "Resource": "*"},))
    assert ids(replace(CLEAN, role_policies=(pass_all,))) == ["PARRY-LAMBDA-5"]
    assert ids(replace(CLEAN, role_policies=(narrow, denied))) == []
    assert ids(replace(CLEAN, role_policies=(Policy("arn:aws:iam::aws:policy/AdministratorAccess", True, ()),))) == [
        "PARRY-LAMBDA-4"
    ]


def test_runtimes_are_reported_before_and_after_their_date():
    assert deprecation("nodejs22.x", date(2026, 12, 1)) == (date(2027, 4, 30), False)  # 150 days ahead
    assert deprecation("nodejs22.x", date(2026, 10, 1)) is None  # 211 days ahead
    assert deprecation("python3.9", TODAY) == (date(2025, 12, 15), True)
    assert deprecation("python3.13", TODAY) is None
    [soon] = checks.check_function(replace(CLEAN, runtime="nodejs22.x"), TODAY)
    assert (soon.check_id, soon.severity) == ("PARRY-LAMBDA-6", "MEDIUM")
    [past] = checks.check_function(replace(CLEAN, runtime="python3.8"), TODAY)
    assert (past.check_id, past.severity) == ("PARRY-LAMBDA-6", "HIGH")


def test_layer_shared_with_an_organization_is_not_public():
    org = {**PUBLIC, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
    layer = LayerVersionFacts("arn:aws:lambda:us-east-1:123456789012:layer:l:1", "123456789012", "us-east-1", (org,))
    assert checks.layer_public(layer) == []
    assert [x.check_id for x in checks.layer_public(replace(layer, statements=(PUBLIC,)))] == ["PARRY-LAMBDA-8"]
