"""Attack: invoke a runner of a Lambda change detection with a CloudTrail event nobody made.

The attacker describes a URL opened, a function changed, a foreign event source or a public layer,
hoping to have Parry quarantine a function, close a URL or disable a mapping of their choosing. The
runner re-reads each event from CloudTrail: one CloudTrail does not hold is refused, opens no case and
captures nothing, and is logged as a security event. The same event once CloudTrail holds it opens a case.
"""

from __future__ import annotations

import copy

import pytest

from tests.support.control import Context, fresh_runner, lines
from tests.support.findings import registered
from tests.support.lambda_changes import function, in_sandbox, lambda_call, mapping_call, public_layer


def url_opened(aws) -> dict:
    function(aws, "orders")
    aws.client("lambda").create_function_url_config(FunctionName="orders", AuthType="NONE")
    return lambda_call("CreateFunctionUrlConfig20211031", {"functionName": "orders", "authType": "NONE"}, None, "u1")


def code_changed(aws) -> dict:
    function(aws, "production-api")
    return in_sandbox("cloudtrail/lambda-updatefunctioncode.bare.json")


def foreign_source(aws) -> dict:
    return mapping_call(aws, "210987654321")[1]


EVENTS = {
    "lambda-url-made-public": url_opened,
    "lambda-changed-outside-pipeline": code_changed,
    "lambda-foreign-event-source": foreign_source,
    "lambda-layer-made-public": public_layer,
}


def cases_opened(aws, parry_env) -> int:
    return aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"]


def evidence_objects(aws, parry_env) -> int:
    return aws.client("s3").list_objects_v2(Bucket=parry_env["PARRY_EVIDENCE_BUCKET"]).get("KeyCount", 0)


@pytest.mark.parametrize("book", EVENTS)
def test_a_lambda_change_cloudtrail_never_recorded_is_refused_and_the_recorded_one_opens_a_case(
    monkeypatch, tmp_path, aws, parry_env, capsys, book
):
    runner = fresh_runner(monkeypatch, tmp_path, book)
    event = EVENTS[book](aws)
    lines(capsys)

    forged = runner.handler(copy.deepcopy(event), Context())

    assert forged["status"] == "REFUSED" and "CloudTrail holds no event" in forged["error"]
    assert cases_opened(aws, parry_env) == 0 and evidence_objects(aws, parry_env) == 0
    (logged,) = [r for r in lines(capsys) if r.get("message") == "security event"]
    assert logged["playbook"] == book

    real = runner.handler(registered(aws, event), Context())

    assert real["status"] == "AWAITING_APPROVAL" and cases_opened(aws, parry_env) > 0
