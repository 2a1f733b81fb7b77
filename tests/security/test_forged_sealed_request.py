"""Attack: invoke a runner directly (lambda:InvokeFunction, one permission short of the control
plane) with a control request that looks sealed: a made-up MAC, one of another key, an expired
one, another playbook's, an approve sealed with the runners' continuation key, a `continue`
sealed with the request key. Each is refused, changes nothing, and is a security event."""

from __future__ import annotations

import base64
import json
import time

import pytest

from parry.evidence.manifest import audit_relpath
from parry.runtime.control_requests import CONTINUATION_KEY, WIRE_KEY
from tests.support.control import APPROVER, ONCALL, Context, emf, fresh_runner, lines, sealed, security_events

BOOK = "manual-quarantine"


@pytest.fixture
def runner(monkeypatch, tmp_path, engine):
    return fresh_runner(monkeypatch, tmp_path, BOOK, "iam-credential-compromise")


@pytest.fixture
def alice(aws):
    aws.client("iam").create_user(UserName="alice")
    return "alice"


def quarantined(aws, user: str) -> bool:
    return bool(aws.client("iam").list_user_policies(UserName=user)["PolicyNames"]) or bool(
        aws.client("iam").list_attached_user_policies(UserName=user)["AttachedPolicies"]
    )


def start(parry_env, aws, **kwargs):
    return sealed(parry_env, aws, "start", kwargs.pop("playbook", BOOK), target={"user": "alice"}, **kwargs)


def refused(runner, payload, capsys, engine) -> str:
    answer = runner.handler(payload, Context())
    assert answer["status"] == "REFUSED", answer
    records = lines(capsys)
    assert len(security_events(records)) == 1
    assert emf(records)["SecurityRejections"] == [1.0]
    assert engine.store.list(limit=10) == []
    return answer["error"]


def test_a_genuine_start_on_a_target_quarantines(runner, parry_env, aws, alice, capsys, engine):
    answer = runner.handler(start(parry_env, aws), Context())
    while answer["status"] == "AWAITING_APPROVAL":  # each containment step waits for a second person
        waiting = engine.store.get(answer["case_id"])
        decision = sealed(
            parry_env,
            aws,
            "approve",
            BOOK,
            requested_by=APPROVER,
            case_id=waiting.case_id,
            gate=waiting.awaiting["gate"],
            playbook_sha256=waiting.playbook_sha256,
        )
        answer = runner.handler(decision, Context())
    assert answer["status"] == "SUCCEEDED", answer
    assert quarantined(aws, alice)
    assert security_events(lines(capsys)) == []
    # who asked is in the sealed evidence, not only in the table
    case = engine.store.get(answer["case_id"])
    opened = json.loads(engine.evidence_for(case).store.get(case.evidence_prefix + audit_relpath(1)))
    assert opened["kind"] == "case_opened" and opened["requested_by"] == ONCALL


def test_a_made_up_mac_is_refused(runner, parry_env, aws, alice, capsys, engine):
    payload = start(parry_env, aws)
    payload[WIRE_KEY]["mac"] = base64.b64encode(b"\0" * 32).decode()
    assert "MAC does not verify" in refused(runner, payload, capsys, engine)
    assert not quarantined(aws, alice)


def test_a_request_altered_after_sealing_is_refused(runner, parry_env, aws, alice, capsys, engine):
    payload = start(parry_env, aws)
    payload[WIRE_KEY]["request"]["target"] = {"user": "admin"}
    assert "MAC does not verify" in refused(runner, payload, capsys, engine)


def test_a_mac_of_an_attackers_own_hmac_key_is_refused(runner, parry_env, aws, alice, capsys, engine):
    own = aws.client("kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    payload = start({**parry_env, "PARRY_REQUEST_KEY_ID": own}, aws)
    assert "MAC does not verify" in refused(runner, payload, capsys, engine)
    assert not quarantined(aws, alice)


def test_an_expired_request_is_refused(runner, parry_env, aws, alice, capsys, engine):
    payload = start(parry_env, aws, now=time.time() - 301)
    assert "expired" in refused(runner, payload, capsys, engine)
    assert not quarantined(aws, alice)


def test_another_playbooks_request_is_refused(runner, parry_env, aws, alice, capsys, engine):
    payload = start(parry_env, aws, playbook="iam-credential-compromise")
    assert "not 'manual-quarantine'" in refused(runner, payload, capsys, engine)


def test_a_request_sealed_with_the_continuation_key_cannot_start_or_approve(
    runner, parry_env, aws, alice, capsys, engine
):
    payload = start(parry_env, aws, key=CONTINUATION_KEY)
    assert "start request sealed with the continuation key" in refused(runner, payload, capsys, engine)
    approve = sealed(parry_env, aws, "approve", BOOK, key=CONTINUATION_KEY, case_id="case-20261201-x")
    assert "continuation key" in refused(runner, approve, capsys, engine)
    assert not quarantined(aws, alice)


def test_a_continue_sealed_with_the_request_key_is_refused(runner, parry_env, aws, capsys, engine):
    payload = sealed(parry_env, aws, "continue", BOOK, case_id="case-20261201-x")
    assert "continue request sealed with the request key" in refused(runner, payload, capsys, engine)


def test_an_unknown_key_name_is_refused(runner, parry_env, aws, alice, capsys, engine):
    payload = start(parry_env, aws)
    payload[WIRE_KEY]["key"] = "attacker"
    assert "unknown key" in refused(runner, payload, capsys, engine)
