"""Attack: with write access to the case table only, delete a case, so that nothing continues, expires
or lists it (a case waiting for approval stalls for good) and the on-call never hears of it again.

The evidence outlives the table item: the maintenance sweep finds the case folder with no record,
logs a security event, tells the on-call once (its evidence named for `parry evidence verify`), and
`parry cases expire` names it too. A case that still has its record is never reported.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime

from parry.config import Settings
from parry.engine import vanished
from parry.engine.run import Engine
from parry.runtime.maintenance import handler as maintenance_handler
from parry.runtime.maintenance import sweep
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


def test_every_day_a_case_can_wait_for_approval_is_looked_at_each_day():
    midnight = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    seen: dict[int, int] = {}
    for n in range(24 * 60 // vanished.SWEEP_MINUTES):  # one day of sweeps
        for day in vanished.days_to_look_at(midnight + n * vanished.SWEEP_MINUTES * 60):
            age = (date(2026, 12, 1) - day).days
            seen[age] = seen.get(age, 0) + 1

    assert sorted(seen) == list(range(vanished.WINDOW_DAYS))  # 720 hours of approval window, and its first day
    assert min(seen.values()) >= 3 and seen[0] == seen[1] == 96


def test_a_case_deleted_days_after_it_opened_is_found_in_its_turn(aws, parry_env, compromised_user):
    now = datetime.now(UTC).replace(hour=2, minute=5).timestamp()  # 02:05: day 2 + 8, the 9th older day's turn
    assert datetime.fromtimestamp(now - 10 * 86400, UTC).date() in vanished.days_to_look_at(now)
    old = Engine(aws, Settings.from_env(), clock=lambda: now - 10 * 86400).run(
        approval_book(), compromised_user["event"]
    )
    aws.client("dynamodb").delete_item(TableName=parry_env["PARRY_CASES_TABLE"], Key=case_key(old.case_id))

    at = Engine(aws, Settings.from_env(), clock=lambda: now)
    other_turn = Engine(aws, Settings.from_env(), clock=lambda: now + 3600)  # 03:05: another day's turn

    assert sweep(other_turn, lambda *_: None)["vanished"] == []
    assert sweep(at, lambda *_: None)["vanished"] == [old.case_id]


def test_a_notice_that_could_not_be_sent_is_sent_by_the_next_sweep(aws, parry_env, compromised_user, monkeypatch):
    case = Engine(aws, Settings.from_env()).run(approval_book(), compromised_user["event"])
    aws.client("dynamodb").delete_item(TableName=parry_env["PARRY_CASES_TABLE"], Key=case_key(case.case_id))
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    real = Engine.tell
    monkeypatch.setattr(Engine, "tell", lambda self, *a: (_ for _ in ()).throw(RuntimeError("SNS is down")))

    failed = maintenance_handler({})
    monkeypatch.setattr(Engine, "tell", real)
    again = maintenance_handler({})

    assert "SNS is down" in failed["unchecked"] and failed["vanished"] == []
    assert again["vanished"] == [case.case_id] and "unchecked" not in again
    assert len(told(inbox)) == 1


def test_a_look_that_fails_leaves_the_rest_of_the_sweep_done(aws, parry_env, compromised_user, monkeypatch):
    from botocore.exceptions import ClientError

    two_days_ago = time.time() - 48 * 3600
    overdue = Engine(aws, Settings.from_env(), clock=lambda: two_days_ago).run(
        approval_book(), compromised_user["event"]
    )

    def denied(*_):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListObjectsV2")

    monkeypatch.setattr(vanished, "_folders", denied)

    swept = maintenance_handler({})

    assert swept["expired"] == [overdue.case_id]
    assert "AccessDenied" in swept["unchecked"] and swept["vanished"] == []


def test_many_deleted_cases_make_ten_notices_and_one_that_counts_the_rest(aws, parry_env, monkeypatch):
    bucket = parry_env["PARRY_EVIDENCE_BUCKET"]
    gone = [
        vanished.Vanished(f"case-20261201-{n:010x}", "123456789012", f"s3://{bucket}/cases/123456789012/x/{n}/")
        for n in range(25)
    ]
    monkeypatch.setattr(vanished, "vanished_cases", lambda engine: gone)
    inbox = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])

    assert len(maintenance_handler({})["vanished"]) == 25
    maintenance_handler({})  # each was marked: nothing told again

    got: list[tuple[str, str]] = []
    while batch := inbox():
        got += batch
    subjects = [subject for subject, _ in got]
    assert subjects.count("[Parry] case record deleted") == 10
    (rest,) = [message for subject, message in got if subject == "[Parry] case records deleted"]
    assert rest.startswith("15 more Parry cases are gone from the case table")
