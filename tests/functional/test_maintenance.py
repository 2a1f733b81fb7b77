"""The scheduled maintenance function: an approval nobody answered ends EXPIRED, on the record, and
the on-call is told; a request still within its window is left waiting."""

from __future__ import annotations

import json
import time

from parry.runtime.maintenance import handler as maintenance_handler
from parry.store import model as cs
from tests.support.inbox import on_call_inbox
from tests.support.playbooks import approval_book


def test_overdue_approval_is_expired_recorded_and_told(aws, parry_env, compromised_user, monkeypatch):
    from parry.config import Settings
    from parry.engine.run import Engine

    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Parry")
    two_days_ago = time.time() - 48 * 3600  # the playbook's approval window is 24 hours
    old = Engine(aws, Settings.from_env(), clock=lambda: two_days_ago).run(approval_book(), compromised_user["event"])
    assert old.status == cs.AWAITING_APPROVAL
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])

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
    (told,) = [message for subject, message in inbox() if "approval expired" in subject]
    assert old.case_id in told and "deactivate" in told
    keys = aws.client("iam").list_access_keys(UserName="ci-deployer")["AccessKeyMetadata"]
    assert keys[0]["Status"] == "Active", "the step that waited for approval never ran"


def test_a_request_within_its_window_keeps_waiting(aws, parry_env, compromised_user):
    from parry.config import Settings
    from parry.engine.run import Engine

    waiting = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])

    assert maintenance_handler({}) == {"expired": [], "redriven": [], "left": {}, "vanished": []}
    assert Engine(aws, Settings.from_env()).store.get(waiting.case_id).status == cs.AWAITING_APPROVAL
    assert not [message for subject, message in inbox() if "approval expired" in subject]
