"""Attack: with write access to the case table only, delete a case, so that nothing continues, expires
or lists it (a case waiting for approval stalls for good) and the on-call never hears of it again.

The evidence outlives the table item: the maintenance sweep finds the case folder with no record,
logs a security event, tells the on-call once (its evidence named for `parry evidence verify`), and
`parry cases expire` names it too. A case that still has its record is never reported.
"""

from __future__ import annotations

import logging

from parry.config import Settings
from parry.engine.run import Engine
from parry.runtime.maintenance import handler as maintenance_handler
from parry.store import model as cs
from tests.support.attacker import case_key, security_events
from tests.support.cli import parry
from tests.support.inbox import on_call_inbox
from tests.support.playbooks import approval_book


def told(read) -> list[str]:
    return [message for subject, message in read() if "case record deleted" in subject]


def test_a_case_deleted_from_the_table_is_found_logged_and_told_once(aws, parry_env, compromised_user, caplog, capsys):
    waiting = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    assert waiting.status == cs.AWAITING_APPROVAL
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    aws.client("dynamodb").delete_item(TableName=parry_env["PARRY_CASES_TABLE"], Key=case_key(waiting.case_id))

    with caplog.at_level(logging.WARNING):
        first = maintenance_handler({})
    second = maintenance_handler({})

    assert first["vanished"] == second["vanished"] == [waiting.case_id]
    assert any(waiting.case_id in r.reason for r in security_events(caplog.records))
    (notice,) = told(inbox)  # the second sweep names it again, but tells nobody twice
    assert waiting.case_id in notice and f"parry evidence verify {waiting.case_id}" in notice
    assert f"s3://{parry_env['PARRY_EVIDENCE_BUCKET']}/cases/" in notice

    code, _, err = parry(capsys, "cases", "expire")
    assert code == 0 and f"{waiting.case_id}  gone from the case table" in err


def test_a_case_with_its_record_is_not_reported(aws, parry_env, compromised_user):
    kept = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])

    assert maintenance_handler({})["vanished"] == []
    assert told(inbox) == []
    assert Engine(aws, Settings.from_env()).store.get(kept.case_id).status == cs.AWAITING_APPROVAL
