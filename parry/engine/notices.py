"""What Parry tells the on-call, and how: a case waiting for approval, a blocked case, a change that
did not hold or a capture that took only part, an expired approval, the outcome of an undo the
runner carried out.

Each message names the case and the commands that act on it, so the on-call can answer from the
notification alone. They go to Parry's topic whether or not the playbook has a notify step.

Parry writes the prose; every value from a case (a reason, an error naming a resource, who asked)
is JSON on its own line (`parry.actions.notify.quoted`), so no value can add a line that reads as
Parry's, and subjects keep printable ASCII only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from parry.actions.notify import quoted, subject_line, token
from parry.store import model as cs
from parry.store.step_result import NOT_CONTAINED

if TYPE_CHECKING:
    from parry.aws.clients import ClientFactory
    from parry.engine.vanished import Vanished
    from parry.store.model import Case
    from parry.store.step_result import StepResult


class Notice(NamedTuple):
    subject: str
    body: str


def tell(aws: ClientFactory, topic_arn: str | None, subject: str, body: str) -> None:
    """Publish to Parry's topic, when one is configured."""
    if topic_arn:
        aws.client("sns").publish(TopicArn=topic_arn, Subject=subject_line(f"[Parry] {subject}"), Message=body)


def _about(case: Case, **values: Any) -> str:
    """The case, its playbook and then each value, one quoted line each, after a blank line."""
    lines = [quoted("Case", case.case_id), quoted("Playbook", case.playbook)]
    lines += [quoted(label.replace("_", " ").capitalize(), value) for label, value in values.items()]
    return "\n".join(lines) + "\n\n"


def approval_needed(case: Case, reason: str) -> Notice:
    case_id = token(case.case_id)
    return Notice(
        f"approval needed: {case.playbook}",
        "A Parry case is waiting for approval.\n"
        + _about(case, reason=reason)
        + f'Approve:  parry approve {case_id} --reason "..."\n'
        f'Deny:     parry deny {case_id} --reason "..."\n'
        f"Review:   parry cases show {case_id}\n",
    )


def case_vanished(gone: Vanished) -> Notice:
    """A case whose record someone deleted from the case table (parry.engine.vanished)."""
    return Notice(
        "case record deleted",
        "A Parry case is gone from the case table while its evidence remains: someone who can write the\n"
        "table deleted it. Nothing continues, expires or lists it until it is looked into.\n\n"
        + "\n".join([quoted("Case", gone.case_id), quoted("Account", gone.account), quoted("Evidence", gone.folder)])
        + "\n\n"
        + f"Check its evidence:  parry evidence verify {token(gone.case_id)}\n",
    )


def more_cases_vanished(count: int) -> Notice:
    """The cases deleted from the table beyond those one sweep tells one by one."""
    return Notice(
        "case records deleted",
        f"{count} more Parry cases are gone from the case table while their evidence remains.\n"
        "The maintenance function's log names each (a security event a case); so does:  parry cases expire\n",
    )


def case_blocked(case: Case, step_id: str, error: str) -> Notice:
    case_id = token(case.case_id)
    return Notice(
        f"case blocked: {case.playbook}",
        "A Parry case stopped before a step.\n"
        + _about(case, step=step_id, error=error)
        + f"Once fixed, continue it:  parry cases resume {case_id}\n"
        f"Review:                   parry cases show {case_id}\n",
    )


def step_short(case: Case, result: StepResult) -> Notice:
    """A step that fell short: its change does not hold (NOT_CONTAINED), or its capture is PARTIAL."""
    partial = result.status != NOT_CONTAINED
    what = "took only part of its evidence" if partial else "was applied, but containment does not hold"
    return Notice(
        f"{'partial capture' if partial else 'NOT contained'}: {case.playbook}",
        f"A step of a Parry case {what}; still open:\n"
        + _about(case, step=result.step_id, action=result.action, unmet=list(result.unmet))
        + ("" if partial else "Contain what is still open by hand, then check it.\n")
        + f"Review:  parry cases show {token(case.case_id)}\n",
    )


def approval_expired(case: Case, step_id: str | None) -> Notice:
    return Notice(
        f"approval expired: {case.playbook}",
        f"A Parry case waited for approval of a step until its window passed: it is closed as {cs.EXPIRED}, "
        "and that step and those after it did not run.\n"
        + _about(case, step=step_id)
        + f"Review:  parry cases show {token(case.case_id)}\n",
    )


def undo_finished(case: Case, request: dict[str, Any]) -> Notice:
    """The outcome of the undo request `request` (see parry.engine.undo.carry_out), step by step."""
    steps = [
        [h["step"], h["status"], *([h["error"]] if h.get("error") else [])]
        for h in case.history
        if h.get("kind") == "undo" and h.get("request") == request["id"]
    ]
    outcome = "failed" if request["state"] == cs.UNDO_FAILED else "done"
    details: dict[str, Any] = {"asked_by": request["by"], "reason": request.get("reason") or "", "status": case.status}
    details |= {"steps": steps} if steps else {}
    details |= {"error": request["error"]} if request.get("error") else {}
    return Notice(
        f"undo {outcome}: {case.playbook}",
        f"Parry undo {outcome}.\n" + _about(case, **details) + f"Review:  parry cases show {token(case.case_id)}\n",
    )


def severity_rose(case: Case, severity: float | None) -> Notice:
    """A more severe finding came on the key of a case Parry is already handling (parry.engine.dedup)."""
    return Notice(
        f"severity rose: {case.playbook}",
        "A Parry case got a new finding on the same key, more severe than before. It is attached to the case.\n"
        + _about(case, status=case.status, severity=severity)
        + f"Review:  parry cases show {token(case.case_id)}\n",
    )


def playbook_blocked(case: Case, reason: str) -> Notice:
    """A runner that may not run the playbook version sealed in the case (see parry.engine.versions)."""
    case_id = token(case.case_id)
    return Notice(
        f"case blocked: {case.playbook}",
        "A Parry case did not go on: this runner may not run the playbook version it was sealed with.\n"
        + _about(case, reason=reason)
        + f"Redeploy a runner whose playbook allows it, then:  parry cases resume {case_id}\n"
        f"Review:                                            parry cases show {case_id}\n",
    )
