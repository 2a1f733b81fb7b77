"""A runner near its Lambda deadline continues its own case: it invokes itself with a `continue` sealed
by the continuation key, which resumes that RUNNING case of its playbook and version, and nothing else."""

from __future__ import annotations

import json

import pytest

from parry.runtime.control_requests import CONTINUATION_KEY, WIRE_KEY
from tests.support.control import Context, fresh_runner, lines, sealed, security_events

BOOK = "iam-credential-compromise"


class NearTheDeadline(Context):
    def get_remaining_time_in_millis(self) -> int:
        return 10_000  # under the engine's step budget: stop before the next step


@pytest.fixture
def runner(monkeypatch, tmp_path, engine):
    return fresh_runner(monkeypatch, tmp_path, BOOK, "lambda-made-public")


@pytest.fixture
def invoked(monkeypatch, engine):
    """The runner's self-invocations, as Lambda would receive them."""
    calls: list[dict] = []
    client = engine.aws.client("lambda")
    monkeypatch.setattr(client, "invoke", lambda **kwargs: calls.append(kwargs) or {"StatusCode": 202})
    return calls


@pytest.fixture
def stopped(runner, engine, compromised_user, invoked):
    first = runner.run(compromised_user["event"], NearTheDeadline(), engine=engine)
    assert first["status"] == "RUNNING" and all(s["status"] != "succeeded" for s in first["steps"])
    return first


def test_the_runner_continues_its_own_case_with_a_continuation_sealed_request(
    runner, engine, compromised_user, invoked, stopped
):
    (call,) = invoked
    assert call["InvocationType"] == "Event" and call["FunctionName"] == Context.invoked_function_arn
    payload = json.loads(call["Payload"])
    assert payload[WIRE_KEY]["key"] == CONTINUATION_KEY
    assert payload[WIRE_KEY]["request"]["kind"] == "continue"

    done = runner.run(payload, Context(), engine=engine)

    assert done["case_id"] == stopped["case_id"] and done["status"] == "SUCCEEDED"
    keys = engine.aws.client("iam").list_access_keys(UserName=compromised_user["user"])["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Inactive"


def test_a_continue_for_another_version_of_the_playbook_is_refused(
    monkeypatch, tmp_path, engine, parry_env, aws, stopped, capsys
):
    runner = fresh_runner(monkeypatch, tmp_path, BOOK)  # a new container, logging onto this test's stdout
    payload = sealed(
        parry_env, aws, "continue", BOOK, key=CONTINUATION_KEY, case_id=stopped["case_id"], playbook_sha256="0" * 64
    )

    answer = runner.run(payload, Context(), engine=engine)

    assert answer["status"] == "REFUSED" and "another version" in answer["error"]
    assert engine.store.get(stopped["case_id"]).status == "RUNNING"
    assert all(s.status != "succeeded" for s in engine.store.get(stopped["case_id"]).steps)
    assert len(security_events(lines(capsys))) == 1


def test_a_continue_by_another_playbooks_runner_is_refused(
    monkeypatch, tmp_path, engine, parry_env, aws, stopped, capsys
):
    runner = fresh_runner(monkeypatch, tmp_path, BOOK, "lambda-made-public")
    payload = sealed(
        parry_env,
        aws,
        "continue",
        "lambda-made-public",
        key=CONTINUATION_KEY,
        case_id=stopped["case_id"],
        playbook_sha256=stopped["playbook_sha256"],
    )

    answer = runner.run(payload, Context(), playbook_name="lambda-made-public", engine=engine)

    assert answer["status"] == "REFUSED" and f"belongs to playbook {BOOK}" in answer["error"]
    assert engine.store.get(stopped["case_id"]).status == "RUNNING"
    assert len(security_events(lines(capsys))) == 1
