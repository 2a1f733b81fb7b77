"""Contain first, counted: the AWS calls a warm runner makes before it deactivates a compromised key.

Every call of every client the engine's factories hand out is counted (a botocore before-call hook),
as bench/peers.py counts them at the endpoint: the claim, the hourly counters and the first change's
in-flight record are one transaction, and the case's opening evidence goes out once the key is
contained (parry.engine.first_change).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from parry.aws.clients import ClientFactory
from parry.playbooks.validate import load_file
from parry.store import model as cs
from tests.support.findings import registered
from tests.support.routing import load

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
CONTAINING = "iam.UpdateAccessKey"


def _compromised_key(aws: ClientFactory, user: str) -> tuple[dict[str, Any], str]:
    """A real TorIPCaller finding on a fresh user's key, held by the local GuardDuty."""
    iam = aws.client("iam")
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    event = load("guardduty/unauthorizedaccess-iamuser-toripcaller.eventbridge.json")
    event["account"], event["region"] = ACCOUNT, "us-east-1"
    event["detail"]["accountId"] = ACCOUNT
    event["detail"]["resource"]["accessKeyDetails"].update(userName=user, accessKeyId=key)
    return registered(aws, event), key


@pytest.fixture
def calls() -> Iterator[list[str]]:
    """Every AWS call the engine's clients make, as service.Operation, in the order they are sent."""
    made: list[str] = []
    real = ClientFactory.client

    def count(model: Any, **_: Any) -> None:
        made.append(f"{model.service_model.endpoint_prefix}.{model.name}")

    def client(self: ClientFactory, service: str, region: str | None = None) -> Any:
        made_client = real(self, service, region)
        made_client.meta.events.register("before-call", count, unique_id="contain-first-count")
        return made_client

    with mock.patch.object(ClientFactory, "client", client):
        yield made


def test_a_warm_runner_makes_at_most_four_calls_before_it_deactivates_the_key(engine, aws, calls):
    book = load_file(ROOT / "playbooks" / "iam-credential-compromise.yaml")
    first, _ = _compromised_key(aws, "first-user")
    engine.run(book, first)  # the runner is warm: its identity, detector and kill switch are known
    event, key = _compromised_key(aws, "second-user")
    calls.clear()

    case = engine.run(book, event)

    assert case.status in (cs.SUCCEEDED, cs.COMPLETED_WITH_ERRORS), [(s.step_id, s.error) for s in case.steps]
    status = aws.client("iam").list_access_keys(UserName="second-user")["AccessKeyMetadata"][0]["Status"]
    assert status == "Inactive"
    before = calls[: calls.index(CONTAINING)]
    # the finding's re-read, the key's protection check and before-state, and the claim: nothing else
    assert len(before) <= 4, before
    assert sorted(before) == [
        "dynamodb.TransactWriteItems",
        "guardduty.GetFindings",
        "iam.GetUser",
        "iam.ListAccessKeys",
    ], before
    assert calls.count("iam.ListUserTags") == 0, calls


@pytest.mark.parametrize("from_lambda", [True, False], ids=["lambda-context", "no-context"])
def test_a_cold_runner_knows_its_account_from_its_own_function_arn(
    aws, parry_env, calls, monkeypatch, tmp_path, from_lambda
):
    """A Lambda's own ARN names the account Parry runs in: a cold runner asks STS only when nothing told it."""
    from tests.support.control import Context, fresh_runner

    runner = fresh_runner(monkeypatch, tmp_path, "iam-credential-compromise")
    event, _ = _compromised_key(aws, "cold-user")

    case = runner.run(event, Context() if from_lambda else None)

    assert case["status"] in (cs.SUCCEEDED, cs.COMPLETED_WITH_ERRORS)
    before = calls[: calls.index(CONTAINING)]
    assert ("sts.GetCallerIdentity" in before) is not from_lambda, before
