"""The control plane: the on-call engineer's decisions on a case (approve, deny, undo, resume,
expire), whichever front end asks (the CLI today).

Against AWS, what must act in an account is asked of the playbook's runner by a run request on
the default bus (the runner's role may act in member accounts; the caller may not); against a
local endpoint (`parry local`) there is no runner to ask, so it runs here, through the same code.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parry.aws.endpoints import is_local
from parry.aws.errors import describe_error
from parry.engine import approvals
from parry.engine import undo as undoing
from parry.errors import ParryError
from parry.runtime.in_process import run_in_process
from parry.runtime.requests import RunRequest
from parry.store.model import RUNNING

if TYPE_CHECKING:
    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.store.model import Case


def runners_deployed() -> bool:
    """Whether the playbooks' runners are there to ask: any endpoint but a local one (`parry local`)."""
    return not is_local()


@dataclass(frozen=True)
class Outcome:
    """The case as it stands after a decision, and the run request sent to its runner, if one was
    (the runner then carries on asynchronously: the case shows what it did)."""

    case: dict[str, Any]
    sent: RunRequest | None = None


@dataclass
class ControlPlane:
    """Decisions on the cases of `engine`'s store. `playbook` gives a playbook by name, for the
    runs made here against a local endpoint; `deployed` says whether runners are there to ask."""

    engine: Engine
    playbook: Callable[[str], Playbook]
    deployed: bool = field(default_factory=runners_deployed)

    def approve(self, case_id: str, *, reason: str = "") -> Outcome:
        """Approve the paused step of a case; the case continues from there."""
        return self._continue(
            approvals.decide(self.engine, case_id, self._decision(approvals.APPROVE, case_id, reason))
        )

    def deny(self, case_id: str, *, reason: str = "") -> Outcome:
        """Deny the paused step: the case closes and nothing more runs."""
        return Outcome(
            approvals.decide(self.engine, case_id, self._decision(approvals.DENY, case_id, reason)).as_dict()
        )

    def _decision(self, kind: str, case_id: str, reason: str) -> approvals.Decision:
        """The caller's decision at the gate the case waits at now."""
        case = self.engine.store.get(case_id)
        gate = str((case.awaiting or {}).get("gate", ""))
        by = approvals.caller_identity(self.engine.aws)
        return approvals.Decision(kind, gate, case.playbook_sha256, uuid.uuid4().hex, by, reason)

    def resume(self, case_id: str) -> Outcome:
        """Continue a RUNNING case from the step it stopped at (e.g. blocked until a member account was set up)."""
        case = self.engine.store.get(case_id)
        if case.status != RUNNING:
            raise ParryError(f"case {case_id} is {case.status}: only a RUNNING case can be continued")
        return self._continue(case)

    def undo(self, case_id: str, *, step: str | None = None, reason: str = "", partial: bool = False) -> Outcome:
        """Undo a case's changes in reverse order (or one step), as the caller, recorded in the case.

        Deployed, the request is recorded in the case, then sent to the playbook's runner, which
        carries it out; a request that cannot be sent is withdrawn (audited), so it can be asked again.
        """
        who = approvals.caller_identity(self.engine.aws)
        if not self.deployed:
            return Outcome(
                undoing.undo(self.engine, case_id, step_id=step, who=who, reason=reason, partial=partial).as_dict()
            )
        case = undoing.request_undo(self.engine, case_id, step_id=step, who=who, reason=reason, partial=partial)
        request = RunRequest(case.playbook, undo_case=case.case_id)
        try:
            self._send(request)
        except Exception as exc:
            error = str(exc) if isinstance(exc, ParryError) else describe_error(exc)
            undoing.withdraw(self.engine, case, error)
            raise ParryError(
                f"the undo request of case {case_id} could not be sent ({error}): it is withdrawn; ask again"
            ) from exc
        return Outcome(self.engine.store.get(case_id).as_dict(), request)

    def expire(self) -> list[str]:
        """Close every case whose approval window has passed (closed-unapproved); their ids."""
        return approvals.expire_overdue(self.engine)

    def _continue(self, case: Case) -> Outcome:
        request = RunRequest(case.playbook, continue_case=case.case_id)
        if not self.deployed:
            return Outcome(run_in_process(request.as_event(), self.playbook(case.playbook), self.engine))
        self._send(request)
        return Outcome(self.engine.store.get(case.case_id).as_dict(), request)

    def _send(self, request: RunRequest) -> None:
        """Put the request on the default bus; ParryError when EventBridge did not take it."""
        resp = self.engine.aws.client("events").put_events(Entries=[request.as_entry()])
        if resp.get("FailedEntryCount"):
            failed = (resp.get("Entries") or [{}])[0]
            raise ParryError(
                f"EventBridge did not take the request: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            )
