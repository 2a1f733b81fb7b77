"""Sealed control requests (parry.runtime.control_requests) on moto KMS HMAC keys: what seals, what
opens, and every way a payload that is not the control plane's own fails to open."""

from __future__ import annotations

import json
import time

import pytest

from parry.errors import ForgedRequest
from parry.runtime.control_requests import (
    CONTINUATION_KEY,
    LIFETIME_SECONDS,
    REQUEST_KEY,
    WIRE_KEY,
    ControlRequest,
    is_sealed,
    open_request,
    seal,
)


@pytest.fixture
def keys(aws):
    kms = aws.client("kms")
    made = {}
    for name in (REQUEST_KEY, CONTINUATION_KEY):
        made[name] = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]
    return made


def request(now: float, **values) -> ControlRequest:
    return ControlRequest.issue("start", "manual-quarantine", "arn:aws:iam::123456789012:role/oncall", now, **values)


def test_a_sealed_request_opens_as_itself_for_its_playbook(aws, keys):
    now = time.time()
    made = request(now, target={"user": "alice"}, reason="INC-1")
    payload = json.loads(json.dumps(seal(made, aws.client("kms"), keys[REQUEST_KEY])))  # through the wire

    assert is_sealed(payload) and set(payload[WIRE_KEY]) == {"request", "mac", "key"}
    assert open_request(payload, aws.client("kms"), keys, now + 1, "manual-quarantine") == made


def test_a_request_lives_five_minutes_with_its_own_nonce():
    first, second = request(100.0), request(100.0)
    assert first.expires_at - first.issued_at == LIFETIME_SECONDS == 300
    assert first.nonce != second.nonce and len(first.nonce) == 32


def test_the_canonical_bytes_are_sorted_compact_json_of_every_field():
    made = request(100.0, target={"user": "alice"})
    text = made.canonical().decode()
    assert " " not in text and list(json.loads(text)) == sorted(json.loads(text))
    assert set(json.loads(text)) >= {"kind", "playbook", "requested_by", "nonce", "issued_at", "expires_at", "target"}


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda w: w.update(request={**w["request"], "extra": 1}), "fields a control request does not"),
        (lambda w: w.update(request={**w["request"], "issued_at": True}), "epoch seconds"),
        (lambda w: w.update(request={**w["request"], "kind": "delete"}), "unknown control request kind"),
        (lambda w: w.update(mac="not base64!"), "malformed"),
        (lambda w: w.pop("key"), "not a sealed control request"),
        (lambda w: w.update(request={**w["request"], "expires_at": w["request"]["issued_at"] + 3600}), "MAC"),
    ],
)
def test_a_tampered_payload_does_not_open(aws, keys, tamper, reason):
    now = time.time()
    payload = seal(request(now), aws.client("kms"), keys[REQUEST_KEY])
    tamper(payload[WIRE_KEY])
    with pytest.raises(ForgedRequest, match=reason):
        open_request(payload, aws.client("kms"), keys, now, "manual-quarantine")


def test_a_request_from_the_future_or_with_a_longer_life_does_not_open(aws, keys):
    now = time.time()
    kms = aws.client("kms")
    future = seal(request(now + 3600), kms, keys[REQUEST_KEY])
    with pytest.raises(ForgedRequest, match="validity window"):
        open_request(future, kms, keys, now, "manual-quarantine")
    long = ControlRequest("start", "manual-quarantine", "x", issued_at=now, expires_at=now + 3600, target={"u": "v"})
    with pytest.raises(ForgedRequest, match="validity window"):
        open_request(seal(long, kms, keys[REQUEST_KEY]), kms, keys, now, "manual-quarantine")


def test_a_runner_without_the_key_configured_opens_nothing(aws, keys):
    now = time.time()
    payload = seal(request(now), aws.client("kms"), keys[REQUEST_KEY])
    with pytest.raises(ForgedRequest, match="unknown key"):
        open_request(payload, aws.client("kms"), {REQUEST_KEY: None}, now, "manual-quarantine")
