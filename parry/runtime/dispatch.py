"""What a verified control request does in its runner: start, decide, undo, resume or continue a case.

Every request that names a case must name the case's own playbook and playbook sha256: the front
door read them from the case, so a mismatch is a request the control plane did not make for it
(ForgedRequest, a security event). What the request may do is decided here and in the engine,
never by what the case table says on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from parry.aws.errors import describe_error
from parry.engine import approvals, versions
from parry.engine import undo as undoing
from parry.engine.run import Engine
from parry.errors import SECURITY_REFUSALS, CaseBusy, ForgedRequest, ParryError, PlaybookNotPermitted, UndoError
from parry.runtime.start_events import finding_event, target_event
from parry.store.model import RUNNING, UNDO_AWAITING, UNDO_PENDING

FRONT_DOOR = "front-door"
# A captured request of these kinds works once. `continue` is left out: Lambda retries the runner's own
# asynchronous continuation after a crash, and a continue only resumes the RUNNING case it names.
SINGLE_USE = frozenset({"start", "undo", "resume"})
# errors a continue after a decision passes on as they are: each already says what happened and what to do
AS_RAISED: tuple[type[ParryError], ...] = (CaseBusy, PlaybookNotPermitted, *SECURITY_REFUSALS)

if TYPE_CHECKING:
    from parry.playbooks.model import Playbook
    from parry.runtime.control_requests import ControlRequest
    from parry.store.model import Case


def carry_out(
    engine: Engine,
    playbook: Playbook,
    request: ControlRequest,
    *,
    remaining_seconds: Callable[[], float] | None,
    lease_seconds: float,
) -> Case:
    """Do what `request` asks of `playbook`'s runner; the case as it stands afterwards."""
    if request.kind in SINGLE_USE:  # a decision spends its nonce in the engine, bound to its gate
        engine.store.use_nonce(request.nonce, case_id=request.case_id or "", gate=f"request:{request.kind}")
    if request.kind == "start":
        return _start(engine, playbook, request, remaining_seconds)
    case = _case_of(engine, playbook, request)
    # the version sealed in the case, checked before anything is decided: a runner that may not run it
    # blocks the case and says why, and the decision is not taken (a denial runs nothing: it is)
    book = playbook if request.kind == "deny" else versions.playbook_for(engine, case, playbook)
    if request.kind in ("approve", "deny"):
        decided = decide(engine, request)
        if (decided.undo_request or {}).get("state") == UNDO_PENDING and (request.gate or "").startswith("undo:"):
            # the second person approved an undo that gives access back: carry it out now
            return _undo_recorded(engine, book, decided.case_id, lease_seconds)
        if decided.status != RUNNING:
            return decided
        return _go_on(
            engine, book, decided.case_id, remaining_seconds, done=f"the approval of {request.gate} is recorded"
        )
    if request.kind == "undo":
        return _undo(engine, book, request, lease_seconds)
    if request.kind == "resume" and case.status != RUNNING:
        raise ParryError(f"case {case.case_id} is {case.status}: only a RUNNING case can be continued")
    if request.kind == "resume":
        return _go_on(engine, book, case.case_id, remaining_seconds)
    return engine.resume(case.case_id, book, remaining_seconds=remaining_seconds)  # Lambda retries a continue


def _go_on(
    engine: Engine, book: Playbook, case_id: str, remaining_seconds: Callable[[], float] | None, *, done: str = ""
) -> Case:
    """Continue the case after what the person decided took effect; if the run fails part-way, the case is
    left RUNNING, its lease free and the decision kept (parry.engine.run), and the error says how it goes on."""
    try:
        return engine.resume(case_id, book, remaining_seconds=remaining_seconds)
    except AS_RAISED:
        raise
    except Exception as exc:
        raise ParryError(
            f"case {case_id} stopped part-way{f' ({done})' if done else ''}: {_why(exc)}. It is RUNNING and goes on from its last "
            f"checkpoint with `parry cases resume {case_id}`, or by itself at the next maintenance sweep"
        ) from exc


def _undo_recorded(engine: Engine, book: Playbook, case_id: str, lease_seconds: float) -> Case:
    """Carry out the undo request recorded in the case; one that fails part-way stays pending, to be
    carried on by asking again."""
    try:
        return undoing.carry_out(engine, case_id, playbook=book.name, lease_seconds=lease_seconds)
    except (CaseBusy, UndoError):
        raise
    except Exception as exc:
        raise ParryError(
            f"the undo of case {case_id} stopped part-way: {_why(exc)}. The request is recorded and still "
            f"pending; `parry undo {case_id}` carries it on from the last step undone"
        ) from exc


def _why(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ParryError) else describe_error(exc)


def decide(engine: Engine, request: ControlRequest) -> Case:
    """The engine's decision on the paused case by the verified requester, bound to the request's gate,
    the case's playbook sha256 and the request's nonce (single use): the one place it is called."""
    decision = approvals.Decision(
        kind=request.kind,
        gate=request.gate or "",
        playbook_sha256=request.playbook_sha256 or "",
        nonce=request.nonce,
        by=request.requested_by,
        reason=request.reason,
    )
    return approvals.decide(engine, request.case_id or "", decision)


def _start(
    engine: Engine, playbook: Playbook, request: ControlRequest, remaining_seconds: Callable[[], float] | None
) -> Case:
    if request.finding_id:
        event = finding_event(engine.aws, request.finding_id)
    else:
        account = engine.aws.client("sts").get_caller_identity()["Account"]
        event = target_event(playbook, request, account, engine.aws.region)
    return engine.run(
        playbook,
        event,
        manual=True,
        remaining_seconds=remaining_seconds,
        requested_by=request.requested_by,
        requested_via=FRONT_DOOR,
        new_case=request.new_case,
    )


def _case_of(engine: Engine, playbook: Playbook, request: ControlRequest) -> Case:
    """The case the request names, if it is this playbook's at the sha the request was made for."""
    if not request.case_id:
        raise ForgedRequest(f"a {request.kind} request must name its case")
    case = engine.store.get(request.case_id)
    if case.playbook != playbook.name:
        raise ForgedRequest(f"case {case.case_id} belongs to playbook {case.playbook}, not {playbook.name}")
    if request.playbook_sha256 != case.playbook_sha256:
        raise ForgedRequest(f"the request was made for another version of case {case.case_id}'s playbook")
    return case


def _undo(engine: Engine, playbook: Playbook, request: ControlRequest, lease_seconds: float) -> Case:
    """Record the verified requester's undo in the case, then carry it out under the case's lease."""
    case_id = request.case_id or ""
    try:
        undoing.request_undo(
            engine,
            case_id,
            step_id=request.step_id,
            who=request.requested_by,
            reason=request.reason,
            partial=request.partial,
        )
    except UndoError:
        if (engine.store.get(case_id).undo_request or {}).get("state") != UNDO_PENDING:
            raise
        # one is pending already (a delivery that died half-way): carry that one out, under the lease
    asked = engine.store.get(case_id)
    if (asked.undo_request or {}).get("state") == UNDO_AWAITING:
        return asked  # it gives access back: it waits for someone else's approval at its gate
    return _undo_recorded(engine, playbook, case_id, lease_seconds)
