"""Attack: invoke the Inspector playbook's runner with an invented Inspector finding about someone's function.

The runner re-reads the finding from Inspector (parry.routing.inspector): a finding Inspector does
not hold, or one pointed at another function, is refused; nothing changes (no tag, no case) and a
security event is logged and counted. The finding Inspector holds runs on Inspector's copy.
"""

from __future__ import annotations

import pytest

from parry.local.corrections import register_finding
from tests.playbooks.test_posture_responses import function, inspector_event
from tests.support.control import Context, emf, fresh_runner, lines

BOOK = "lambda-vulnerable-package"


@pytest.fixture
def runner(monkeypatch, tmp_path, parry_env):
    return fresh_runner(monkeypatch, tmp_path, BOOK)


def tags(aws, arn: str) -> dict[str, str]:
    return aws.client("lambda").list_tags(Resource=arn).get("Tags", {})


def cases_opened(aws, parry_env) -> int:
    return aws.client("dynamodb").scan(TableName=parry_env["PARRY_CASES_TABLE"], Select="COUNT")["Count"]


@pytest.mark.parametrize("registered", [False, True], ids=["unknown-finding", "another-function"])
def test_an_invented_inspector_finding_is_refused_changes_nothing_and_is_a_security_event(
    runner, aws, parry_env, capsys, registered
):
    victim = function(aws, "payments")
    if registered:  # Inspector holds this finding ARN, about another function
        register_finding(aws, inspector_event(function(aws, "VulnerableFunction")))
    lines(capsys)
    event = inspector_event(victim)

    result = runner.handler(event, Context())

    assert result["status"] == "REFUSED"
    assert ("differs from what Inspector holds" if registered else "Inspector holds no finding") in result["error"]
    assert "parry:vulnerable" not in tags(aws, victim)
    assert cases_opened(aws, parry_env) == 0
    records = lines(capsys)
    (logged,) = [r for r in records if r.get("message") == "security event"]
    assert logged["security_event"] is True and logged["playbook"] == BOOK
    assert emf(records) == {"SecurityRejections": [1.0]}


def test_a_held_inspector_finding_runs_and_waits_for_approval_before_quarantine(runner, aws, parry_env):
    arn = function(aws, "VulnerableFunction")
    event = inspector_event(arn)
    register_finding(aws, event)

    result = runner.handler(event, Context())

    assert result["status"] == "AWAITING_APPROVAL"
    assert tags(aws, arn)["parry:vulnerable"] == "CVE-2023-30861"
    concurrency = aws.client("lambda").get_function_concurrency(FunctionName="VulnerableFunction")
    assert "ReservedConcurrentExecutions" not in concurrency  # the quarantine waits for a person
