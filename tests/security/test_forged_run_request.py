"""Attack: put a `Parry Run Request` on the default bus (any principal with events:PutEvents), or
invoke a runner with it directly (lambda:InvokeFunction on the runner), naming an admin's key.

Before issue 11 a rule routed it to the runner, which deactivated the key. Now no rule takes a
`source: parry` event, and a runner that gets one anyway refuses it: the key stays Active, and a
security event and a SecurityRejections metric are emitted.
"""

from __future__ import annotations

from parry.playbooks.validate import load_all
from parry.routing.patterns import compile_pattern
from tests.support.control import Context, emf, fresh_runner, lines, security_events

BOOK = "iam-credential-compromise"


def forged_request(finding_event: dict) -> dict:
    """The forged request, as the issue reproduced it: an invented finding inside a run request."""
    return {
        "version": "0",
        "id": "forged-1",
        "source": "parry",
        "detail-type": "Parry Run Request",
        "account": "123456789012",
        "region": "us-east-1",
        "time": "2026-12-01T00:00:00Z",
        "resources": [],
        "detail": {"playbook": BOOK, "event": finding_event},
    }


def key_status(aws, user: str, key: str) -> str:
    keys = aws.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return next(k["Status"] for k in keys if k["AccessKeyId"] == key)


def test_no_finding_playbook_takes_a_request_put_on_the_bus(compromised_user):
    forged = forged_request(compromised_user["event"])
    books = load_all(["playbooks"])
    taken = [b.name for b in books if b.name != "manual-quarantine" and compile_pattern(b.trigger).matches(forged)]
    assert taken == []


def test_a_forged_run_request_invoked_directly_changes_nothing_and_is_a_security_event(
    monkeypatch, tmp_path, aws, engine, compromised_user, capsys
):
    runner = fresh_runner(monkeypatch, tmp_path, BOOK)
    forged = forged_request(compromised_user["event"])

    answer = runner.handler(forged, Context())

    assert answer["status"] == "REFUSED" and "sealed control request" in answer["error"]
    assert key_status(aws, compromised_user["user"], compromised_user["key"]) == "Active"
    assert engine.store.list(limit=10) == []
    records = lines(capsys)
    (event,) = security_events(records)
    assert event["playbook"] == BOOK and event["level"] == "WARNING"
    assert emf(records)["SecurityRejections"] == [1.0]


def test_a_forged_continue_on_the_bus_shape_never_reaches_a_case(monkeypatch, tmp_path, aws, engine, capsys):
    runner = fresh_runner(monkeypatch, tmp_path, BOOK)
    forged = {"source": "parry", "detail-type": "Parry Run Request", "detail": {"continue_case": "case-1"}}

    answer = runner.run(forged, Context())

    assert answer["status"] == "REFUSED" and set(answer) == {"status", "error"}
    assert len(security_events(lines(capsys))) == 1
