"""Telling people: an SNS message that says what was done and how to review or undo it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parry.actions.base import Action, ActionContext, ActionParams, ApiCall, Observation, Permission
from parry.actions.registry import register
from parry.errors import ActionError

SUBJECT_LIMIT = 100  # SNS refuses longer subjects


@dataclass(frozen=True)
class NotifyParams(ActionParams):
    topic_arn: str | None = field(default=None, metadata={"doc": "SNS topic; default: Parry's topic"})
    subject: str | None = field(default=None, metadata={"doc": "subject line; default: playbook and case"})
    message: str | None = field(default=None, metadata={"doc": "extra text put before the summary"})


def case_summary(ctx: ActionContext) -> str:
    """Plain-text body: playbook, target, each earlier step's outcome, and the follow-up commands."""
    lines = [f"Playbook: {ctx.playbook}", f"Case: {ctx.case_id}", f"Account: {ctx.account}  Region: {ctx.region}"]
    if ctx.target:
        lines.append("Target: " + ", ".join(f"{k}={v}" for k, v in ctx.target.items()))
    if ctx.prior:
        lines.append("")
        lines.append("What was done:")
        for step_id, result in ctx.prior.items():
            lines.append(f"  - {step_id}: {result.get('status')} {result.get('summary', '')}".rstrip())
    lines += [
        "",
        f"Show the case:  parry cases show {ctx.case_id}",
        f"Undo the case:  parry undo {ctx.case_id}",
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
        subject = params.subject or f"[Parry] {ctx.playbook}: case {ctx.case_id}"
        return subject.replace("\n", " ")[:SUBJECT_LIMIT]

    def observe(self, ctx: ActionContext, params: NotifyParams) -> Observation:
        return Observation(state={"topic_arn": self._topic(ctx, params)})

    def calls(self, ctx: ActionContext, params: NotifyParams, seen: Observation) -> list[ApiCall]:
        return [ApiCall("sns:Publish", {"TopicArn": seen.state["topic_arn"], "Subject": self._subject(ctx, params)})]

    def apply(self, ctx: ActionContext, params: NotifyParams, seen: Observation) -> dict[str, Any]:
        body = case_summary(ctx)
        if params.message:
            body = params.message + "\n\n" + body
        resp = ctx.client("sns").publish(
            TopicArn=seen.state["topic_arn"], Subject=self._subject(ctx, params), Message=body
        )
        return {"message_id": resp["MessageId"], "subject": self._subject(ctx, params)}
