"""Telling people: an SNS message that says what was done and how to review or undo it.

What a message says about a case comes from findings, resources and people, so each such value is
JSON on a line of its own (`quoted`): a value holding a newline and "ACTION REQUIRED ... run now:
parry undo ..." stays one quoted string and never reads as a line Parry wrote. Subjects keep
printable ASCII only (`subject_line`), as SNS requires anyway. Parry's notices use the same two.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ActionError

SUBJECT_LIMIT = 100  # SNS refuses longer subjects
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]+")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def quoted(label: str, value: Any) -> str:
    """`label: "value"`, the value JSON-encoded (ASCII): its newlines and control characters stay escaped."""
    return f"{label}: {json.dumps(value, default=str)}"


def subject_line(text: str) -> str:
    """An SNS subject: printable ASCII on one line (SNS refuses anything else), at most SUBJECT_LIMIT long."""
    return " ".join(_NOT_PRINTABLE_ASCII.sub(" ", text).split())[:SUBJECT_LIMIT] or "Parry"


def token(value: Any) -> str:
    """An id (a case's, a step's) as it is when it is a plain token, to paste into a command; anything
    else quoted, so it cannot add lines."""
    text = str(value)
    return text if _TOKEN.fullmatch(text) else json.dumps(text)


@dataclass(frozen=True)
class NotifyParams(ActionParams):
    topic_arn: str | None = field(default=None, metadata={"doc": "SNS topic; default: Parry's topic"})
    subject: str | None = field(default=None, metadata={"doc": "subject line; default: playbook and case"})
    message: str | None = field(default=None, metadata={"doc": "extra text put before the summary"})


def case_summary(ctx: ActionContext) -> str:
    """Plain-text body: playbook, target, each earlier step's outcome, and the follow-up commands."""
    lines = [
        quoted("Playbook", ctx.playbook),
        quoted("Case", ctx.case_id),
        quoted("Account", ctx.account),
        quoted("Region", ctx.region),
    ]
    if ctx.target:
        lines.append(quoted("Target", ctx.target))
    if ctx.prior:
        lines.append("")
        lines.append("What was done:")
        for step_id, result in ctx.prior.items():
            done = f"  - {token(step_id)}: {token(result.get('status'))}"
            lines.append(done + (f"; {quoted('summary', result['summary'])}" if result.get("summary") else ""))
    case_id = token(ctx.case_id)
    lines += [
        "",
        f"Show the case:  parry cases show {case_id}",
        f"Undo the case:  parry undo {case_id}",
    ]
    return "\n".join(lines)


@register
class NotifySns(Action[NotifyParams]):
    """Publish a summary of the case to SNS (e-mail, chat, paging).

    ```yaml
    - id: tell
      action: notify.sns
      on_error: continue
      with: {subject: "Parry contained ${target.user}"}
    ```
    """

    name = "notify.sns"
    Params = NotifyParams
    mutating = False
    summary = "Notify the on-call channel over SNS"
    no_undo_reason = "a sent message cannot be recalled"
    permissions = (Permission(("sns:Publish",), ("{topic_arn}",)),)

    def _topic(self, ctx: ActionContext, params: NotifyParams) -> str:
        topic = params.topic_arn or ctx.topic_arn
        if not topic:
            raise ActionError("notify.sns: no topic_arn given and PARRY_TOPIC_ARN is not set")
        return topic

    def _subject(self, ctx: ActionContext, params: NotifyParams) -> str:
        return subject_line(params.subject or f"[Parry] {ctx.playbook}: case {ctx.case_id}")

    def observe(self, ctx: ActionContext, params: NotifyParams) -> Observation:
        return Observation(state={"topic_arn": self._topic(ctx, params)})

    def calls(self, ctx: ActionContext, params: NotifyParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("sns:Publish", {"TopicArn": seen.state["topic_arn"], "Subject": self._subject(ctx, params)})]

    def apply(self, ctx: ActionContext, params: NotifyParams, seen: Observation) -> dict[str, Any]:
        body = case_summary(ctx)
        if params.message:  # the playbook's text, with whatever a `${...}` put in it
            body = quoted("Note", params.message) + "\n\n" + body
        topic, subject = seen.state["topic_arn"], self._subject(ctx, params)
        resp = ctx.client("sns").publish(TopicArn=topic, Subject=subject, Message=body)
        # what people were told, in the step's audit record, for the case report (never a secret:
        # the message holds only what the case already records)
        return {"message_id": resp["MessageId"], "topic_arn": topic, "subject": subject, "message": body}
