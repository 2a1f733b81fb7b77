"""Attack: with write access to the case table only, delete a case, so that nothing continues, expires
or lists it (a case waiting for approval stalls for good) and the on-call never hears of it again.

The evidence outlives the table item: the maintenance sweep finds the case folder with no record,
logs a security event, tells the on-call once (its evidence named for `parry evidence verify`), and
`parry cases expire` names it too. A case that still has its record is never reported.
"""

from __future__ import annotations

import json
import logging

from parry.config import Settings
from parry.engine.run import Engine
from parry.runtime.maintenance import handler as maintenance_handler
from parry.store import model as cs
from tests.support.attacker import case_key, security_events
from tests.support.cli import parry
from tests.support.playbooks import approval_book


def told(aws, queue: str) -> list[dict]:
    got = aws.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in got if "case record deleted" in json.loads(m["Body"]).get("Subject", "")]


def oncall_inbox(aws, topic_arn: str) -> str:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="oncall")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def test_a_case_deleted_from_the_table_is_found_logged_and_told_once(aws, parry_env, compromised_user, caplog, capsys):
    waiting = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    assert waiting.status == cs.AWAITING_APPROVAL
    inbox = oncall_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    aws.client("dynamodb").delete_item(TableName=parry_env["PARRY_CASES_TABLE"], Key=case_key(waiting.case_id))

    with caplog.at_level(logging.WARNING):
        first = maintenance_handler({})
    second = maintenance_handler({})

    assert first["vanished"] == second["vanished"] == [waiting.case_id]
    assert any(waiting.case_id in r.reason for r in security_events(caplog.records))
    (notice,) = told(aws, inbox)  # the second sweep names it again, but tells nobody twice
    assert waiting.case_id in notice["Message"] and f"parry evidence verify {waiting.case_id}" in notice["Message"]
    assert f"s3://{parry_env['PARRY_EVIDENCE_BUCKET']}/cases/" in notice["Message"]

    code, _, err = parry(capsys, "cases", "expire")
    assert code == 0 and f"{waiting.case_id}  gone from the case table" in err


def test_a_case_with_its_record_is_not_reported(aws, parry_env, compromised_user):
    kept = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    inbox = oncall_inbox(aws, parry_env["PARRY_TOPIC_ARN"])

    assert maintenance_handler({})["vanished"] == []
    assert told(aws, inbox) == []
    assert Engine(aws, Settings.from_env()).store.get(kept.case_id).status == cs.AWAITING_APPROVAL
