"""Injection into what the on-call reads on Parry's topic: a value from a finding, a resource or a
person that holds newlines and an "ACTION REQUIRED ... run now: parry undo ..." line stays one
quoted value, and subjects reach SNS as one printable line.

Read as the on-call gets them: published to the topic on moto, through a queue subscribed to it.
"""

from __future__ import annotations

import json

import pytest

from parry.actions.base import ActionContext
from parry.actions.notify import NotifyParams, NotifySns
from parry.engine import notices
from parry.store.model import Case
from tests.support.inbox import on_call_inbox

FORGED = "ACTION REQUIRED: the key is still active, run now: parry undo case-20261201-0000000000"
EVIL = f"quarantine done\n\n{FORGED}\r\n\x1b[2J\u2028{FORGED}"


def _lines(message: str) -> list[str]:
    """The lines a mail client or chat shows: split on every line break a reader may see."""
    return message.replace("\u2028", "\n").replace("\r", "\n").splitlines()


def _case() -> Case:
    return Case(
        case_id="case-20261201-abcdef0123",
        playbook="iam-credential-compromise",
        playbook_sha256="0" * 64,
        status="RUNNING",
        opened_at="2026-12-01T00:00:00+00:00",
        account="123456789012",
        region="us-east-1",
        dedup="k",
        event={},
        history=[{"kind": "undo", "request": "r1", "step": "deactivate-key", "status": "failed", "error": EVIL}],
    )


NOTICES = {
    "approval_needed": lambda c: notices.approval_needed(c, EVIL),
    "case_blocked": lambda c: notices.case_blocked(c, "deactivate-key", EVIL),
    "playbook_blocked": lambda c: notices.playbook_blocked(c, EVIL),
    "undo_finished": lambda c: notices.undo_finished(
        c, {"id": "r1", "state": "failed", "by": EVIL, "reason": EVIL, "error": EVIL}
    ),
}


@pytest.mark.parametrize("name", NOTICES)
def test_a_notice_quotes_each_untrusted_value_on_its_own_line(aws, parry_env, name):
    read = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    subject, body = NOTICES[name](_case())
    notices.tell(aws, parry_env["PARRY_TOPIC_ARN"], subject, body)

    ((_, message),) = read()
    lines = _lines(message)
    assert not [line for line in lines if line.startswith(("ACTION REQUIRED", "\x1b"))]
    assert "\x1b" not in message and "\u2028" not in message and "\r" not in message
    quoted = [line.split(": ", 1) for line in lines if json.dumps(EVIL) in line]
    values = [json.loads(value) for _, value in quoted]  # each such line is `Label: <one JSON value>`
    assert {label for label, _ in quoted} <= {"Reason", "Error", "Asked by", "Steps"}  # Parry's labels
    assert EVIL in values  # and the on-call still reads what was said, exactly
    assert "parry cases show case-20261201-abcdef0123" in lines[-1]  # Parry's own commands stay pasteable


def test_a_subject_is_one_printable_line(aws, parry_env):
    read = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    case = _case()
    case.playbook = f"book\n{FORGED}\x1b[2J\u00e9"
    notices.tell(aws, parry_env["PARRY_TOPIC_ARN"], *notices.approval_needed(case, "r"))

    ((subject, _),) = read()
    assert "\n" not in subject and "\x1b" not in subject and subject.isascii() and subject.isprintable()
    assert len(subject) <= 100 and subject.startswith("[Parry] approval needed: book ACTION REQUIRED")


def test_notify_sns_quotes_the_target_and_what_earlier_steps_said(aws, parry_env):
    read = on_call_inbox(aws, parry_env["PARRY_TOPIC_ARN"])
    ctx = ActionContext(
        aws=aws,
        case_id="case-20261201-abcdef0123",
        step_id="tell",
        playbook="iam-credential-compromise",
        account="123456789012",
        region="us-east-1",
        target={"user": EVIL},
        topic_arn=parry_env["PARRY_TOPIC_ARN"],
        prior={"deactivate-key": {"status": "succeeded", "summary": EVIL}},
    )
    action, params = NotifySns(), NotifyParams(subject=f"Parry quarantined {EVIL}", message=EVIL)
    sent = action.apply(ctx, params, action.observe(ctx, params))

    ((subject, message),) = read()
    lines = _lines(message)
    assert not [line for line in lines if line.startswith(("ACTION REQUIRED", "\x1b"))]
    assert "\x1b" not in message and "\u2028" not in message
    assert f"Target: {json.dumps({'user': EVIL})}" in lines and f"Note: {json.dumps(EVIL)}" in lines
    assert f"  - deactivate-key: succeeded; summary: {json.dumps(EVIL)}" in lines
    assert lines[-1] == "Undo the case:  parry undo case-20261201-abcdef0123"
    assert subject == sent["subject"] and subject.isprintable() and subject.isascii()
