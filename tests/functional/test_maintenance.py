"""The scheduled maintenance function: an approval nobody answered ends EXPIRED, on the record, and
the on-call is told; a request still within its window is left waiting."""

from __future__ import annotations

import json
import time

from parry.runtime.maintenance import handler as maintenance_handler
from parry.store import model as cs
from tests.support.playbooks import approval_book


def _subscribe(aws, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="oncall")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def _messages(aws, url: str) -> list[dict]:
    got = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def test_overdue_approval_is_expired_recorded_and_told(aws, parry_env, compromised_user, monkeypatch):
    from parry.config import Settings
    from parry.engine.run import Engine

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Parry")
    two_days_ago = time.time() - 48 * 3600  # the playbook's approval window is 24 hours
    old = Engine(aws, Settings.from_env(), clock=lambda: two_days_ago).run(approval_book(), compromised_user["event"])
    assert old.status == cs.AWAITING_APPROVAL
    inbox = _subscribe(aws, parry_env["PARRY_TOPIC_ARN"])

    result = maintenance_handler({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}})

    assert result == {"expired": [old.case_id], "redriven": [], "left": {}, "vanished": []}
    engine = Engine(aws, Settings.from_env())
    closed = engine.store.get(old.case_id)
    assert closed.status == cs.EXPIRED and closed.history[-1]["kind"] == "expired"
    records = [
        json.loads(aws.client("s3").get_object(Bucket=parry_env["PARRY_EVIDENCE_BUCKET"], Key=o["Key"])["Body"].read())
        for o in aws.client("s3").list_objects_v2(Bucket=parry_env["PARRY_EVIDENCE_BUCKET"])["Contents"]
        if "/audit/" in o["Key"]
    ]
    assert any(r.get("kind") == "expired" for r in records)
    (told,) = [m for m in _messages(aws, inbox) if "approval expired" in m.get("Subject", "")]
    assert old.case_id in told["Message"] and "deactivate" in told["Message"]
    keys = aws.client("iam").list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Active", "the step that waited for approval never ran"


def test_a_request_within_its_window_keeps_waiting(aws, parry_env, compromised_user):
    from parry.config import Settings
    from parry.engine.run import Engine

    waiting = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    inbox = _subscribe(aws, parry_env["PARRY_TOPIC_ARN"])

    assert maintenance_handler({}) == {"expired": [], "redriven": [], "left": {}, "vanished": []}
    assert Engine(aws, Settings.from_env()).store.get(waiting.case_id).status == cs.AWAITING_APPROVAL
    assert not [m for m in _messages(aws, inbox) if "approval expired" in m.get("Subject", "")]
