"""The runner Lambda: run this function's playbook on an AWS service event, or carry out a sealed
control request (parry.runtime.dispatch) once it verifies; refuse anything else as a security event;
emit metrics. Nothing else.

Local runs (`parry run`, `parry demo`) go through this same code in-process (parry.runtime.in_process),
so the local path is the Lambda path. Powertools and the engine are made on first use, keeping the
import of the Lambda's handler cheap.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from parry.runtime.dimensions import set_playbook

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from parry.engine.run import Engine
    from parry.playbooks.model import Playbook
    from parry.store.model import Case

# The folder that holds the `parry` package: in the Lambda asset its root, where the compiled
# playbooks sit in playbooks/ (stacks/asset.py puts them there).
DEFAULT_PLAYBOOKS_DIR = Path(__file__).resolve().parents[2] / "playbooks"


PARRY_SOURCE = "parry"
ACCOUNT_ID = re.compile(r"\d{12}")


class Refusal(TypedDict):
    """A request refused: REFUSED for a security event, ERROR for one that verified but cannot be done."""

    status: str
    error: str


class Rejected(TypedDict):
    finding: str
    error: str


class Selection(TypedDict):
    """What a Security Hub custom action's run answers: one case per finding that ran, and why the others did not."""

    cases: list[dict[str, Any]]
    errors: list[Rejected]


class Summary(TypedDict):
    case_id: str
    status: str
    duplicate: bool
    error: NotRequired[str]  # why a REFUSED request changed nothing


class SelectionSummary(TypedDict):
    cases: list[Summary]
    errors: list[Rejected]


class Runner:
    """One runner function and what it makes on its first invocation (the powertools logger and
    metrics, the engine, its compiled playbook), kept while its container is warm."""

    def __init__(self) -> None:
        self._playbooks: dict[Path, Playbook] = {}

    @cached_property
    def tools(self) -> tuple[Logger, Metrics]:
        from aws_lambda_powertools import Logger, Metrics

        return Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "parry")), Metrics(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Parry"), service="parry"
        )

    @cached_property
    def engine(self) -> Engine:
        from parry.aws.clients import ClientFactory
        from parry.config import Settings
        from parry.engine.run import Engine

        return Engine(ClientFactory(), Settings.from_env())

    def _engine(self, engine: Engine | None, context: LambdaContext | None) -> Engine:
        """The engine to run with, told the account it runs in by the function's own ARN when there is one."""
        chosen = engine or self.engine
        arn = getattr(context, "invoked_function_arn", None)
        parts = arn.split(":") if isinstance(arn, str) else []
        if len(parts) > 4 and parts[2] == "lambda" and ACCOUNT_ID.fullmatch(parts[4]):
            chosen.runs_in(parts[4])
        return chosen

    def handler(self, event: dict[str, Any], context: LambdaContext) -> Summary | SelectionSummary | Refusal:
        """The Lambda entry point: a Security Hub custom action runs per finding, any other event once."""
        from parry.routing.custom_actions import is_custom_action

        if is_custom_action(event):
            result = self.run_selection(event, context)
            return {"cases": [_summary(c) for c in result["cases"]], "errors": result["errors"]}
        case = self.run(event, context)
        return _summary(case) if "case_id" in case else {"status": case["status"], "error": case["error"]}

    def run(
        self,
        event: dict[str, Any],
        context: LambdaContext | None = None,
        *,
        playbook_name: str | None = None,
        playbooks_dir: str | None = None,
        engine: Engine | None = None,
    ) -> dict[str, Any]:
        """Run the playbook on one AWS service event, or carry out the sealed control request it is.

        The case as a dict; a request that is refused answers `{"status": "REFUSED" | "ERROR", "error"}`.
        Any other `source: parry` event (a forged run request, whatever way it came) is a security
        event and changes nothing. A Security Hub custom action goes to `run_selection`.
        """
        from parry.errors import CaseBusy, EventError, FindingNotAuthentic, ParryError
        from parry.routing.custom_actions import is_custom_action
        from parry.routing.events import check_envelope
        from parry.runtime.control_requests import is_sealed

        name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
        logger, metrics = self._tools_for(name)
        try:
            playbook = self._load(name, playbooks_dir)
            if is_sealed(event):
                return dict(self._control(playbook, event, self._engine(engine, context), context))
            if isinstance(event, dict) and event.get("source") == PARRY_SOURCE:
                reason = "a source: parry event that is not a sealed control request: only the front door starts a run"
                return dict(self._security_event(name, reason, event))
            checked = check_envelope(event)  # anything else is refused by name
            if is_custom_action(checked):
                raise EventError(
                    "a Security Hub custom action runs once per selected finding: pass it to run_selection"
                )
            return self._run_one(playbook, checked, self._engine(engine, context), context).as_dict()
        except CaseBusy as exc:
            # another invocation holds the case (or died holding it): fail, so Lambda retries after its lease
            logger.warning("case busy", extra={"playbook": name, "reason": str(exc)})
            metrics.add_metric(name="DeferredDeliveries", unit="Count", value=1)
            metrics.flush_metrics()
            raise
        except FindingNotAuthentic as exc:
            # a finding its service does not confirm: nothing ran, and a retry cannot make it authentic
            return {"case_id": "", "duplicate": False, **self._security_event(name, str(exc), event)}
        except ParryError as exc:
            # a malformed or unexpected event: say why, count it, and fail so it lands in the DLQ (never retried forever)
            self._reject(name, str(exc), event)
            raise

    def run_selection(
        self,
        event: dict[str, Any],
        context: LambdaContext | None = None,
        *,
        playbook_name: str | None = None,
        playbooks_dir: str | None = None,
        engine: Engine | None = None,
    ) -> Selection:
        """A Security Hub custom action: run the playbook on each selected finding (manual=True).

        Each finding gets its own case (a finding Parry already handled answers with its existing
        case), one that cannot be read or run is logged by name, counted (`RejectedFindings`) and
        listed in `errors`, and the others still run.

        When no finding can run, the event is rejected (logged, `RejectedEvents`) and this *returns*:
        an analyst clicked a button, and the answer (finding deleted, GuardDuty off, access denied) will
        not change if Lambda asks twice more; raising would only repeat the calls and then put the
        event in the DLQ, whose alarm means "an event waits to be redriven", which would not help here.
        A busy case, or GuardDuty throttled or failing, does raise: a retry can succeed, and the
        findings that already ran answer with their cases.
        """
        from parry.errors import CaseBusy, FindingNotAuthentic, ParryError
        from parry.routing.custom_actions import selected_events
        from parry.routing.events import check_envelope

        name = playbook_name or os.environ.get("PARRY_PLAYBOOK", "")
        logger, metrics = self._tools_for(name)
        engine = self._engine(engine, context)
        try:
            playbook = self._load(name, playbooks_dir)
            selected = selected_events(check_envelope(event), engine.aws)
        except ParryError as exc:
            self._reject(name, str(exc), event)
            raise
        cases: list[dict[str, Any]] = []
        errors: list[Rejected] = []
        for finding in selected:
            reason = finding.error or "no event to run on"
            if finding.event is not None:
                try:
                    case = self._run_one(
                        playbook, finding.event, engine, context, manual=True, read=finding.read_from_service
                    )
                    cases.append(case.as_dict())
                    continue
                except CaseBusy:
                    raise  # as for any event: Lambda retries after the lease, the others answer with their cases
                except FindingNotAuthentic as exc:
                    reason = str(exc)
                    self._security_event(name, reason, event)
                except ParryError as exc:
                    reason = str(exc)
            logger.error(
                "finding rejected",
                extra={"playbook": name, "finding": finding.finding_id[:500], "reason": reason[:2000]},
            )
            errors.append({"finding": finding.finding_id, "error": reason})
        if errors:
            metrics.add_metric(name="RejectedFindings", unit="Count", value=len(errors))
        if not cases:
            reasons = "; ".join(e["error"] for e in errors)
            self._reject(name, f"none of the {len(selected)} selected finding(s) can run: {reasons}", event)
        elif errors:
            metrics.flush_metrics()
        return {"cases": cases, "errors": errors}

    def _tools_for(self, playbook: str) -> tuple[Logger, Metrics]:
        """The logger and metrics, every metric dimensioned by this function's playbook (rejections too)."""
        logger, metrics = self.tools
        set_playbook(metrics, playbook)
        return logger, metrics

    def _load(self, name: str, directory: str | None) -> Playbook:
        from parry.playbooks.model import load_compiled

        path = Path(directory or os.environ.get("PARRY_PLAYBOOKS_DIR") or DEFAULT_PLAYBOOKS_DIR) / f"{name}.json"
        if path not in self._playbooks:
            self._playbooks[path] = load_compiled(path)
        return self._playbooks[path]

    def _reject(self, name: str, reason: str, event: Any) -> None:
        logger, metrics = self.tools
        logger.error("event rejected", extra={"playbook": name, "reason": reason[:2000], "event_id": _event_id(event)})
        metrics.add_metric(name="RejectedEvents", unit="Count", value=1)
        metrics.flush_metrics()

    def _run_one(
        self,
        playbook: Playbook,
        event: dict[str, Any],
        engine: Engine,
        context: LambdaContext | None,
        *,
        manual: bool = False,
        read: bool = False,
    ) -> Case:
        """Run the playbook on one AWS service event (`manual`: a custom action's; `read`: just read from its
        service); with its metrics and log line."""
        case = engine.run(playbook, event, manual=manual, remaining_seconds=_remaining(context), read_from_service=read)
        return self._finished(playbook, case, engine, context)

    def _control(
        self, playbook: Playbook, payload: dict[str, Any], engine: Engine, context: LambdaContext | None
    ) -> Refusal | dict[str, Any]:
        """Verify a sealed control request and carry it out (parry.runtime.dispatch); the case as a dict.

        A request that does not verify is a security event. One that verifies but cannot be done
        (the case is not waiting, nothing to undo) answers with the reason, to the person who asked.
        Neither raises: asking again gives the same answer.
        """
        from parry.engine.run import LOCAL_LEASE_SECONDS
        from parry.errors import SECURITY_REFUSALS, CaseBusy, ParryError
        from parry.runtime.control_requests import CONTINUATION_KEY, REQUEST_KEY, open_request
        from parry.runtime.dispatch import carry_out

        logger, _ = self.tools
        keys = {REQUEST_KEY: engine.settings.request_key_id, CONTINUATION_KEY: engine.settings.continuation_key_id}
        lease = (context.get_remaining_time_in_millis() / 1000 + 5.0) if context is not None else LOCAL_LEASE_SECONDS
        try:
            request = open_request(payload, engine.aws.client("kms"), keys, engine.clock(), playbook.name)
        except SECURITY_REFUSALS as exc:
            return self._security_event(playbook.name, str(exc), payload)
        try:
            case = carry_out(engine, playbook, request, remaining_seconds=_remaining(context), lease_seconds=lease)
        except SECURITY_REFUSALS as exc:
            return self._security_event(playbook.name, str(exc), payload, requested_by=request.requested_by)
        except CaseBusy:
            raise
        except ParryError as exc:
            logger.warning(
                "request refused",
                extra={"playbook": playbook.name, "kind": request.kind, "case_id": request.case_id, "reason": str(exc)},
            )
            return {"status": "ERROR", "error": str(exc)}
        logger.info("control request", extra={"kind": request.kind, "requested_by": request.requested_by})
        return self._finished(playbook, case, engine, context, undo=request.kind == "undo").as_dict()

    def _security_event(self, name: str, reason: str, event: Any, *, requested_by: str | None = None) -> Refusal:
        """A request nobody trustworthy made: one log line, one SecurityRejections, nothing changed."""
        logger, metrics = self._tools_for(name)
        logger.warning(
            "security event",
            extra={
                "security_event": True,
                "reason": reason[:2000],
                "playbook": name,
                "event_id": _event_id(event),
                "requested_by": requested_by,
            },
        )
        metrics.add_metric(name="SecurityRejections", unit="Count", value=1)
        metrics.flush_metrics()
        return {"status": "REFUSED", "error": reason}

    def _finished(
        self, playbook: Playbook, case: Case, engine: Engine, context: LambdaContext | None, *, undo: bool = False
    ) -> Case:
        """Emit a run's (or an undo's) metrics and log line; near the deadline, ask for its continuation."""
        logger, metrics = self.tools
        if engine.kill_switch.failing:  # this run was a dry run because the switch could not be read
            metrics.add_metric(name="KillSwitchUnreadable", unit="Count", value=1)
        if undo:
            request = case.undo_request or {}
            if not case.duplicate:
                metrics.add_metric(name="Undos", unit="Count", value=1)
                if request.get("state") == "failed":
                    metrics.add_metric(name="Failures", unit="Count", value=1)
            metrics.flush_metrics()
            logger.info(
                "undo",
                extra={
                    "case_id": case.case_id,
                    "status": case.status,
                    "request": request.get("id"),
                    "state": request.get("state"),
                },
            )
            return case
        metrics.add_metric(name="Runs", unit="Count", value=1)
        if case.status in ("FAILED", "COMPLETED_WITH_ERRORS") or case.blocked:
            metrics.add_metric(name="Failures", unit="Count", value=1)
        for step in case.steps:
            metrics.add_metric(name="StepDuration", unit="Milliseconds", value=step.duration_ms)
        latency = _containment_latency(case.event or {}, case)
        if latency is not None and not case.duplicate:
            metrics.add_metric(name="ContainmentLatency", unit="Seconds", value=latency)
        metrics.flush_metrics()
        logger.info("case", extra={"case_id": case.case_id, "status": case.status, "duplicate": case.duplicate})
        if case.continue_later and context is not None:  # only the run that stopped for its deadline continues it
            self._continue_later(context, case, engine)
        return case

    def _continue_later(self, context: LambdaContext, case: Case, engine: Engine) -> None:
        """Near the deadline: invoke this function again, asynchronously, with a `continue` sealed by
        the continuation key (only the runners hold it; it can resume this case, nothing else)."""
        from parry.errors import ConfigError
        from parry.runtime.control_requests import CONTINUATION_KEY, ControlRequest, seal

        key_id = engine.settings.continuation_key_id
        if not key_id:
            raise ConfigError("set PARRY_CONTINUATION_KEY_ID: a case stopped near the deadline cannot be continued")
        request = ControlRequest.issue(
            "continue",
            case.playbook,
            context.invoked_function_arn,
            engine.clock(),
            case_id=case.case_id,
            playbook_sha256=case.playbook_sha256,
        )
        engine.aws.client("lambda").invoke(
            FunctionName=context.invoked_function_arn,
            InvocationType="Event",
            Payload=json.dumps(seal(request, engine.aws.client("kms"), key_id, CONTINUATION_KEY)).encode(),
        )


def _remaining(context: LambdaContext | None) -> Callable[[], float] | None:
    return (lambda: context.get_remaining_time_in_millis() / 1000) if context is not None else None


def _event_id(event: Any) -> str | None:
    """The event id for a log line, only when it is a plain string (a hostile event may nest anything)."""
    event_id = event.get("id") if isinstance(event, dict) else None
    return event_id[:200] if isinstance(event_id, str) else None


def _containment_latency(event: dict[str, Any], case: Case) -> float | None:
    """Seconds from the finding's updatedAt to the end of the first mutating step that succeeded."""
    from datetime import datetime

    detail = event.get("detail") or {}
    stamp = detail.get("updatedAt") or detail.get("eventTime") or event.get("time")
    if not isinstance(stamp, str):
        return None
    done = [s for s in case.steps if s.status == "succeeded" and s.after is not None]
    if not stamp or not done:
        return None
    try:
        start = datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return max(0.0, done[0].started_at + done[0].duration_ms / 1000 - start)


def _summary(case: dict[str, Any]) -> Summary:
    summary: Summary = {"case_id": case["case_id"], "status": case["status"], "duplicate": case["duplicate"]}
    if "error" in case:
        summary["error"] = case["error"]
    return summary
