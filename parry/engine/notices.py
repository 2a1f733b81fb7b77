"""What Parry tells the on-call, and how: a case waiting for approval, a blocked case, a change that
did not hold or a capture that took only part, an expired approval, the outcome of an undo the
runner carried out.

Each message names the case and the commands that act on it, so the on-call can answer from the
notification alone. They go to Parry's topic whether or not the playbook has a notify step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from parry.store import model as cs
from parry.store.step_result import NOT_CONTAINED

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.store.model import Case
    from parry.store.step_result import StepResult

SUBJECT_LIMIT = 100  # SNS refuses longer subjects


class Notice(NamedTuple):
    subject: str
    body: str


def tell(aws: ClientFactory, topic_arn: str | None, subject: str, body: str) -> None:
    """Publish to Parry's topic, when one is configured."""
    if topic_arn:
        aws.client("sns").publish(TopicArn=topic_arn, Subject=f"[Parry] {subject}"[:SUBJECT_LIMIT], Message=body)


def approval_needed(case: Case, reason: str) -> Notice:
    return Notice(
        f"approval needed: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}) is waiting for approval: {reason}.\n\n"
        f'Approve:  parry approve {case.case_id} --reason "..."\n'
        f'Deny:     parry deny {case.case_id} --reason "..."\n'
        f"Review:   parry cases show {case.case_id}\n",
    )


def case_blocked(case: Case, step_id: str, error: str) -> Notice:
    return Notice(
        f"case blocked: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}) stopped before step {step_id}: {error}\n\n"
        f"Once fixed, continue it:  parry cases resume {case.case_id}\n"
        f"Review:                   parry cases show {case.case_id}\n",
    )


def step_short(case: Case, result: StepResult) -> Notice:
    """A step that fell short: its change does not hold (NOT_CONTAINED), or its capture is PARTIAL."""
    partial = result.status != NOT_CONTAINED
    what = "took only part of its evidence" if partial else "was applied, but containment does not hold"
    lines = "".join(f"  - {item}\n" for item in result.unmet)
    return Notice(
        f"{'partial capture' if partial else 'NOT contained'}: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}): step {result.step_id} ({result.action}) {what}:\n{lines}\n"
        + ("" if partial else "Contain what is still open by hand, then check it.\n")
        + f"Review:  parry cases show {case.case_id}\n",
    )


def approval_expired(case: Case, step_id: str | None) -> Notice:
    return Notice(
        f"approval expired: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}) waited for approval of step {step_id} until its window "
        f"passed: it is closed as {cs.EXPIRED}, and that step and those after it did not run.\n\n"
        f"Review:  parry cases show {case.case_id}\n",
    )


def undo_finished(case: Case, request: dict[str, Any]) -> Notice:
    """The outcome of the undo request `request` (see parry.engine.undo.carry_out), step by step."""
    lines = [
        f"  {h['step']}: {h['status']}" + (f" ({h['error']})" if h.get("error") else "")
        for h in case.history
        if h.get("kind") == "undo" and h.get("request") == request["id"]
    ]
    outcome = "failed" if request["state"] == cs.UNDO_FAILED else "done"
    body = (
        f"Parry case {case.case_id} ({case.playbook}): the undo asked by {request['by']} "
        f"({request.get('reason') or 'no reason given'}) is {outcome}; the case is {case.status}.\n"
        + ("\n".join(lines) + "\n" if lines else "")
        + (f"Error: {request['error']}\n" if request.get("error") else "")
        + f"\nReview:  parry cases show {case.case_id}\n"
    )
    return Notice(f"undo {outcome}: {case.playbook}", body)


def severity_rose(case: Case, severity: float | None) -> Notice:
    """A more severe finding came on the key of a case Parry is already handling (parry.engine.dedup)."""
    return Notice(
        f"severity rose: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}, {case.status}) got a new finding on the same key with "
        f"severity {severity}, higher than before. It is attached to the case.\n\n"
        f"Review:  parry cases show {case.case_id}\n",
    )


def playbook_blocked(case: Case, reason: str) -> Notice:
    """A runner that may not run the playbook version sealed in the case (see parry.engine.versions)."""
    return Notice(
        f"case blocked: {case.playbook}",
        f"Parry case {case.case_id} ({case.playbook}) did not go on: {reason}\n\n"
        f"Redeploy a runner whose playbook allows it, then:  parry cases resume {case.case_id}\n"
        f"Review:                                            parry cases show {case.case_id}\n",
    )
