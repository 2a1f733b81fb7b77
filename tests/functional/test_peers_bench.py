"""bench/peers.py counts calls at the endpoint and reads effects back: both must be right for its figures to mean anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def endpoint(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    from peers_world import CallLog, counting

    from parry.local.server import LocalServer

    log = CallLog()
    with counting(log):
        server = LocalServer.start()
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        try:
            yield log
        finally:
            server.stop()
    sys.modules.pop("peers_world", None)
    sys.modules.pop("peers_handwritten", None)


def test_the_hand_written_responder_is_counted_call_by_call_and_its_effects_read_back(endpoint):
    from peers_handwritten import Responder
    from peers_world import CONTAINING, Inbox, key_effects, seed_key, summary

    from parry.aws.clients import ClientFactory
    from parry.local.bootstrap import provision

    aws = ClientFactory(region="us-east-1")
    topic = provision(aws)["PARRY_TOPIC_ARN"]
    inbox = Inbox.on(aws, topic)
    event = seed_key(aws, "peers-test")
    assert len(key_effects(aws, event, inbox)) == 4  # nothing contained yet: every effect is missing

    with endpoint.window() as calls:
        Responder(topic).contain_key(event)

    assert key_effects(aws, event, inbox) == []
    counted = summary(calls, CONTAINING["key"])
    assert counted["by_operation"] == {
        "iam:UpdateAccessKey": 1,
        "iam:PutUserPolicy": 1,
        "securityhub:BatchUpdateFindings": 1,
        "sns:Publish": 1,
    }
    assert counted["before_containing"] == 0


def test_calls_made_before_the_containing_one_are_counted_before_it(endpoint):
    from peers_world import CONTAINING, seed_key, summary

    from parry.aws.clients import ClientFactory
    from parry.local.bootstrap import provision

    aws = ClientFactory(region="us-east-1")
    provision(aws)
    event = seed_key(aws, "peers-test-order")
    details = event["detail"]["resource"]["accessKeyDetails"]
    iam, gd = aws.client("iam"), aws.client("guardduty")
    with endpoint.window() as calls:
        iam.get_user(UserName=details["userName"])
        gd.list_detectors()
        iam.update_access_key(UserName=details["userName"], AccessKeyId=details["accessKeyId"], Status="Inactive")
    counted = summary(calls, CONTAINING["key"])
    assert [c.name for c in calls] == ["iam:GetUser", "guardduty:ListDetectors", "iam:UpdateAccessKey"]
    assert counted["before_containing"] == 2
